"""`expect:` assertions: homework answers and design invariants as regression tests.

An `expect:` mapping may sit on a layer, on a block use (it then checks the block's output
shape and the totals over the block's layers) or at the top level (network totals and output).
`check(analysis)` compares every expectation with the analysis and returns one Diagnostic per
mismatch, located at the expected value, e.g. `expected params 760, got 750 [expect-failed]`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic
from .layers.params import MAX_DIGITS, shape_text

if TYPE_CHECKING:
    from .analysis import Analysis, LayerResult
    from .yamlio import Node

COUNTS = ("params", "trainable_params", "non_trainable_params", "macs", "flops")
KEYS = ("output_shape", *COUNTS)


_NUMBER = re.compile(r"\d{1,3}(?:[,_ ]\d{3})+|\d+")
_SEPARATORS = re.compile(r"[,_ ]")


def number_text(text: str) -> int | None:
    """61,100,840 or 61_100_840 or 61 100 840 (as written on slides) or plain digits, else None."""
    if len(text) > 2 * MAX_DIGITS or _NUMBER.fullmatch(text) is None:
        return None
    digits = _SEPARATORS.sub("", text)
    if len(digits) > MAX_DIGITS:  # int() refuses longer text; no count is that large
        return None
    return int(digits)


class _Bad(Exception):
    """An expected value that cannot be read."""


def _shape(value: Any) -> tuple[int, ...]:
    dims = shape_text(value) if isinstance(value, str) else None
    if dims is not None:
        return tuple(dims)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise _Bad(f"expected output_shape must be a list of integers in the spec's layout or a string like "
               f"'32x32x10', got {value!r}")


def _count(key: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    number = number_text(value.strip()) if isinstance(value, str) else None
    if number is not None:
        return number
    raise _Bad(f"expected {key} must be a non-negative integer, got {value!r}")


def _text(key: str, value: Any) -> str:
    if key == "output_shape":
        return "x".join(map(str, value))
    return str(value)


def _compare(node: Node, actual: dict[str, Any], file_diags: list[Diagnostic], who: str, layer: str | None) -> None:
    """Check one `expect:` mapping against `actual` (key → value)."""
    from .spec import suggest

    if not isinstance(node.value, dict):
        file_diags.append(Diagnostic("error", "`expect` must be a mapping such as {output_shape: 32x32x10, "
                                     "params: 760}", node.loc, "invalid-value"))
        return
    key_locs = node.key_locs or {}
    for key, vnode in node.value.items():
        if key not in KEYS:
            file_diags.append(Diagnostic("error", f"unknown expect key {key!r}{suggest(key, KEYS)} "
                                         f"(known: {', '.join(KEYS)})", key_locs.get(key, vnode.loc),
                                         "unknown-key"))
            continue
        try:
            value = vnode.plain()
            want = _shape(value) if key == "output_shape" else _count(key, value)
        except _Bad as exc:
            file_diags.append(Diagnostic("error", str(exc), vnode.loc, "invalid-value"))
            continue
        got = actual[key]
        if want != got:
            file_diags.append(Diagnostic("error", f"{who}expected {key} {_text(key, want)}, got {_text(key, got)}",
                                         vnode.loc, "expect-failed", layer))


def _layer_actual(layer: LayerResult) -> dict[str, Any]:
    return {"output_shape": tuple(layer.output_shape), "params": layer.params,
            "trainable_params": layer.trainable_params, "non_trainable_params": layer.non_trainable_params,
            "macs": layer.macs, "flops": layer.flops}


def _sum(layers: list[LayerResult], output_shape: tuple[int, ...]) -> dict[str, Any]:
    t: dict[str, Any] = {k: 0 for k in COUNTS}
    for layer in layers:
        for k in COUNTS:
            t[k] += getattr(layer, k)
    t["output_shape"] = tuple(output_shape)
    return t


def count(analysis: Analysis) -> int:
    """How many expected values the spec states (for `check`'s summary)."""
    net = analysis.network
    nodes = [net.expect, *(layer.spec.expect for layer in analysis.layers), *(b[2] for b in net.block_expects)]
    return sum(len(n.value) if isinstance(n.value, dict) else 1 for n in nodes if n is not None)


def check(analysis: Analysis) -> list[Diagnostic]:
    """Every unmet or malformed expectation of `analysis`, in file order (duplicates merged)."""
    out: list[Diagnostic] = []
    net = analysis.network
    for layer in analysis.layers:
        if layer.spec.expect is not None:
            # a layer inside a block or repeat: its expect applies to every instance
            _compare(layer.spec.expect, _layer_actual(layer), out, f"{layer.name}: ", layer.name)
    if net.block_expects:
        by_name = {layer.name: layer for layer in analysis.layers}
        for glob, last, node, span in net.block_expects:
            names = {spec.name for spec in net.layers[span]}
            members = [layer for layer in analysis.layers if layer.name in names]
            shape = by_name[last].output_shape if last in by_name else ()
            _compare(node, _sum(members, shape), out, f"block {glob}: ", glob)
    if net.expect is not None:
        _compare(net.expect, {**analysis.totals, "output_shape": tuple(analysis.output_shape)}, out, "network: ",
                 None)
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for d in out:
        key = (d.loc, d.message, d.rule)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return sorted(unique, key=lambda d: (d.loc.line, d.loc.col))
