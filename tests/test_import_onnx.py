"""Round trip through ONNX: every shipped architecture exported to PyTorch, written to ONNX by torch's own
exporter, imported back. The imported spec must analyse to the original's per-layer shapes, params and
MACs (matched by module path), pass `verify` in PyTorch, and fold its repeats as the shipped specs do."""

from __future__ import annotations

import warnings

import pytest
from conftest import ARCH

import cnncalc
from cnncalc import importers
from cnncalc.export import export
from cnncalc.export.verify import load_module, verify

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

ARCHS = sorted(p.stem for p in ARCH.glob("*.yaml"))  # every shipped architecture


class _LRN(torch.autograd.Function):
    """LocalResponseNorm exported as the ONNX LRN operator (torch's exporter writes it as ~20 elementwise
    nodes, an `If` among them): what a converter from Caffe, where LRN is one layer, writes."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):  # type: ignore[no-untyped-def]
        return torch.nn.functional.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):  # type: ignore[no-untyped-def]
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class _OneOpLRN(torch.nn.LocalResponseNorm):
    def forward(self, x):  # type: ignore[no-untyped-def]
        return _LRN.apply(x, self.size, self.alpha, self.beta, self.k)


def to_onnx(a, path):
    """The spec's exported PyTorch model written by torch.onnx.export (TorchScript exporter: it needs only
    the onnx package; the dynamo exporter would also need onnxscript). Returns the export's names."""
    e = export(a, "pytorch")
    module = load_module(e.code, "cnncalc_export_onnx")
    with torch.device("meta"):
        model = getattr(module, e.builder)()
    model = model.to_empty(device="cpu").eval()  # memory, no initialisation: the values do not matter
    for m in list(model.modules()):
        for name, child in list(m.named_children()):
            if type(child) is torch.nn.LocalResponseNorm:
                setattr(m, name, _OneOpLRN(child.size, child.alpha, child.beta, child.k))
    names = [name for name, _, _ in a.network.inputs] if a.network.named_inputs else None
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(torch.zeros(1, *s) for s in e.input_shapes or [e.input_shape]), str(path),
                          dynamo=False, do_constant_folding=False, input_names=names,
                          output_names=list(a.network.outputs) if a.network.named_outputs else None)
    return e


def call_names(original, names):
    """The imported name of each original layer: its module path, or for the n-th call (n ≥ 1) of one
    module (a layer given as `share:`), the path with `_n`, as torch's exporter and tracer name it."""
    calls: dict[str, int] = {}
    out = {}
    for layer in original.layers:
        path = names[layer.name]
        n = calls.get(path, 0)
        calls[path] = n + 1
        out[layer.name] = path if n == 0 else f"{path}_{n}"
    return out


def compare(original, imported, names):
    """Each original layer against the imported layer of its module path (a shared layer: that module's
    later call); layers the exporter leaves out (dropout at inference, an identity such as ConvNeXt's
    stochastic depth) must be ones that compute nothing."""
    by_name = {layer.name: layer for layer in imported.layers}
    names = call_names(original, names)
    matched = 0
    for layer in original.layers:
        got = by_name.get(names[layer.name])
        if got is None:
            assert (layer.params, layer.macs) == (0, 0) and layer.type in ("dropout", "identity"), layer.name
            continue
        assert (got.tensor, got.trainable_params, got.non_trainable_params, got.macs) == \
            (layer.tensor, layer.trainable_params, layer.non_trainable_params, layer.macs), layer.name
        matched += 1
    assert matched >= 0.8 * sum(layer.type not in ("dropout", "identity") for layer in original.layers)
    for key in ("trainable_params", "non_trainable_params", "macs"):
        assert imported.totals[key] == original.totals[key], key


@pytest.mark.parametrize("arch", ARCHS)
def test_round_trip_through_onnx(arch, tmp_path):
    a = cnncalc.analyse(ARCH / f"{arch}.yaml")
    path = tmp_path / f"{arch}.onnx"
    e = to_onnx(a, path)
    text, b = importers.to_spec(importers.read(str(path)))
    compare(a, b, e.names)
    again = cnncalc.analyse(cnncalc.loads(text, "imported.yaml"))  # the text itself, as a user reads it
    assert again.totals == b.totals
    report = verify(b, "torch")
    assert report.ok, [r.name for r in report.mismatches]


def test_resnet50_folds_as_the_shipped_spec(tmp_path):
    """The bottlenecks become one block, used 3, 4, 6 and 3 times, with the downsample pair written in it."""
    a = cnncalc.analyse(ARCH / "resnet50.yaml")
    path = tmp_path / "resnet50.onnx"
    to_onnx(a, path)
    text, b = importers.to_spec(importers.read(str(path)))
    uses = [line for line in text.splitlines() if "{block:" in line]
    assert len(uses) == 4
    assert [u.split("repeat: ")[1].split(",")[0] for u in uses] == ["3", "4", "6", "3"]
    assert text.count("\n  layer_block:\n") == 1 and "if: $downsample" in text
    assert "'${filters * 4}'" in text
    assert len(text.splitlines()) < 40
    assert len(b.layers) == len(a.layers)


def _concat_graph(path, constant):  # type: ignore[no-untyped-def]
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    inputs = ["x", "c"] if constant else ["x"]
    inits = [numpy_helper.from_array(np.zeros((1, 2, 4, 4), "float32"), "c")] if constant else []
    channels = 5 if constant else 3
    graph = helper.make_graph(
        [helper.make_node("Concat", inputs, ["cat_out"], axis=1, name="cat"),
         helper.make_node("Relu", ["cat_out"], ["y"], name="relu")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, 4, 4])], initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_a_concat_of_one_tensor_is_that_tensor_and_of_a_constant_is_refused(tmp_path):
    """torch.cat([x]) is x (as the factory reads it); a Concat with a stored tensor is a named error."""
    _concat_graph(tmp_path / "one.onnx", constant=False)
    _, a = importers.to_spec(importers.read(str(tmp_path / "one.onnx")))
    assert [(layer.name, layer.type, layer.output_shape) for layer in a.layers] == \
        [("cat", "identity", (3, 4, 4)), ("relu", "relu", (3, 4, 4))]
    _concat_graph(tmp_path / "const.onnx", constant=True)
    with pytest.raises(importers.ImportFailure, match=r"node 0 \(Concat 'cat'\).*Concat with a constant"):
        importers.read(str(tmp_path / "const.onnx"))
