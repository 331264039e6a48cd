"""The small values an ONNX graph computes from constants and shapes.

torch's exporter, without constant folding, writes the pads of a Pad, the starts and ends of a Slice
or the sizes of a Resize as nodes (Shape, Gather, Concat, ConstantOfShape, Cast, ...), and onnx's
shape inference does not follow them all: the layer's output shape, and every shape after it, stay
unknown. `settle` computes such inputs with onnx's reference evaluator, writes each as an
initializer and infers the shapes again, until nothing more is learnt.

Only small values are computed: each node's output is bounded before it runs (at most MAX_ELEMENTS
elements), only the operators in FOLDABLE run, and one value is computed from at most MAX_NODES
nodes (MAX_RUNS in all), so a hostile graph cannot make cnncalc compute much.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

MAX_ELEMENTS = 1 << 16
MAX_NODES = 512
MAX_ROUNDS = 16
MAX_RUNS = 20_000  # nodes evaluated in one import

ELEMENTWISE = frozenset((
    "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Pow", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "And", "Or", "Xor", "Not", "Where", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign",
    "Sqrt", "Reciprocal", "Cast", "CastLike", "Identity", "Clip"))
SHAPING = frozenset((
    "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose", "Slice", "Concat", "Gather", "Shape",
    "Size", "ConstantOfShape", "Constant", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax", "Split"))
FOLDABLE = ELEMENTWISE | SHAPING
# ops whose output shape is a size input even when what they shape is a stored weight, not data (ViT's class
# token expanded to the batch): without it, every shape after the token's concatenation is unknown
SHAPED = frozenset(("Expand",))


def _numel(shape: Any) -> int:
    return math.prod(int(d) for d in shape)


def _tensor(t: Any) -> Any:
    """The value of a TensorProto whose data is in memory, else None."""
    from onnx import numpy_helper

    if t.data_location == 1 or not all(d >= 0 for d in t.dims):  # external data
        return None
    if _numel(t.dims) > MAX_ELEMENTS:
        return None
    if _numel(t.dims) and not (t.raw_data or t.int64_data or t.float_data or t.int32_data or t.double_data):
        return None  # a weight whose data the reader left in the file
    try:
        return numpy_helper.to_array(t)
    except Exception:  # a malformed tensor: no value
        return None


class Folder:
    """Values of the graph's non-data tensors, computed on demand and kept."""

    def __init__(self, graph: Any, opsets: Any, shapes: dict[str, tuple[int, ...] | None], data: set[str],
                 known: Folder | None = None):
        """`known`: a Folder of the same graph before more shapes were known, whose values and evaluation
        budget carry over."""
        self.opsets = opsets
        self.shapes = shapes
        self.data = data
        self.producer: dict[str, Any] = {}
        for n in graph.node:
            for t in n.output:
                if t:
                    self.producer[t] = n
        self.values: dict[str, Any] = known.values if known is not None else {}
        self.runs: int = known.runs if known is not None else 0
        self.failed: set[str] = set()
        for t in graph.initializer:
            if t.name in self.values:
                continue
            v = _tensor(t)
            if v is not None:
                self.values[t.name] = v

    def value(self, name: str) -> Any:
        """The value of tensor `name` (a numpy array), or None if it is data or cannot be computed small."""
        if name in self.values:
            return self.values[name]
        if name in self.failed or name in self.data:
            return None
        order = self._plan(name)
        if order is None:
            self.failed.add(name)
            return None
        for n in order:
            if not self._run(n):
                self.failed.update(t for t in n.output if t)
                self.failed.add(name)
                return None
        return self.values.get(name)

    def _plan(self, name: str) -> list[Any] | None:
        """The nodes to run, in order, for `name`; None if a value it needs cannot be had."""
        order: list[Any] = []
        seen: set[int] = set()
        stack: list[tuple[Any, bool]] = []
        first = self.producer.get(name)
        if first is None:
            return None
        stack.append((first, False))
        while stack:
            n, expanded = stack.pop()
            if id(n) in seen:
                continue
            if expanded:
                seen.add(id(n))
                order.append(n)
                continue
            if n.op_type not in FOLDABLE or len(seen) + len(stack) > MAX_NODES:
                return None
            stack.append((n, True))
            if n.op_type in ("Shape", "Size"):
                continue  # its value is the shape of its input, known or not
            for t in n.input:
                if not t or t in self.values:
                    continue
                if t in self.failed or t in self.data:
                    return None
                p = self.producer.get(t)
                if p is None:
                    return None
                if id(p) not in seen:
                    stack.append((p, False))
        return order

    def _run(self, n: Any) -> bool:
        if all(t in self.values for t in n.output if t):
            return True
        import numpy as np

        if n.op_type in ("Shape", "Size"):
            shape = self.shapes.get(n.input[0]) if n.input else None
            if shape is None or any(d < 0 for d in shape):
                return False
            if n.op_type == "Size":
                self.values[n.output[0]] = np.array(_numel(shape), dtype=np.int64)
                return True
            attrs = {a.name: a.i for a in n.attribute}
            rank = len(shape)
            start, end = attrs.get("start", 0), attrs.get("end", rank)
            self.values[n.output[0]] = np.array(shape[slice(start, end)], dtype=np.int64)
            return True
        inputs = [self.values[t] if t else None for t in n.input]
        if self._bound(n, inputs) > MAX_ELEMENTS or self.runs >= MAX_RUNS:
            return False
        self.runs += 1
        try:
            outs = _evaluate(n, inputs, self.opsets)
        except Exception:  # an operator the reference evaluator refuses: no value
            return False
        for t, v in zip(n.output, outs, strict=False):
            if t:
                v = np.asarray(v)
                if v.size > MAX_ELEMENTS:
                    return False
                self.values[t] = v
        return True

    def _bound(self, n: Any, inputs: list[Any]) -> int:
        """At most how many elements the node's outputs hold, before it runs."""
        import numpy as np

        present = [v for v in inputs if v is not None]
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name in ("value", "sparse_value"):
                    return _numel(a.t.dims) if a.name == "value" else MAX_ELEMENTS + 1
                if a.name in ("value_ints", "value_floats", "value_strings"):
                    return len(a.ints) + len(a.floats) + len(a.strings)
            return 1
        if n.op_type in ELEMENTWISE:
            try:
                return _numel(np.broadcast_shapes(*(v.shape for v in present)))
            except ValueError:
                return MAX_ELEMENTS + 1
        if n.op_type == "ConstantOfShape":
            if not present or present[0].ndim != 1 or any(int(d) < 0 for d in present[0]):
                return MAX_ELEMENTS + 1
            return _numel(present[0]) if present[0].size < 16 else MAX_ELEMENTS + 1
        if n.op_type == "Gather" and len(present) == 2:
            data, index = present
            axis = next((a.i for a in n.attribute if a.name == "axis"), 0)
            if data.ndim == 0 or not -data.ndim <= axis < data.ndim:
                return MAX_ELEMENTS + 1
            return int(index.size) * (int(data.size) // max(int(data.shape[axis]), 1))
        return sum(int(v.size) for v in present)


def _evaluate(n: Any, inputs: list[Any], opsets: Any) -> list[Any]:
    """The outputs of node `n` for `inputs`, by onnx's reference evaluator at the model's opsets."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    names = [f"in{k}" if t else "" for k, t in enumerate(n.input)]
    outs = [f"out{k}" if t else "" for k, t in enumerate(n.output)]
    node = helper.make_node(n.op_type, names, outs, domain=n.domain)
    node.attribute.extend(n.attribute)
    graph = helper.make_graph([node], "fold", [helper.make_tensor_value_info(t, 0, None) for t in names if t],
                              [helper.make_tensor_value_info(t, 0, None) for t in outs if t])
    model = helper.make_model(graph, opset_imports=list(opsets))
    feeds = {name: v for name, v in zip(names, inputs, strict=True) if name}
    got = ReferenceEvaluator(model).run(None, feeds)
    it = iter(got)
    return [next(it) if t else None for t in outs]


def data_tensors(graph: Any, inputs: Iterable[str], data_inputs: dict[str, int], no_data: frozenset[str]) -> set[str]:
    """The tensors computed from the network's inputs (as the reader's mapping sees them)."""
    data = set(inputs)
    for n in graph.node:
        limit = data_inputs.get(n.op_type, len(n.input))
        if n.op_type not in no_data and any(t in data for t in n.input[:limit]):
            data.update(t for t in n.output if t)
    return data


def settle(model: Any, inputs: Iterable[str], data_inputs: dict[str, int], no_data: frozenset[str],
           shapes_of: Callable[[Any], dict[str, tuple[int, ...] | None]], infer: Callable[[Any], Any]) -> Any:
    """`model` with each computed size input (the inputs after the data of the ops in `data_inputs`) that
    can be computed written as an initializer, and its shapes inferred again."""
    from onnx import numpy_helper

    names = set(inputs)
    taken = {t.name for t in model.graph.initializer}
    count = 0
    folder: Folder | None = None
    for _ in range(MAX_ROUNDS):
        g = model.graph
        data = data_tensors(g, names, data_inputs, no_data)
        folder = Folder(g, model.opset_import, shapes_of(model), data, folder)
        changed = False
        for n in g.node:
            limit = data_inputs.get(n.op_type)
            if limit is None or not any(t in data for t in n.input[:limit]) and n.op_type not in SHAPED:
                continue
            for i in range(limit, len(n.input)):
                t = n.input[i]
                if not t or t in taken or t in data or t not in folder.producer \
                        or folder.producer[t].op_type == "Constant":
                    continue
                v = folder.value(t)
                if v is None:
                    continue
                count += 1
                name = f"cnncalc_folded_{count}"
                while name in taken:
                    count += 1
                    name = f"cnncalc_folded_{count}"
                taken.add(name)
                g.initializer.append(numpy_helper.from_array(v, name))
                n.input[i] = name
                changed = True
        if not changed:
            break
        model = infer(model)
    return model
