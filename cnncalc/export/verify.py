"""Build the exported model in the real framework and compare it with cnncalc, layer by layer.

The generated source is executed in a fresh module namespace, the model is built and one batch
of zeros runs through it. Output shapes (without the batch) and parameter counts, trainable and
non-trainable separately, are compared for every spec layer. torch and keras are imported here
only, when `verify` runs.
"""

from __future__ import annotations

import math
import os
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import export

if TYPE_CHECKING:
    from ..analysis import Analysis

FRAMEWORKS = {"torch": "pytorch", "keras": "keras"}
INSTALL = {"torch": "pip install 'cnncalc[torch]'", "keras": "pip install 'cnncalc[keras]'"}


class MissingFramework(Exception):
    """The framework is not installed; the message is a one-line install hint."""


@dataclass
class Row:
    name: str
    type: str
    target: str  # module path or Keras layer name
    shape: tuple[int, ...]  # cnncalc, in the spec's layout
    got_shape: tuple[int, ...] | None
    trainable: int
    got_trainable: int
    non_trainable: int
    got_non_trainable: int

    @property
    def ok(self) -> bool:
        return (self.shape == self.got_shape and self.trainable == self.got_trainable
                and self.non_trainable == self.got_non_trainable)


@dataclass
class Report:
    framework: str
    version: str
    rows: list[Row]
    # the whole model's (trainable, non-trainable) weights as the framework counts them, each tensor
    # once (a shared layer's weights are one set): must equal cnncalc's totals
    totals: tuple[int, int] | None = None

    @property
    def expected(self) -> tuple[int, int]:
        return sum(r.trainable for r in self.rows), sum(r.non_trainable for r in self.rows)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and (self.totals is None or self.totals == self.expected)

    @property
    def mismatches(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]


def load_module(code: str, name: str) -> types.ModuleType:
    """Execute generated source as a fresh module."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    exec(compile(code, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own generated code
    return module


def verify(a: Analysis, framework: str = "torch") -> Report:
    """Build the exported model in `framework`, run one sample of zeros and compare every layer.

    Raises SpecError (at the spec's `input`) before building anything if the float32 weights and
    activations would take more than limits.MAX_VERIFY_BYTES."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; choose from {', '.join(FRAMEWORKS)}")
    check_size(a)
    return _torch(a) if framework == "torch" else _keras(a)


def check_size(a: Analysis) -> None:
    """Refuse a model whose weights and activations (float32, batch 1) exceed MAX_VERIFY_BYTES."""
    from ..limits import MAX_VERIFY_BYTES
    from ..memory import memory

    m = memory(a)
    need = m["forward_bytes"]
    if need > MAX_VERIFY_BYTES:
        from ..errors import Diagnostic, SpecError

        gb = lambda n: f"{n / 1e9:.1f} GB"  # noqa: E731
        raise SpecError(Diagnostic(
            "error", f"verify would allocate about {gb(need)} (weights {gb(m['param_bytes'])} + activations "
            f"{gb(need - m['param_bytes'])}, float32, batch 1), more than the {gb(MAX_VERIFY_BYTES)} it allows; "
            "verify a smaller input size (e.g. with --set) — cnncalc's own numbers need no framework",
            a.network.input_loc, "too-large"))


def _import(framework: str) -> Any:
    import importlib

    if framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        return importlib.import_module(framework)
    except ImportError as exc:
        what = "PyTorch" if framework == "torch" else "Keras 3"
        raise MissingFramework(f"cnncalc verify --framework {framework} needs {what}, which is not installed "
                               f"({exc}); install it with: {INSTALL[framework]}") from None


def _spec_shape(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """A channels-first framework shape shown in the spec's layout."""
    from ..layers import Tensor

    return Tensor.from_dims(dims, "channels_first").dims(layout)


def _calls(a: Analysis, names: dict[str, str]) -> dict[str, int]:
    """Which call of its module (or Keras layer) each spec layer is: 0, or k for the k-th layer that
    shares it (in the order the generated code calls them, the analysis order)."""
    seen: dict[str, int] = {}
    out = {}
    for layer in a.layers:
        target = names[layer.name]
        out[layer.name] = seen.get(target, 0)
        seen[target] = out[layer.name] + 1
    return out


def _torch(a: Analysis) -> Report:
    torch = _import("torch")
    e = export(a, "pytorch")
    module = load_module(e.code, "cnncalc_export_torch")
    with torch.device("meta"):  # verify needs shapes and counts, not values: skip initialising the weights
        model = getattr(module, e.builder)()
    model = model.to_empty(device="cpu").eval()
    outputs: dict[str, list[tuple[int, ...]]] = {}  # module path → the output shape of each call

    def hook(path: str) -> Any:
        return lambda _m, _i, out: outputs[path].append(tuple(out.shape[1:]))

    handles = []
    for path in dict.fromkeys(e.names.values()):
        outputs[path] = []
        handles.append(model.get_submodule(path).register_forward_hook(hook(path)))
    with torch.no_grad():
        model(*(torch.zeros(1, *shape) for shape in e.input_shapes or [e.input_shape]))
    for h in handles:
        h.remove()
    calls = _calls(a, e.names)

    def weights(m: Any) -> tuple[dict[int, int], dict[int, int]]:
        """(trainable, non-trainable) tensors of a module, by identity: their sizes."""
        trainable = {id(p): p.numel() for p in m.parameters() if p.requires_grad}
        frozen = {id(p): p.numel() for p in m.parameters() if not p.requires_grad}
        # BatchNorm's running mean and variance are buffers; num_batches_tracked is a counter, not a weight
        frozen.update({id(b): b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked")})
        return trainable, frozen

    rows = []
    for layer in a.layers:
        path = e.names[layer.name]
        trainable, frozen = weights(model.get_submodule(path))
        if layer.shares:  # its own weights: none, when it is the module of the layer it shares
            theirs = weights(model.get_submodule(e.names[layer.shares]))
            trainable = {k: v for k, v in trainable.items() if k not in theirs[0]}
            frozen = {k: v for k, v in frozen.items() if k not in theirs[1]}
        got_calls = outputs[path]
        k = calls[layer.name]
        got = got_calls[k] if k < len(got_calls) else None
        rows.append(Row(layer.name, layer.type, path, layer.output_shape,
                        _spec_shape(got, a.layout) if got is not None else None,
                        layer.trainable_params, sum(trainable.values()), layer.non_trainable_params,
                        sum(frozen.values())))
    total = weights(model)
    return Report("torch", torch.__version__, rows, (sum(total[0].values()), sum(total[1].values())))


def _keras(a: Analysis) -> Report:
    keras = _import("keras")
    e = export(a, "keras")
    module = load_module(e.code, "cnncalc_export_keras")
    model = getattr(module, e.builder)()
    names = [e.names[layer.name] for layer in a.layers]
    calls = _calls(a, e.names)
    # the k-th call of a layer used again (shared weights) is its k-th inbound node
    probe = keras.Model(model.inputs, [model.get_layer(e.names[layer.name])._get_node_attribute_at_index(
        calls[layer.name], "output_tensors", "output") for layer in a.layers])
    zeros = [keras.ops.zeros((1, *shape)) for shape in e.input_shapes or [e.input_shape]]
    feed = zeros if len(zeros) > 1 else zeros[0]
    if keras.backend.backend() == "torch":
        import torch

        with torch.no_grad():
            outs = probe(feed, training=False)
    else:
        outs = probe(feed, training=False)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    owned: dict[str, list[Any]] = {n: [] for n in names}
    for layer in model.layers:
        owner = layer.name.split("__")[0]
        if owner in owned:
            owned[owner].append(layer)

    def count(weights: list[Any]) -> int:
        return sum(math.prod(int(d) for d in w.shape) for w in weights)

    rows = []
    for layer, name, out in zip(a.layers, names, outs, strict=True):
        # a layer called again owns no weights: they are those of the layer it shares
        parts = [] if layer.shares and name == e.names[layer.shares] else owned[name]
        rows.append(Row(layer.name, layer.type, name, layer.output_shape, tuple(int(d) for d in out.shape[1:]),
                        layer.trainable_params, sum(count(p.trainable_weights) for p in parts),
                        layer.non_trainable_params, sum(count(p.non_trainable_weights) for p in parts)))
    unique = lambda ws: list({id(w): w for w in ws}.values())  # noqa: E731
    totals = (count(unique(model.trainable_weights)), count(unique(model.non_trainable_weights)))
    return Report("keras", f"{keras.__version__} ({keras.backend.backend()} backend)", rows, totals)
