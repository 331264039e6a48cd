"""How raw operation counts become the reported MACs and FLOPs.

Every layer reports its operations by kind (`mac`, `bias`, `add`, `mul`, `div`, `cmp`,
`exp`, `pow`, `act`); a convention decides what is summed. See docs/flops.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Ops = dict[str, int]


@dataclass(frozen=True)
class Convention:
    name: str
    summary: str
    macs: Callable[[str, Ops], int]
    flops: Callable[[str, Ops], int]


def _macs(layer_type: str, ops: Ops) -> int:
    return ops.get("mac", 0)


def _flops(layer_type: str, ops: Ops) -> int:
    return 2 * ops.get("mac", 0) + sum(v for k, v in ops.items() if k != "mac")


CONVENTIONS: dict[str, Convention] = {
    "cnncalc": Convention(
        "cnncalc",
        "MACs: conv/dense multiply-accumulates, no bias (torchvision, fvcore); "
        "FLOPs: 2 per MAC plus every other operation (bias adds, norm, pooling, activations, merges)",
        _macs, _flops),
}
DEFAULT = "cnncalc"


def get(name: str | None) -> Convention:
    return CONVENTIONS[name or DEFAULT]
