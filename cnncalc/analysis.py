"""Shape propagation and per-layer statistics over the layer graph."""

from __future__ import annotations

from . import conventions
from .errors import Collector, Diagnostic, LayerError
from .graph import INPUT, topo_order
from .layers import RF, Tensor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .spec import LayerSpec, Network


class LayerResult:
    """One analysed layer. The --explain derivation and the convention's view (`cost`) are made on
    first use: the analysis of every layer of every file must not pay for text nobody reads."""

    __slots__ = ("name", "trainable_params", "non_trainable_params", "macs",
                 "flops", "ops", "tensor", "spec", "warnings", "rf", "input_tensors", "layout", "_explain")

    def __init__(self, name: str, input_tensors: list[Tensor], tensor: Tensor,
                 layout: str, trainable_params: int, non_trainable_params: int, macs: int, flops: int,
                 ops: dict[str, int], spec: LayerSpec, warnings: list[str], rf: RF | None,
                 explain: list[str] | None = None):
        self.name = name
        self.input_tensors = input_tensors
        self.tensor = tensor
        self.layout = layout
        self.trainable_params = trainable_params
        self.non_trainable_params = non_trainable_params
        self.macs = macs
        self.flops = flops
        self.ops = ops
        self.spec = spec
        self.warnings = warnings
        self.rf = rf
        self._explain = explain

    def __repr__(self) -> str:
        return (f"LayerResult(name={self.name!r}, type={self.type!r}, output_shape={self.output_shape}, "
                f"params={self.params}, macs={self.macs}, flops={self.flops})")

    @property
    def type(self) -> str:
        return self.spec.type.name

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

    @property
    def explain(self) -> list[str]:
        """The layer's derivation, step by step: the layer rule run again with its text switched on."""
        if self._explain is None:
            p = {**self.spec.params, "__layout__": self.layout}
            self._explain = self.spec.type.infer(p, list(self.input_tensors), explain=True).explain
        return self._explain

    @property
    def cost(self) -> conventions.LayerCost:
        """What the convention counted (--explain writes it out)."""
        return conventions.LayerCost(self.type, self.ops, tuple(self.input_tensors), self.tensor, self.trainable_params,
                                     self.spec.params)

    def to_dict(self) -> dict[str, Any]:
        ops = self.ops
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
            "ops": {k: ops.get(k, 0) for k in conventions.OP_KINDS},
        }


class Analysis:
    __slots__ = ("name", "file", "layout", "input_shape", "output_shape", "layers", "warnings", "convention",
                 "network", "_by_name")

    def __init__(self, name: str, file: str, layout: str, input_shape: tuple[int, ...],
                 output_shape: tuple[int, ...], layers: list[LayerResult], warnings: list[Diagnostic],
                 convention: str, network: Network):
        self.name = name
        self.file = file
        self.layout = layout
        self.input_shape = input_shape
        self.output_shape = output_shape
        self.layers = layers
        self.warnings = warnings
        self.convention = convention
        self.network = network
        self._by_name: dict[str, LayerResult] | None = None

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
        """The layer called `name` (KeyError if none); an index is built on the first call."""
        if self._by_name is None or len(self._by_name) != len(self.layers):
            self._by_name = {layer.name: layer for layer in self.layers}
        return self._by_name[name]

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


def analyse(net: Network, convention: str | None = None, explain: bool = False) -> Analysis:
    """Propagate shapes through `net`; raises SpecError listing every shape error.

    `explain` builds every layer's derivation now (else it is built when `LayerResult.explain`
    is first read)."""
    try:
        return _analyse(net, net.layers, convention, explain, True)
    except _OutOfOrder:  # a layer reads one defined after it: order the graph (and find any cycle)
        return _analyse(net, topo_order(net.layers), convention, explain, False)


class _OutOfOrder(Exception):
    pass


def _analyse(net: Network, order: list[LayerSpec], convention: str | None, explain: bool, as_given: bool
             ) -> Analysis:
    conv = conventions.get(convention)
    count = conv.counter()
    rules_for = conv.rules_for
    out = Collector(list(net.warnings))
    failed: set[str] = set()  # layers without an output (their errors are reported)
    tensors: dict[str, Tensor] = {INPUT: net.input}
    results: list[LayerResult] = []
    consumed: set[str] = set()
    layout = net.layout
    for spec in order:
        srcs = spec.inputs
        consumed.update(srcs)
        cls = spec.type
        n = len(srcs)
        if n < cls.min_inputs or (cls.max_inputs is not None and n > cls.max_inputs):
            want = (f"at least {cls.min_inputs}" if cls.max_inputs is None
                    else f"exactly {cls.min_inputs}" if cls.min_inputs == cls.max_inputs
                    else f"{cls.min_inputs} to {cls.max_inputs}")
            out.error(f"{spec.name}: {cls.name} takes {want} input{'s' if cls.min_inputs != 1 else ''}, "
                      f"got {n}{_context(spec)}", spec.where("inputs"), "wrong-input-count", spec.name)
            failed.add(spec.name)
            continue
        try:
            inputs = [tensors[srcs[0]]] if n == 1 else [tensors[src] for src in srcs]
        except KeyError:
            if as_given and any(src not in tensors and src not in failed for src in srcs):
                raise _OutOfOrder from None
            failed.add(spec.name)
            continue  # an input failed; its own error is reported already
        try:
            o = cls.infer({**spec.params, "__layout__": layout}, inputs, explain)
        except LayerError as exc:
            out.error(f"{spec.name}: {exc.message}{_context(spec)}", spec.where(exc.key), exc.rule, spec.name)
            failed.add(spec.name)
            continue
        shape = o.shape
        tensors[spec.name] = shape
        if o.warnings:
            for w in o.warnings:
                out.warning(f"{spec.name}: {w}{_context(spec)}", spec.loc, "stride-not-fitting", spec.name)
        ins = inputs
        mac_rule, flop_rule, ops_only = rules_for(cls.name)
        if ops_only:  # most layers: weigh the op counts (Convention.counter, inlined)
            macs = flops = 0
            mget = mac_rule.get  # type: ignore[union-attr]
            fget = None if flop_rule is None else flop_rule.get  # type: ignore[union-attr]
            for kind, value in o.ops.items():
                if value:
                    macs += mget(kind, 0) * value
                    if fget is not None:
                        flops += fget(kind, 0) * value
            if fget is None:
                flops = 2 * macs
        else:
            macs, flops = count(cls.name, o.ops, tuple(ins), shape, o.trainable, spec.params)
        results.append(LayerResult(spec.name, ins, shape, layout, o.trainable,
                                   o.non_trainable, macs, flops, o.ops, spec, o.warnings, o.rf,
                                   o.explain if explain else None))
    out.raise_if_errors()
    for spec in net.layers:
        if spec.name not in consumed and spec.name != net.output:
            out.warning(f"{spec.name}: output is never used (only the last layer, {net.output}, is the network "
                        "output); connect it or remove it", spec.loc, "unused-layer", spec.name)
    final = tensors.get(net.output, net.input)
    return Analysis(net.name, net.file, layout, net.input.dims(layout), final.dims(layout), results,
                    out.warnings, conv.name, net)
