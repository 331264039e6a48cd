"""`--sweep NAME=v1,v2,...`: one spec analysed for each value of one of its params.

Resolution is the most common reason reported FLOPs disagree: with `$size` in the spec's `input`,
`cnncalc show net.yaml --sweep size=160,224,320` gives params, MACs, FLOPs and the output shape at
each size in one table. Every value is a full analysis (the same numbers `show --set` gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .analysis import analyse
from .errors import Diagnostic, SpecError
from .limits import MAX_SWEEP
from .spec import display_name, loads, read

if TYPE_CHECKING:
    from .analysis import Analysis


@dataclass
class Point:
    """One value of the swept param and the analysis of the spec with it."""

    value: Any
    analysis: Analysis


def text_of(value: Any) -> str:
    """A swept value as written on the command line (`true`, not `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def run(path: str, name: str, values: list[Any], overrides: dict[str, Any] | None = None,
        convention: str | None = None) -> list[Point]:
    """Analyse the spec at `path` once per value of param `name` (the other `overrides` apply to all).

    Raises SpecError with every value's errors, each message saying which value it is about."""
    if len(values) > MAX_SWEEP:
        raise ValueError(f"--sweep takes at most {MAX_SWEEP} values, got {len(values)}")
    text = read(path)
    file = display_name(path)
    points: list[Point] = []
    failed: list[tuple[Any, list[Diagnostic]]] = []
    for value in values:
        try:
            net = loads(text, file, {**(overrides or {}), name: value})
            points.append(Point(value, analyse(net, convention)))
        except SpecError as exc:
            failed.append((value, exc.diagnostics))
    if failed:
        raise SpecError(merge(failed, name, len(values)))
    return points


def merge(per_value: list[tuple[Any, list[Diagnostic]]], name: str, n_values: int) -> list[Diagnostic]:
    """Each distinct diagnostic once, in order; one that not every value has says which values do:
    `with size=32, 48: conv5: kernel 3 is larger than ...`."""
    seen: dict[tuple[Any, ...], tuple[Diagnostic, dict[int, Any]]] = {}
    for i, (value, diags) in enumerate(per_value):
        for d in diags:
            key = (d.loc, d.severity, d.rule, d.message)
            seen.setdefault(key, (d, {}))[1][i] = value
    out = []
    for d, vals in seen.values():
        if len(vals) < n_values:
            d = d.replace(message=f"with {name}={', '.join(text_of(v) for v in vals.values())}: {d.message}")
        out.append(d)
    return out
