"""Receptive field size, jump and start of every layer (see docs/memory.md, "Receptive field").

The standard recurrence over a chain of windowed layers (Araujo, Norris & Sim, "Computing
receptive fields of convolutional neural networks", Distill 2019), per spatial dimension, with
k the effective kernel extent D·(K−1)+1, s the stride and p the padding before the first row:

    r_out = r_in + (k − 1)·j_in          receptive field size, in input pixels
    j_out = j_in·s                       jump: input pixels between adjacent output units
    start_out = start_in + ((k − 1)/2 − p)·j_in

`start` is the centre of the receptive field of output unit 0, in input pixel indices (the
first input pixel is 0), so unit i covers input pixels start + i·j ± (r − 1)/2; negative
indices are padding. The input itself has r = 1, j = 1, start = 0. Starts are whole or halves;
they are kept exactly, as integer counts of half pixels (`start2`), and read as an int or a float.

Branches meet at merges (add, concat, multiply); cnncalc follows one "main path": the local
input with the largest receptive field (area; the first such input on ties). Inputs that see
the whole image (an SE block's channel scale) do not take part in that choice. With several
network inputs, each starts its own field; a layer's field is in the pixels of the input its main
path starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .graph import INPUT
from .layers import ReceptiveStep, Tensor

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
    start2: tuple[int, ...] | None = None  # 2 · start: exact
    input: str | None = None  # the network input whose pixels these are (several inputs: its main path's)

    @property
    def start(self) -> tuple[int | float, ...] | None:
        """The centre of output unit 0's field: an int, or a float for a half pixel."""
        return None if self.start2 is None else tuple(_half(s) for s in self.start2)

    def to_dict(self) -> dict[str, object]:
        return {"receptive_field": list(self.size) if self.size is not None else None,
                "jump": list(self.jump) if self.jump is not None else None,
                "start": list(self.start) if self.start2 is not None else None,  # type: ignore[arg-type]
                "receptive_field_kind": self.kind}


def _half(twice: int) -> int | float:
    return twice // 2 if twice % 2 == 0 else twice / 2


def receptive_fields(a: Analysis) -> dict[str, ReceptiveField]:
    """The receptive field of every layer of `a`, by layer name. With several network inputs, each
    field is measured in the pixels of the input its main path starts from (`ReceptiveField.input`)."""
    fields: dict[str, ReceptiveField] = {}
    wholes: dict[str, ReceptiveField] = {}
    for name, shape in a.inputs or [(INPUT, a.input_shape)]:
        spatial = Tensor.from_dims(shape, a.layout).spatial
        nd = len(spatial)
        if spatial:
            fields[name] = ReceptiveField(LOCAL, (1,) * nd, (1,) * nd, (0,) * nd, input=name)
            wholes[name] = ReceptiveField(GLOBAL, size=spatial, input=name)
        else:
            fields[name] = ReceptiveField(NONE, input=name)
    inputs = set(fields)
    for layer in a.layers:  # topological order
        fields[layer.name] = _step(layer, [fields[n] for n in layer.inputs], wholes)
    for name in inputs:
        del fields[name]
    return fields


def _step(layer: LayerResult, ins: list[ReceptiveField], wholes: dict[str, ReceptiveField]) -> ReceptiveField:
    first = layer.layer_type.rf_input or 0  # a layer that passes on one input (a crop to another's size)
    if len(ins) > 1 and layer.layer_type.rf_input is None:
        return _merge(ins, wholes)
    x = ins[first]
    if x.kind == NONE:
        return x  # no spatial input upstream (a flat network input)
    whole = wholes[x.input or ""]
    rf = layer.rf
    in_spatial = layer.input_tensors[first].spatial
    if x.kind == GLOBAL or (rf is not None and (rf.global_ or _covers(rf, in_spatial))):
        return whole  # any function of units that see everything sees everything
    if x.kind != LOCAL or (rf is not None and rf.opaque):
        return ReceptiveField(UNKNOWN, input=x.input)
    if rf is None:
        return x  # elementwise
    assert x.size is not None and x.jump is not None and x.start2 is not None
    if len(rf.kernel) != len(x.size):
        return ReceptiveField(UNKNOWN, input=x.input)
    size = tuple(r + (k - 1) * j for r, k, j in zip(x.size, rf.kernel, x.jump, strict=True))
    jump = tuple(j * s for j, s in zip(x.jump, rf.stride, strict=True))
    # start + ((k − 1)/2 − p)·j, doubled
    start2 = tuple(st + (k - 1 - 2 * p) * j for st, k, p, j in zip(x.start2, rf.kernel, rf.pad, x.jump, strict=True))
    return ReceptiveField(LOCAL, size, jump, start2, input=x.input)


def _covers(rf: ReceptiveStep, spatial: tuple[int, ...]) -> bool:
    """One window spans the whole input tensor (e.g. adaptive pooling to 1x1): a global layer."""
    return len(rf.kernel) == len(spatial) and all(
        p >= 0 and k - p >= n for k, p, n in zip(rf.kernel, rf.pad, spatial, strict=True))


def _merge(ins: list[ReceptiveField], wholes: dict[str, ReceptiveField]) -> ReceptiveField:
    candidates = [f for f in ins if f.kind not in (GLOBAL, NONE)]
    if not candidates:
        seen = [f for f in ins if f.kind == GLOBAL]
        return wholes[seen[0].input or ""] if seen else ins[0]
    if any(f.kind != LOCAL for f in candidates):
        return ReceptiveField(UNKNOWN, input=candidates[0].input)

    def area(f: ReceptiveField) -> int:
        n = 1
        for r in f.size or ():
            n *= r
        return n

    return max(candidates, key=area)  # max() keeps the first of equal areas
