"""Receptive field size, jump and start of every layer (see docs/memory.md, "Receptive field").

The standard recurrence over a chain of windowed layers (Araujo, Norris & Sim, "Computing
receptive fields of convolutional neural networks", Distill 2019), per spatial dimension, with
k the effective kernel extent D·(K−1)+1, s the stride and p the padding before the first row:

    r_out = r_in + (k − 1)·j_in          receptive field size, in input pixels
    j_out = j_in·s                       jump: input pixels between adjacent output units
    start_out = start_in + ((k − 1)/2 − p)·j_in

`start` is the centre of the receptive field of output unit 0, in input pixel indices (the
first input pixel is 0), so unit i covers input pixels start + i·j ± (r − 1)/2; negative
indices are padding. The input itself has r = 1, j = 1, start = 0.

Branches meet at merges (add, concat, multiply); cnncalc follows one "main path": the local
input with the largest receptive field (area; the first such input on ties). Inputs that see
the whole image (an SE block's channel scale) do not take part in that choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .graph import INPUT
from .layers import RF, Tensor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .analysis import Analysis, LayerResult

LOCAL, GLOBAL, UNKNOWN, NONE = "local", "global", "unknown", "none"


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one layer's output units, per spatial dim (height, width order).

    kind: "local" (size, jump, start known), "global" (each unit sees the whole input; size is
    the input's spatial size), "unknown" (past a layer the recurrence cannot describe) or
    "none" (the network input has no spatial dims).
    """

    kind: str
    size: tuple[int, ...] | None = None
    jump: tuple[int, ...] | None = None
    start: tuple[Fraction, ...] | None = None

    def to_dict(self) -> dict[str, object]:
        return {"receptive_field": list(self.size) if self.size is not None else None,
                "jump": list(self.jump) if self.jump is not None else None,
                "start": [_num(s) for s in self.start] if self.start is not None else None,
                "receptive_field_kind": self.kind}


def _num(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


def receptive_fields(a: Analysis) -> dict[str, ReceptiveField]:
    """The receptive field of every layer of `a`, by layer name."""
    spatial = Tensor.from_dims(a.input_shape, a.layout).spatial
    if not spatial:
        return {layer.name: ReceptiveField(NONE) for layer in a.layers}
    nd = len(spatial)
    whole = ReceptiveField(GLOBAL, size=spatial)
    fields = {INPUT: ReceptiveField(LOCAL, (1,) * nd, (1,) * nd, (Fraction(0),) * nd)}
    for layer in a.layers:  # topological order
        fields[layer.name] = _step(layer, [fields[n] for n in layer.inputs], whole, a.layout)
    del fields[INPUT]
    return fields


def _step(layer: LayerResult, ins: list[ReceptiveField], whole: ReceptiveField, layout: str) -> ReceptiveField:
    if len(ins) > 1:
        return _merge(ins, whole)
    x = ins[0]
    rf = layer.rf
    in_spatial = Tensor.from_dims(layer.input_shapes[0], layout).spatial
    if x.kind == GLOBAL or (rf is not None and (rf.global_ or _covers(rf, in_spatial))):
        return whole  # any function of units that see everything sees everything
    if x.kind != LOCAL or (rf is not None and rf.opaque):
        return ReceptiveField(UNKNOWN)
    if rf is None:
        return x  # elementwise
    assert x.size is not None and x.jump is not None and x.start is not None
    if len(rf.kernel) != len(x.size):
        return ReceptiveField(UNKNOWN)
    size = tuple(r + (k - 1) * j for r, k, j in zip(x.size, rf.kernel, x.jump, strict=True))
    jump = tuple(j * s for j, s in zip(x.jump, rf.stride, strict=True))
    start = tuple(st + (Fraction(k - 1, 2) - p) * j for st, k, p, j in zip(x.start, rf.kernel, rf.pad, x.jump, strict=True))
    return ReceptiveField(LOCAL, size, jump, start)


def _covers(rf: RF, spatial: tuple[int, ...]) -> bool:
    """One window spans the whole input tensor (e.g. adaptive pooling to 1x1): a global layer."""
    return len(rf.kernel) == len(spatial) and all(
        k - p >= n for k, p, n in zip(rf.kernel, rf.pad, spatial, strict=True))


def _merge(ins: list[ReceptiveField], whole: ReceptiveField) -> ReceptiveField:
    candidates = [f for f in ins if f.kind != GLOBAL]
    if not candidates:
        return whole
    if any(f.kind != LOCAL for f in candidates):
        return ReceptiveField(UNKNOWN)

    def area(f: ReceptiveField) -> int:
        n = 1
        for r in f.size or ():
            n *= r
        return n

    return max(candidates, key=area)  # max() keeps the first of equal areas
