"""What every layer type provides, and the parameter kinds layers declare.

A layer type is a small class: its parameters (with aliases and defaults), how many inputs
it takes, and one `infer` method that maps input tensors to an `Out` (shape, parameter
counts, operation counts, receptive-field step, warnings, and the derivation text for
--explain). The registry in `cnncalc.layers` maps type names and aliases to these classes.

The value classes here are plain `__slots__` classes, not dataclasses: they are built for every
layer of every file, and importing `dataclasses` costs more than analysing a small network.
"""

from __future__ import annotations

import math

from ..errors import LayerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

REQUIRED = object()


def shape_text(value: str) -> list[int] | None:
    """'227x227x3' (also 'X' or '×', spaces allowed around the parts) as [227, 227, 3], else None."""
    out = []
    for part in value.replace("X", "x").replace("×", "x").split("x"):
        part = part.strip()
        if not part.isdecimal():
            return None
        out.append(int(part))
    return out


class Tensor:
    """A tensor without batch dimension: `c` channels (or features) and spatial sizes.

    A flat vector of F features is Tensor(F, ()). Layout only matters for display.
    Compared and hashed by value; treat it as immutable.
    """

    __slots__ = ("c", "spatial")

    def __init__(self, c: int, spatial: tuple[int, ...] = ()):
        self.c = c
        self.spatial = spatial

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tensor):
            return NotImplemented
        return self.c == other.c and self.spatial == other.spatial

    def __hash__(self) -> int:
        return hash((self.c, self.spatial))

    def __repr__(self) -> str:
        return f"Tensor(c={self.c!r}, spatial={self.spatial!r})"

    @property
    def numel(self) -> int:
        return self.c * math.prod(self.spatial)

    @property
    def flat(self) -> bool:
        return not self.spatial

    def dims(self, layout: str) -> tuple[int, ...]:
        if not self.spatial:
            return (self.c,)
        return (*self.spatial, self.c) if layout == "channels_last" else (self.c, *self.spatial)

    def text(self, layout: str) -> str:
        return "x".join(str(d) for d in self.dims(layout))

    @staticmethod
    def from_dims(dims: tuple[int, ...] | list[int], layout: str) -> Tensor:
        dims = tuple(dims)
        if len(dims) == 1:
            return Tensor(dims[0])
        if layout == "channels_last":
            return Tensor(dims[-1], dims[:-1])
        return Tensor(dims[0], dims[1:])


class RF:
    """Receptive-field step of a layer along each spatial dim: kernel extent, stride, padding at start."""

    __slots__ = ("kernel", "stride", "pad", "global_", "opaque")

    def __init__(self, kernel: tuple[int, ...], stride: tuple[int, ...], pad: tuple[int, ...],
                 global_: bool = False, opaque: bool = False):
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.global_ = global_  # the output sees the whole input (global pooling, flatten, dense)
        self.opaque = opaque  # moves pixels in a way no (kernel, stride, pad) step describes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RF):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RF(kernel={self.kernel}, stride={self.stride}, pad={self.pad}, global_={self.global_}, " \
               f"opaque={self.opaque})"

    @staticmethod
    def whole() -> RF:
        return RF((), (), (), global_=True)

    @staticmethod
    def unknown() -> RF:
        return RF((), (), (), opaque=True)


_NONE: tuple[str, ...] = ()


class Out:
    """What a layer's rule computes for one set of inputs."""

    __slots__ = ("shape", "trainable", "non_trainable", "ops", "warnings", "explain", "rf")

    def __init__(self, shape: Tensor, trainable: int = 0, non_trainable: int = 0, ops: dict[str, int] | None = None,
                 warnings: list[str] | None = None, explain: list[str] | None = None, rf: RF | None = None):
        self.shape = shape
        self.trainable = trainable
        self.non_trainable = non_trainable
        self.ops: dict[str, int] = {} if ops is None else ops
        # an empty list each would be two allocations per layer of every file: share one empty tuple
        self.warnings: list[str] = warnings or _NONE  # type: ignore[assignment]
        self.explain: list[str] = explain or _NONE  # type: ignore[assignment]
        self.rf = rf  # None: elementwise, keeps the receptive field; see RF.whole(), RF.unknown()


class Param:
    """A parameter a layer type declares: its kind (how values are checked), default, aliases."""

    __slots__ = ("kind", "default", "aliases", "doc", "choices")

    def __init__(self, kind: str, default: Any = REQUIRED, aliases: tuple[str, ...] = (), doc: str = "",
                 choices: tuple[Any, ...] = ()):
        self.kind = kind
        self.default = default
        self.aliases = aliases
        self.doc = doc
        self.choices = choices

    def __repr__(self) -> str:
        return f"Param({self.kind!r}, default={self.default!r}, aliases={self.aliases!r})"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


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
        return parse_padding(value, ndim, name)
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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LayerError(f"{name} must be a number, got {value!r}", "invalid-value")
        return float(value)
    if k == "rate":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise LayerError(f"{name} must be a number in [0, 1), got {value!r}", "invalid-value")
        return float(value)
    if k == "choice":
        if value not in p.choices:
            raise LayerError(f"{name} must be one of {', '.join(map(str, p.choices))}; got {value!r}",
                             "invalid-value")
        return value
    if k == "shape":
        if not isinstance(value, (list, tuple)) or not value or not all(_is_int(v) for v in value):
            raise LayerError(f"{name} must be a list of integers, got {value!r}", "invalid-value")
        if any(v == 0 or v < -1 for v in value) or list(value).count(-1) > 1:
            raise LayerError(f"{name} takes positive sizes and at most one -1, got {value!r}", "invalid-value")
        return tuple(value)
    raise AssertionError(f"unknown param kind {k}")  # pragma: no cover - registry bug


def parse_padding(value: Any, ndim: int, name: str = "padding") -> Any:
    """'same', or per-dim (begin, end) pairs. Accepts int, [p]*ndim, [b, e]*ndim sides, 'valid'."""
    if isinstance(value, str):
        low = value.lower()
        if low == "same":
            return "same"
        if low == "valid":
            return tuple((0, 0) for _ in range(ndim))
    if _is_int(value):
        value = [value]
    if isinstance(value, (list, tuple)) and all(_is_int(v) for v in value):
        if any(v < 0 for v in value):
            raise LayerError(f"{name} must be ≥ 0, got {value!r}", "invalid-value")
        if len(value) == 1:
            return tuple((value[0], value[0]) for _ in range(ndim))
        if len(value) == ndim:
            return tuple((v, v) for v in value)
        if len(value) == 2 * ndim:
            return tuple((value[2 * i], value[2 * i + 1]) for i in range(ndim))
    sides = "[top, bottom, left, right]" if ndim == 2 else "[begin, end]"
    raise LayerError(
        f"{name} must be an integer, a list of {ndim} integers, {sides}, 'same' or 'valid'; got {value!r}",
        "invalid-value")


class LayerType:
    """Base class of every layer type; subclasses are registered with @register."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    prefix: ClassVar[str] = "layer"  # automatic names: prefix + counter
    doc: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    ndim: ClassVar[int] = 2  # spatial dims of size/padding parameters

    @classmethod
    def infer(cls, p: dict[str, Any], inputs: list[Tensor], explain: bool = False) -> Out:
        """The output of the layer for `inputs` with checked parameters `p` (plus p["__layout__"]).

        Raises LayerError. `explain` asks for the derivation lines in `Out.explain`; without it
        they may be left out, which the analysis relies on for speed (--explain asks again).
        """
        raise NotImplementedError


def need_spatial(t: Tensor, ndim: int, layer: str) -> tuple[int, ...]:
    if len(t.spatial) != ndim:
        want = {1: "a sequence (length and channels)", 2: "an image (height, width, channels)"}[ndim]
        raise LayerError(f"{layer} needs {want} input, got a tensor of {len(t.spatial) + 1} dims "
                         f"({'flat vector' if t.flat else 'spatial'})", "shape-mismatch")
    return t.spatial


def fmt(n: int | float) -> str:
    """Thousands separators, so derivations read like the slides."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:.2f}"
    return f"{int(n):,}"
