"""Shape propagation and per-layer statistics over the layer graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import conventions
from ._gc import paused
from .errors import Collector, Diagnostic, LayerError
from .graph import INPUT, topo_order
from .layers import RF, Tensor
from .spec import LayerSpec, Network


@dataclass
class LayerResult:
    name: str
    type: str
    inputs: list[str]
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    ops: dict[str, int]
    tensor: Tensor
    spec: LayerSpec
    explain: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rf: RF | None = None
    cost: conventions.LayerCost | None = None  # what the convention counted; --explain writes it out

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "ops": {k: self.ops.get(k, 0) for k in conventions.OP_KINDS},
        }


@dataclass
class Analysis:
    name: str
    file: str
    layout: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: list[LayerResult]
    warnings: list[Diagnostic]
    convention: str
    network: Network

    @property
    def totals(self) -> dict[str, int]:
        t = {"params": 0, "trainable_params": 0, "non_trainable_params": 0, "macs": 0, "flops": 0}
        for layer in self.layers:
            t["trainable_params"] += layer.trainable_params
            t["non_trainable_params"] += layer.non_trainable_params
            t["macs"] += layer.macs
            t["flops"] += layer.flops
        t["params"] = t["trainable_params"] + t["non_trainable_params"]
        return t

    def layer(self, name: str) -> LayerResult:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layout": self.layout,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "convention": self.convention,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": self.totals,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _context(spec: LayerSpec) -> str:
    return f" (in {spec.origin})" if spec.origin else ""


@paused
def analyse(net: Network, convention: str | None = None) -> Analysis:
    """Propagate shapes through `net`; raises SpecError listing every shape error."""
    conv = conventions.get(convention)
    out = Collector(list(net.warnings))
    order = topo_order(net.layers)
    tensors: dict[str, Tensor] = {INPUT: net.input}
    results: list[LayerResult] = []
    consumed: set[str] = set()
    layout = net.layout
    for spec in order:
        consumed.update(spec.inputs)
        cls = spec.type
        n = len(spec.inputs)
        if n < cls.min_inputs or (cls.max_inputs is not None and n > cls.max_inputs):
            want = (f"at least {cls.min_inputs}" if cls.max_inputs is None
                    else f"exactly {cls.min_inputs}" if cls.min_inputs == cls.max_inputs
                    else f"{cls.min_inputs} to {cls.max_inputs}")
            out.error(f"{spec.name}: {cls.name} takes {want} input{'s' if cls.min_inputs != 1 else ''}, "
                      f"got {n}{_context(spec)}", spec.where("inputs"), "wrong-input-count", spec.name)
            continue
        if any(src not in tensors for src in spec.inputs):
            continue  # an input failed; its own error is reported already
        inputs = [tensors[src] for src in spec.inputs]
        try:
            o = cls.infer({**spec.params, "__layout__": layout}, inputs)
        except LayerError as exc:
            out.error(f"{spec.name}: {exc.message}{_context(spec)}", spec.where(exc.key), exc.rule, spec.name)
            continue
        tensors[spec.name] = o.shape
        for w in o.warnings:
            out.warning(f"{spec.name}: {w}{_context(spec)}", spec.loc, "stride-not-fitting", spec.name)
        cost = conventions.LayerCost(cls.name, o.ops, tuple(inputs), o.shape, o.trainable, spec.params)
        macs, flops = conv.count(cost)
        results.append(LayerResult(
            name=spec.name, type=cls.name, inputs=list(spec.inputs),
            input_shapes=[t.dims(layout) for t in inputs], output_shape=o.shape.dims(layout),
            trainable_params=o.trainable, non_trainable_params=o.non_trainable,
            macs=macs, flops=flops, ops=o.ops, tensor=o.shape,
            spec=spec, explain=o.explain, warnings=o.warnings, rf=o.rf, cost=cost))
    out.raise_if_errors()
    for spec in net.layers:
        if spec.name not in consumed and spec.name != net.output:
            out.warning(f"{spec.name}: output is never used (only the last layer, {net.output}, is the network "
                        "output); connect it or remove it", spec.loc, "unused-layer", spec.name)
    final = tensors.get(net.output, net.input)
    return Analysis(net.name, net.file, layout, net.input.dims(layout), final.dims(layout), results,
                    out.warnings, conv.name, net)
