"""The parameters a layer type declares: their kinds, defaults and aliases, and how a spec's
values are checked and normalised (sizes to per-dimension tuples, padding to (begin, end) pairs)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import LayerError

REQUIRED = object()


_SHAPE = re.compile(r"\s*\d+(?:\s*[xX×]\s*\d+)*\s*")


MAX_DIGITS = 4000  # Python refuses to read longer integers from text (sys.get_int_max_str_digits)


def shape_text(value: str) -> list[int] | None:
    """'227x227x3' (also 'X' or '×', spaces allowed around the parts) as [227, 227, 3], else None.
    Parts longer than MAX_DIGITS digits are not read (None), so no text can make int() fail."""
    if len(value) > 3 * MAX_DIGITS or not _SHAPE.fullmatch(value):
        return None
    if any(len(part.strip()) > MAX_DIGITS for part in re.split(r"[xX×]", value)):
        return None
    return [int(part) for part in re.split(r"[xX×]", value)]


@dataclass(frozen=True)
class Param:
    """A parameter a layer type declares: its kind (how values are checked, see `check_value`), its
    default (REQUIRED if it has none), the other names the frameworks give it, and a line of doc."""

    kind: str
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    doc: str = ""
    choices: tuple[Any, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _finite(v: int | float) -> bool:
    """Not NaN or an infinity, and within a float's range (an int of 400 digits is not)."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _ints(value: Any, n: int, what: str, minimum: int) -> tuple[int, ...]:
    """An int, a list of n ints, or an 'AxB' string, as an n-tuple."""
    if type(value) is int:  # the common case, checked first (messages as below)
        if value < minimum:
            raise LayerError(f"{what} must be ≥ {minimum}, got {[value] * n!r}", "invalid-value")
        return (value,) * n
    if isinstance(value, str):
        value = shape_text(value) or value
    if _is_int(value):
        value = [value] * n
    if isinstance(value, (list, tuple)) and len(value) == 1 and n > 1:
        value = list(value) * n
    if not isinstance(value, (list, tuple)) or len(value) != n or not all(_is_int(v) for v in value):
        raise LayerError(f"{what} must be an integer or a list of {n} integers, got {value!r}", "invalid-value")
    if any(v < minimum for v in value):
        raise LayerError(f"{what} must be ≥ {minimum}, got {value!r}", "invalid-value")
    return tuple(value)


def check_value(name: str, p: Param, value: Any, ndim: int) -> Any:
    """Validate and normalise one parameter value; raises LayerError(key=name)."""
    try:
        return _check(name, p, value, ndim)
    except LayerError as exc:
        exc.key = name
        raise


def _check(name: str, p: Param, value: Any, ndim: int) -> Any:
    k = p.kind
    if k == "count":
        if not _is_int(value) or value < 1:
            raise LayerError(f"{name} must be a positive integer, got {value!r}", "invalid-value")
        return value
    if k == "nonneg":
        if not _is_int(value) or value < 0:
            raise LayerError(f"{name} must be an integer ≥ 0, got {value!r}", "invalid-value")
        return value
    if k == "int":
        if not _is_int(value):
            raise LayerError(f"{name} must be an integer, got {value!r}", "invalid-value")
        return value
    if k == "size":
        return _ints(value, ndim, name, 1)
    if k == "size0":
        return _ints(value, ndim, name, 0)
    if k == "padding":
        if isinstance(value, str) and value.lower() in p.choices:  # a word only some types take (causal)
            return value.lower()
        return parse_padding(value, ndim, name)
    if k == "sides":
        return parse_sides(value, ndim, name)
    if k == "tpadding":  # transposed conv: 'valid' keeps its Keras meaning, which differs from 0
        if isinstance(value, str) and value.lower() == "valid":
            return "valid"
        return parse_padding(value, ndim, name)
    if k == "bias":
        if isinstance(value, bool):
            return value
        if value in ("per_position", "per-position"):
            return "per_position"
        raise LayerError(f"{name} must be true, false or per_position, got {value!r}", "invalid-value")
    if k == "bool":
        if not isinstance(value, bool):
            raise LayerError(f"{name} must be true or false, got {value!r}", "invalid-value")
        return value
    if k == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise LayerError(f"{name} must be a finite number, got {value!r}", "invalid-value")
        return float(value)
    if k == "rate":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise LayerError(f"{name} must be a number in [0, 1), got {value!r}", "invalid-value")
        return float(value)
    if k == "name":
        if not isinstance(value, str) or not value.strip():
            raise LayerError(f"{name} must be a name, got {value!r}", "invalid-value")
        return value.strip()
    if k == "choice":
        if value not in p.choices:
            raise LayerError(f"{name} must be one of {', '.join(map(str, p.choices))}; got {value!r}",
                             "invalid-value")
        return value
    if k == "ints":  # one integer or a list of them (axes, sizes); the rule checks their range and count
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not all(_is_int(v) for v in items):
            raise LayerError(f"{name} must be an integer or a list of integers, got {value!r}", "invalid-value")
        return tuple(items)
    if k == "numbers":  # one number or a list of them (per-channel values, scale factors)
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            raise LayerError(f"{name} must be a number or a list of numbers, got {value!r}", "invalid-value")
        return tuple(float(v) for v in items)
    if k == "shape":
        if not isinstance(value, (list, tuple)) or not value or not all(_is_int(v) for v in value):
            raise LayerError(f"{name} must be a list of integers, got {value!r}", "invalid-value")
        if any(v == 0 or v < -1 for v in value) or list(value).count(-1) > 1:
            raise LayerError(f"{name} takes positive sizes and at most one -1, got {value!r}", "invalid-value")
        return tuple(value)
    if k == "axes":  # Keras-style axis numbers, the batch axis being 0; [] is a list of none
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) and v >= 1 for v in value):
            raise LayerError(f"{name} must be a list of axis numbers ≥ 1 (the batch axis is 0), got {value!r}",
                             "invalid-value")
        if len(set(value)) != len(value):
            raise LayerError(f"{name} names an axis twice: {value!r}", "invalid-value")
        return tuple(sorted(value))
    raise AssertionError(f"unknown param kind {k}")  # pragma: no cover - registry bug


def parse_padding(value: Any, ndim: int, name: str = "padding") -> Any:
    """'same', or per-dim (begin, end) pairs. Accepts int, [p]*ndim, [b, e]*ndim sides, one [b, e] pair
    per dim, 'valid'."""
    if isinstance(value, str):
        low = value.lower()
        if low == "same":
            return "same"
        if low == "valid":
            return tuple((0, 0) for _ in range(ndim))
    if _is_int(value):
        value = [value]
    if (isinstance(value, (list, tuple)) and len(value) == ndim  # Keras's ((top, bottom), (left, right))
            and all(isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_int(e) for e in v) for v in value)):
        value = [e for pair in value for e in pair]
    if isinstance(value, (list, tuple)) and all(_is_int(v) for v in value):
        if any(v < 0 for v in value):
            raise LayerError(f"{name} must be ≥ 0, got {value!r}", "invalid-value")
        if len(value) == 1:
            return tuple((value[0], value[0]) for _ in range(ndim))
        if len(value) == ndim:
            return tuple((v, v) for v in value)
        if len(value) == 2 * ndim:
            return tuple((value[2 * i], value[2 * i + 1]) for i in range(ndim))
    if (isinstance(value, (list, tuple)) and len(value) == ndim and all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 and all(_is_int(v) for v in pair) for pair in value)):
        if any(v < 0 for pair in value for v in pair):
            raise LayerError(f"{name} must be ≥ 0, got {value!r}", "invalid-value")
        return tuple((pair[0], pair[1]) for pair in value)
    sides = {2: "[top, bottom, left, right]", 3: "[front, back, top, bottom, left, right]"}.get(ndim, "[begin, end]")
    raise LayerError(
        f"{name} must be an integer, a list of {ndim} integers, {sides}, a [begin, end] pair per dimension, "
        f"'same' or 'valid'; got {value!r}", "invalid-value")


def parse_sides(value: Any, ndim: int, name: str = "padding") -> tuple[tuple[int, int], ...]:
    """A padding layer's (begin, end) pairs. PyTorch's pad layers take a flat list last dimension first
    (left, right, top, bottom), Keras's and cnncalc's go first dimension first: a flat list of both
    sides of two or more dims whose readings differ is refused, and pairs per dim are asked for."""
    if isinstance(value, str):
        raise LayerError(f"{name} of a padding layer must be sizes, not {value!r}", "invalid-value")
    if ndim > 1 and isinstance(value, (list, tuple)) and len(value) == 2 * ndim and all(_is_int(v) for v in value):
        pairs = [[value[2 * i], value[2 * i + 1]] for i in range(ndim)]
        if pairs != pairs[::-1]:
            raise LayerError(
                f"{name} {list(value)} reads two ways: PyTorch's pad layers take the last dimension first "
                f"({_SIDES[ndim][1]}), Keras's and cnncalc's the first ({_SIDES[ndim][0]}); write one [begin, end] "
                f"pair per dimension: {pairs} as Keras reads it, or {pairs[::-1]} as PyTorch does", "invalid-value")
    return parse_padding(value, ndim, name)


_SIDES = {2: ("top, bottom, left, right", "left, right, top, bottom"),
          3: ("front, back, top, bottom, left, right", "left, right, top, bottom, front, back")}
