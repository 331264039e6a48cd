"""Shape propagation and per-layer statistics over the layer graph.

Each layer's rule runs once, in graph order, on the tensors its inputs produced; its counts are
weighed by the chosen convention into the reported MACs and FLOPs. Every shape error is collected,
so that one run reports them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import conventions
from .errors import Collector, Diagnostic, LayerError
from .graph import topo_order
from .layers import Layer, ReceptiveStep, Result, Tensor

if TYPE_CHECKING:
    from .spec import LayerSpec, Network

LayerClass = type[Layer]  # (inside LayerResult, `type` is the type-name property)


@dataclass(slots=True, repr=False)
class LayerResult:
    """One analysed layer: its tensors, parameter counts, operation counts and reported MACs/FLOPs."""

    name: str
    input_tensors: list[Tensor]
    tensor: Tensor
    layout: str
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    ops: dict[str, int]  # by kind (conventions.OP_KINDS)
    spec: LayerSpec
    warnings: tuple[str, ...]
    rf: ReceptiveStep | None
    # what the layer applies to its output afterwards (a fused activation): its type and op counts
    stages: tuple[tuple[type[Layer], dict[str, int]], ...] = ()

    def __repr__(self) -> str:
        return (f"LayerResult(name={self.name!r}, type={self.type!r}, output_shape={self.output_shape}, "
                f"params={self.params}, macs={self.macs}, flops={self.flops})")

    @property
    def type(self) -> str:
        return self.spec.type.name

    @property
    def layer_type(self) -> LayerClass:
        return self.spec.type

    @property
    def inputs(self) -> list[str]:
        """The names of the layers (or `input`) this one reads."""
        return self.spec.inputs

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.tensor.dims(self.layout)

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [t.dims(self.layout) for t in self.input_tensors]

    def result(self) -> Result:
        """The layer rule's full result, with the arithmetic of every count (for --explain)."""
        return self.spec.type.rule(self.spec.params, list(self.input_tensors), self.layout)

    @property
    def cost(self) -> conventions.LayerCost:
        """What a convention may look at to weigh this layer."""
        return conventions.LayerCost(self.spec.type, self.ops, tuple(self.input_tensors), self.tensor,
                                     self.trainable_params, self.spec.params, self.layout)

    @property
    def stage_costs(self) -> list[conventions.LayerCost]:
        """What a convention may look at to weigh each stage (counted as its own layer type)."""
        return [conventions.LayerCost(cls, ops, (self.tensor,), self.tensor, 0, {}, self.layout)
                for cls, ops in self.stages]

    @property
    def all_ops(self) -> dict[str, int]:
        """The layer's operations and its stages' together."""
        if not self.stages:
            return self.ops
        total = dict(self.ops)
        for _, ops in self.stages:
            for kind, n in ops.items():
                total[kind] = total.get(kind, 0) + n
        return total

    @property
    def shares(self) -> str | None:
        """The layer whose weights this one uses (`share:`); its parameters are counted there."""
        return self.spec.shares

    def to_dict(self) -> dict[str, Any]:
        ops = self.all_ops
        d = {
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
            "ops": {k: ops.get(k, 0) for k in conventions.OP_KINDS},
        }
        if self.spec.shares:
            d["shares"] = self.spec.shares
        return d


@dataclass(slots=True, repr=False)
class Analysis:
    """A whole analysed network: every layer in graph order, the totals and the warnings."""

    name: str
    file: str
    layout: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: list[LayerResult]
    warnings: list[Diagnostic]
    convention: str
    network: Network
    # every input and output as (name, shape); input_shape and output_shape are the first of each
    inputs: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    outputs: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    _by_name: dict[str, LayerResult] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Analysis(name={self.name!r}, layers={len(self.layers)}, convention={self.convention!r})"

    @property
    def totals(self) -> dict[str, int]:
        trainable = non_trainable = macs = flops = 0
        for layer in self.layers:
            trainable += layer.trainable_params
            non_trainable += layer.non_trainable_params
            macs += layer.macs
            flops += layer.flops
        return {"params": trainable + non_trainable, "trainable_params": trainable,
                "non_trainable_params": non_trainable, "macs": macs, "flops": flops}

    def layer(self, name: str) -> LayerResult:
        """The layer called `name` (KeyError if none)."""
        if len(self._by_name) != len(self.layers):
            self._by_name = {layer.name: layer for layer in self.layers}
        return self._by_name[name]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "layout": self.layout,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
        }
        if self.network.named_inputs:
            d["inputs"] = [{"name": n, "shape": list(s)} for n, s in self.inputs]
        if self.network.named_outputs:
            d["outputs"] = [{"name": n, "shape": list(s)} for n, s in self.outputs]
        d.update({
            "convention": self.convention,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": self.totals,
            "warnings": [w.to_dict() for w in self.warnings],
        })
        return d


def _context(spec: LayerSpec) -> str:
    return f" (in {spec.origin})" if spec.origin else ""


def _arity(cls: type[Layer]) -> str:
    if cls.max_inputs is None:
        return f"at least {cls.min_inputs}"
    if cls.min_inputs == cls.max_inputs:
        return f"exactly {cls.min_inputs}"
    return f"{cls.min_inputs} to {cls.max_inputs}"


def _output_warnings(results: list[LayerResult], output: str, out: Collector) -> None:
    """The warning of the layer that makes the network's output, looking through the elementwise
    layers after it (activations, dropout: one input, shape kept)."""
    by_name = {r.name: r for r in results}
    layer = by_name.get(output)
    while layer is not None:
        found = layer.layer_type.output_warning(layer.spec.params, layer.input_tensors, layer.tensor, layer.layout)
        if found:
            out.warning(f"{layer.name}: {found[0]}{_context(layer.spec)}", layer.spec.loc, found[1], layer.name)
            return
        elementwise = layer.rf is None and len(layer.inputs) == 1 and layer.input_tensors[0] == layer.tensor
        layer = by_name.get(layer.inputs[0]) if elementwise else None


def _which_inputs(positions: tuple[int, ...], spec: LayerSpec, inputs: list[Tensor], layout: str, net: Network,
                  warnings: list[Diagnostic], budget: int = 2000) -> str:
    """` (b1 is 7x7x16, b2 is 6x6x16; …)`: the layers behind the inputs at `positions`, and the
    stride-not-fitting warning (of `warnings`) upstream of only one of them, the usual cause of the
    mismatch, looked for within `budget` layers of each input."""
    from collections import deque

    names = [spec.inputs[i] for i in positions]
    text = ", ".join(f"{name} is {inputs[i].text(layout)}" for name, i in zip(names, positions, strict=True))
    rounded = {d.layer: d for d in warnings if d.rule == "stride-not-fitting" and d.layer}
    if rounded:
        specs = {s.name: s for s in net.layers}
        upstream = []  # per input: its ancestors, nearest first
        for name in names:
            order: dict[str, None] = {}
            queue = deque([name])
            while queue and len(order) < budget:
                n = queue.popleft()
                if n in specs and n not in order:
                    order[n] = None
                    queue.extend(specs[n].inputs)
            upstream.append(list(order))
        for i, ancestors in enumerate(upstream):
            others = {n for j, a in enumerate(upstream) if j != i for n in a}
            cause = next((n for n in ancestors if n in rounded and n not in others), None)
            if cause:
                text += (f"; {cause} rounded {names[i]}'s size down, see its stride-not-fitting warning at line "
                         f"{rounded[cause].loc.line}")
                break
    return f" ({text})"


def analyse(net: Network, convention: str | None = None) -> Analysis:
    """Propagate shapes through `net`; raises SpecError listing every shape error."""
    conv = conventions.get(convention)
    out = Collector(list(net.warnings))
    failed: set[str] = set()  # layers without an output (their errors are reported)
    tensors: dict[str, Tensor] = {name: t for name, t, _ in net.inputs}
    own: dict[str, tuple[int, int]] = {}  # a shared layer's weights, counted at the layer it shares
    results: list[LayerResult] = []
    consumed: set[str] = set()
    searches = 0
    layout = net.layout
    for spec in topo_order(net.layers):
        srcs = spec.inputs
        consumed.update(srcs)
        cls = spec.type
        if len(srcs) < cls.min_inputs or (cls.max_inputs is not None and len(srcs) > cls.max_inputs):
            out.error(f"{spec.name}: {cls.name} takes {_arity(cls)} input{'s' if cls.min_inputs != 1 else ''}, "
                      f"got {len(srcs)}{_context(spec)}", spec.where("inputs"), "wrong-input-count", spec.name)
            failed.add(spec.name)
            continue
        if any(src not in tensors for src in srcs):
            failed.add(spec.name)
            continue  # an input failed; its own error is reported already
        inputs = [tensors[src] for src in srcs]
        try:
            r = cls.rule(spec.params, inputs, layout)
        except LayerError as exc:
            which = ""
            if exc.inputs:  # which layers disagree, and (for the first few) which warning explains it
                which = _which_inputs(exc.inputs, spec, inputs, layout, net, out.warnings if searches < 20 else [])
                searches += 1
            out.error(f"{spec.name}: {exc.message}{which}{_context(spec)}", spec.where(exc.key), exc.rule, spec.name)
            failed.add(spec.name)
            continue
        tensors[spec.name] = r.shape
        for w in r.warnings:
            out.warning(f"{spec.name}: {w}{_context(spec)}", spec.loc, cls.warning_rule, spec.name)
        ops = {kind: int(value) for kind, value in r.ops.items()}
        trainable = int(r.params)
        non_trainable = int(r.non_trainable)
        if spec.shares:
            own[spec.name] = (trainable, non_trainable)
            trainable = non_trainable = 0
        macs, flops = conv.count(conventions.LayerCost(cls, ops, tuple(inputs), r.shape, trainable, spec.params,
                                                          layout))
        stages = tuple((stage.layer, {kind: int(value) for kind, value in stage.ops.items()}) for stage in r.then)
        for stage_type, stage_ops in stages:
            m, f = conv.count(conventions.LayerCost(stage_type, stage_ops, (r.shape,), r.shape, 0, {}, layout))
            macs, flops = macs + m, flops + f
        results.append(LayerResult(spec.name, inputs, r.shape, layout, trainable, non_trainable, macs, flops,
                                   ops, spec, r.warnings, r.rf, stages))
    if own:
        by_name = {layer.name: layer for layer in results}
        for name, counts in own.items():
            layer = by_name[name]
            owner = by_name.get(layer.spec.shares or "")
            problem = _share_problem(layer, counts, owner) if owner is not None else None
            if problem:
                out.error(f"{name}: {problem}{_context(layer.spec)}", layer.spec.where("share"), "share-mismatch",
                          name)
    out.raise_if_errors()
    for name in net.outputs:
        _output_warnings(results, name, out)
    outputs = set(net.outputs)
    for spec in net.layers:
        if spec.name not in consumed and spec.name not in outputs:
            if net.named_outputs:
                why = (f"the network outputs are {', '.join(net.outputs)}); connect it, list it under `outputs:`, "
                       "or remove it")
            else:
                why = f"only the last layer, {net.output}, is the network output); connect it or remove it"
            out.warning(f"{spec.name}: output is never used ({why}", spec.loc, "unused-layer", spec.name)
    if net.named_inputs:
        for name, _, loc in net.inputs:
            if name not in consumed:
                out.warning(f"input {name!r} is never read; connect it (`inputs: [{name}]`) or remove it", loc,
                            "unused-input")
    final = tensors.get(net.output, net.input)
    return Analysis(net.name, net.file, layout, net.input.dims(layout), final.dims(layout), results,
                    out.warnings, conv.name, net, [(name, t.dims(layout)) for name, t, _ in net.inputs],
                    [(name, tensors[name].dims(layout)) for name in net.outputs if name in tensors])


def _share_problem(layer: LayerResult, counts: tuple[int, int], owner: LayerResult) -> str | None:
    """Why `layer` cannot be `owner` called again (same weights) on its inputs, or None.

    The weights fix the input channels (a dense layer's: its input features); a layer whose weight
    count depends on the spatial size (a per-position bias) also needs the same spatial size."""
    layout = layer.layout
    mine, theirs = layer.input_tensors, owner.input_tensors

    def texts(ts: list[Tensor]) -> str:
        return " and ".join(t.text(layout) for t in ts)

    why = f"it shares the weights of {owner.name}, which reads {texts(theirs)}, but it reads {texts(mine)}"
    if len(mine) != len(theirs) or any(a.c != b.c or a.flat != b.flat for a, b in zip(mine, theirs, strict=False)):
        return f"{why}: the weights fix the input channels; give both the same channels or drop `share`"
    if counts != (owner.trainable_params, owner.non_trainable_params):
        return f"{why}: its weights would be different; drop `share`"
    if any(a.spatial != b.spatial for a, b in zip(mine, theirs, strict=True)):
        grown = [Tensor(t.c, tuple(s + 1 for s in t.spatial)) for t in theirs]
        try:
            r = owner.layer_type.rule(owner.spec.params, grown, layout)
            depends = (int(r.params), int(r.non_trainable)) != (owner.trainable_params, owner.non_trainable_params)
        except LayerError:
            depends = True
        if depends:
            return f"{why}: its weights depend on the input size, which differs; drop `share`"
    return None
