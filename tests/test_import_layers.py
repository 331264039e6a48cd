"""Each layer type an importer maps, read from the real framework: a small PyTorch module traced as a
factory and the same module written to ONNX by torch's exporter, and a Keras model. The imported layer
must be of the right type with the right parameters (padding modes kept, never counted as zero
padding), its totals equal the framework's own parameters()/buffers/count_params(), and the imported
spec pass `verify` in the framework (every layer's shape and parameter count against the real model)."""

from __future__ import annotations

import os
import warnings

import pytest
import yaml

from cnncalc import importers
from cnncalc.export.verify import verify
from cnncalc.importers.factory import read_module
from cnncalc.importers.model import ImportFailure, Options
from cnncalc.layers import lookup

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from torch import nn  # noqa: E402


class SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.attn(x, x, x, need_weights=False)[0]


class FirstToken(nn.Module):
    def forward(self, x):  # type: ignore[no-untyped-def]
        return x[:, 0]


class Padded(nn.Module):
    """F.pad in forward, as a module's own code pads."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x):  # type: ignore[no-untyped-def]
        return nn.functional.pad(x, (1, 2, 0, 1), mode=self.mode)


class Scaled(nn.Module):
    """`γ * x` in forward, γ a parameter (torchvision's ConvNeXt: C x 1 x 1; timm's LayerScale: C on the
    last axis), or a buffer (a constant: no layer scale)."""

    def __init__(self, shape: tuple[int, ...], learned: bool = True) -> None:
        super().__init__()
        if learned:
            self.gamma = nn.Parameter(torch.full(shape, 1e-6))
        else:
            self.register_buffer("gamma", torch.full(shape, 1e-6))

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.gamma * x



class Patches(nn.Module):
    """A ViT patch embedding written in forward, attributes named unlike torchvision's: a 4x4 convolution
    of stride 4 (16 patches of 16 features from 3x16x16), its grid flattened to tokens (`order`: reshape
    then transpose as torchvision, flatten then transpose as timm, or permute then reshape), a learned
    token in front and a learned embedding added, each when asked for."""

    def __init__(self, token: bool = True, embedding: bool = True, order: str = "reshape", bias: bool = True,
                 patch: tuple[int, int] = (4, 4)) -> None:
        super().__init__()
        self.project = nn.Conv2d(3, 16, patch, stride=patch, bias=bias)
        self.order = order
        self.token = nn.Parameter(torch.zeros(1, 1, 16)) if token else None
        tokens = (16 // patch[0]) * (16 // patch[1]) + token
        self.embedding = nn.Parameter(torch.zeros(1, tokens, 16)) if embedding else None

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.project(x)
        n, d, h, w = x.shape
        if self.order == "reshape":
            x = x.reshape(n, d, h * w).permute(0, 2, 1)
        elif self.order == "flatten":
            x = x.flatten(2).transpose(1, 2)
        else:
            x = x.permute(0, 2, 3, 1).reshape(n, h * w, d)
        if self.token is not None:
            x = torch.cat([self.token.expand(n, -1, -1), x], dim=1)
        if self.embedding is not None:
            x = x + self.embedding
        return x

# id: (module factory, input without batch, the imported layer's type and parameters (a subset), ONNX too)
TORCH = {
    "conv1d": (lambda: nn.Conv1d(4, 8, 3, padding=1), (4, 16), "conv1d", {"filters": 8, "kernel": 3}, True),
    "conv3d": (lambda: nn.Conv3d(3, 8, 3, stride=2, padding=1), (3, 8, 16, 16), "conv3d",
               {"filters": 8, "stride": 2}, True),
    "conv3d_asymmetric": (lambda: nn.Conv3d(3, 8, (3, 5, 5), padding=(1, 2, 2), bias=False), (3, 6, 12, 12),
                          "conv3d", {"kernel": [3, 5, 5], "bias": False}, True),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1), (4, 10), "conv_transpose1d",
                         {"filters": 6, "stride": 2, "padding": 1}, True),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(4, 6, 2, stride=2), (4, 4, 8, 8), "conv_transpose3d",
                         {"filters": 6, "kernel": 2}, True),
    "conv2d_reflect": (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (3, 8, 8), "conv2d",
                       {"padding": 1, "padding_mode": "reflect"}, True),
    "conv2d_replicate": (lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), (3, 8, 8), "conv2d",
                         {"padding": 2, "padding_mode": "replicate"}, True),
    "conv1d_circular": (lambda: nn.Conv1d(3, 4, 3, padding=1, padding_mode="circular"), (3, 8), "conv1d",
                        {"padding": 1, "padding_mode": "circular"}, False),
    "max_pool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), (4, 15), "max_pool1d", {"kernel": 3}, True),
    "avg_pool1d": (lambda: nn.AvgPool1d(2), (4, 16), "avg_pool1d", {"kernel": 2}, True),
    "max_pool3d": (lambda: nn.MaxPool3d(2, ceil_mode=True), (4, 5, 9, 9), "max_pool3d", {"ceil_mode": True}, True),
    "avg_pool3d": (lambda: nn.AvgPool3d((1, 2, 2)), (4, 4, 8, 8), "avg_pool3d", {"kernel": [1, 2, 2]}, True),
    "adaptive_avg_pool1d": (lambda: nn.AdaptiveAvgPool1d(4), (4, 16), "adaptive_avg_pool1d",
                            {"output_size": 4}, False),
    "adaptive_avg_pool3d": (lambda: nn.AdaptiveAvgPool3d((2, 3, 3)), (4, 4, 9, 9), "adaptive_avg_pool3d",
                            {"output_size": [2, 3, 3]}, False),
    "adaptive_max_pool1d": (lambda: nn.AdaptiveMaxPool1d(4), (4, 16), "adaptive_max_pool1d",
                            {"output_size": 4}, False),
    "adaptive_max_pool2d": (lambda: nn.AdaptiveMaxPool2d((3, 5)), (4, 9, 10), "adaptive_max_pool2d",
                            {"output_size": [3, 5]}, False),
    "adaptive_max_pool3d": (lambda: nn.AdaptiveMaxPool3d(2), (4, 4, 8, 8), "adaptive_max_pool3d",
                            {"output_size": 2}, False),
    "global_avg_pool1d": (lambda: nn.AdaptiveAvgPool1d(1), (4, 16), "adaptive_avg_pool1d", {"output_size": 1}, False),
    "global_avg_pool3d": (lambda: nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten()), (4, 4, 8, 8),
                          "global_avg_pool3d", {}, True),
    "global_max_pool1d": (lambda: nn.AdaptiveMaxPool1d(1), (4, 16), "global_max_pool1d", {"keepdims": True}, False),
    "batch_norm3d": (lambda: nn.BatchNorm3d(4), (4, 4, 8, 8), "batch_norm", {}, True),
    "batch_norm1d": (lambda: nn.BatchNorm1d(4), (4, 16), "batch_norm", {}, True),
    "reflection_pad1d": (lambda: nn.ReflectionPad1d((1, 2)), (4, 16), "reflection_pad1d", {"padding": [[1, 2]]},
                         True),
    "replication_pad2d": (lambda: nn.ReplicationPad2d((1, 2, 0, 3)), (4, 8, 8), "replication_pad2d",
                          {"padding": [[0, 3], [1, 2]]}, True),
    "replication_pad3d": (lambda: nn.ReplicationPad3d(1), (4, 4, 8, 8), "replication_pad3d", {"padding": 1}, True),
    "reflection_pad3d": (lambda: nn.ReflectionPad3d(1), (4, 4, 8, 8), "reflection_pad3d", {"padding": 1}, True),
    "circular_pad2d": (lambda: nn.CircularPad2d(1), (4, 8, 8), "circular_pad2d", {"padding": 1}, False),
    "constant_pad2d": (lambda: nn.ConstantPad2d(2, 0.5), (4, 8, 8), "constant_pad2d", {"value": 0.5}, True),
    "zero_pad3d": (lambda: nn.ZeroPad3d((1, 1, 2, 2, 0, 0)), (4, 4, 8, 8), "zero_pad3d", {"padding": [0, 2, 1]},
                   True),
    "f_pad_reflect": (lambda: Padded("reflect"), (4, 8, 8), "reflection_pad2d", {"padding": [[0, 1], [1, 2]]}, True),
    "f_pad_replicate": (lambda: Padded("replicate"), (4, 8, 8), "replication_pad2d", {"padding": [[0, 1], [1, 2]]},
                        True),
    "prelu": (lambda: nn.PReLU(), (4, 8, 8), "prelu", {}, True),
    "prelu_channels": (lambda: nn.PReLU(4), (4, 8, 8), "prelu", {"num_parameters": 4}, True),
    "selu": (lambda: nn.SELU(), (4, 8), "selu", {}, True),
    "celu": (lambda: nn.CELU(0.5), (4, 8), "celu", {"alpha": 0.5}, True),
    "mish": (lambda: nn.Mish(), (4, 8), "mish", {}, True),
    "softplus": (lambda: nn.Softplus(), (4, 8), "softplus", {}, True),
    "softsign": (lambda: nn.Softsign(), (4, 8), "softsign", {}, False),
    "tanhshrink": (lambda: nn.Tanhshrink(), (4, 8), "tanhshrink", {}, False),
    "hardshrink": (lambda: nn.Hardshrink(0.3), (4, 8), "hardshrink", {"lambd": 0.3}, False),
    "softshrink": (lambda: nn.Softshrink(0.2), (4, 8), "softshrink", {"lambd": 0.2}, False),
    "threshold": (lambda: nn.Threshold(0.1, 2.0), (4, 8), "threshold", {"threshold": 0.1, "value": 2.0}, False),
    "log_sigmoid": (lambda: nn.LogSigmoid(), (4, 8), "log_sigmoid", {}, False),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), (10,), "log_softmax", {"axis": 1}, True),
    "hardtanh": (lambda: nn.Hardtanh(-2.0, 2.0), (4, 8), "hardtanh", {"min_val": -2.0, "max_val": 2.0}, True),
    "gelu_tanh": (lambda: nn.GELU("tanh"), (4, 8), "gelu", {"approximate": "tanh"}, True),
    "dense_last_axis": (lambda: nn.Linear(16, 8), (5, 16), "dense", {"units": 8}, True),
    "multi_head_attention": (SelfAttention, (10, 16), "multi_head_attention", {"heads": 4}, False),
    "select_token": (FirstToken, (5, 16), "select_token", {"index": 0}, True),
    "layer_scale_channels": (lambda: Scaled((4, 1, 1)), (4, 8, 8), "layer_scale", {"axis": None}, False),
    "layer_scale_tokens": (lambda: Scaled((16,)), (5, 16), "layer_scale", {"axis": 2}, False),
    "layer_scale_width": (lambda: Scaled((1, 1, 8)), (4, 6, 8), "layer_scale", {"axis": 3}, False),
    "patch_embedding": (Patches, (3, 16, 16), "patch_embedding",
                        {"dim": 16, "patch": 4, "class_token": True, "position_embedding": True, "bias": True}, True),
    "patch_embedding_position_only": (lambda: Patches(token=False, order="flatten"), (3, 16, 16), "patch_embedding",
                                      {"class_token": False, "position_embedding": True}, True),
    "patch_embedding_token_only": (lambda: Patches(embedding=False, bias=False), (3, 16, 16), "patch_embedding",
                                   {"class_token": True, "position_embedding": False, "bias": False}, True),
    "patch_embedding_permute_first": (lambda: Patches(order="permute", patch=(4, 2)), (3, 16, 16),
                                      "patch_embedding", {"patch": [4, 2], "class_token": True}, False),
}


def torch_counts(model):  # type: ignore[no-untyped-def]
    return sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))


def check(imp, model, kind, params, framework):  # type: ignore[no-untyped-def]
    text, a = importers.to_spec(imp)
    layers = [layer for layer in a.layers if layer.type == kind]
    assert layers, text
    declared = lookup(kind).params
    entry = next(e for e in yaml.safe_load(text)["layers"] if e.get("type") == kind)  # as the spec writes it
    assert {k: entry.get(k, declared[k].default) for k in params} == params, text
    assert a.totals["params"] == (torch_counts(model) if framework == "torch" else model.count_params())
    report = verify(a, framework)
    assert report.ok, [r.name for r in report.mismatches]
    return text, a


@pytest.mark.parametrize("case", sorted(TORCH))
def test_pytorch_module_imports_as_its_layer_type(case):
    make, shape, kind, params, _ = TORCH[case]
    with torch.device("meta"):  # as a factory is called: no weight allocated
        model = nn.Sequential(make()).eval()  # a module of torch.nn is a leaf of the trace: it needs a parent
    check(read_module(model, f"m.py:{case}", Options(shape), case), model, kind, params, "torch")


@pytest.mark.parametrize("case", sorted(c for c, v in TORCH.items() if v[4]))
def test_onnx_node_imports_as_its_layer_type(case, tmp_path):
    make, shape, kind, params, _ = TORCH[case]
    model = nn.Sequential(make()).eval()  # node names /0/...: the module whose nodes make one layer
    path = tmp_path / f"{case}.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=False, do_constant_folding=False)
    check(importers.read(str(path)), model, kind, params, "torch")


def test_a_constant_scale_or_one_of_other_shape_is_no_layer_scale():
    """Only a learned parameter with one axis of the tensor's size scales as layer_scale: a buffer is a
    constant (cnncalc's layer_scale counts trainable weights), a scale per element of a whole plane no
    layer of cnncalc."""
    for shape, learned in (((4, 1, 1), False), ((4, 8, 8), True)):
        with torch.device("meta"):
            model = nn.Sequential(Scaled(shape, learned)).eval()
        with pytest.raises(ImportFailure, match=r"fx node 2 \(call_(function|method) mul\).*constant or a weight"):
            read_module(model, "m.py:Scaled", Options((4, 8, 8)), "scaled")


class Embedded(nn.Module):
    """Patches' convolution, token and embedding in three modules, none holding just the patch embedding's
    calls (as torchvision's ViT: conv_proj, its own class_token, encoder.pos_embedding)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = Patches(token=False, embedding=False)  # the convolution and the flattening to tokens
        self.token = nn.Parameter(torch.zeros(1, 1, 16))
        self.encoder = nn.Module()
        self.encoder.pos = nn.Parameter(torch.zeros(1, 17, 16))
        self.norm = nn.LayerNorm(16)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.stem(x)
        x = torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.norm(x + self.encoder.pos)


def test_patch_embedding_is_named_after_its_module_or_its_convolution(tmp_path):
    """A module of just the patch embedding's calls names it; else its convolution's module does. The
    factory and ONNX importers agree."""
    with torch.device("meta"):
        model = nn.Sequential(Patches()).eval()
    assert read_module(model, "m.py:m", Options((3, 16, 16)), "m").nodes[0].name == "0"
    model = Embedded().eval()
    path = tmp_path / "embedded.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 16, 16),), str(path), dynamo=False)
    with torch.device("meta"):
        traced = Embedded().eval()
    for imp in (read_module(traced, "m.py:Embedded", Options((3, 16, 16)), "m"), importers.read(str(path))):
        _, a = importers.to_spec(imp)
        first = a.layers[0]
        assert (first.name, first.type, first.params, a.layers[1].inputs) == \
            ("stem.project", "patch_embedding", torch_counts(model) - 32, ["stem.project"])
        assert a.totals["params"] == torch_counts(model)


class Unembedded(nn.Module):
    """A learned parameter added to, or concatenated with, what is no patch embedding's tokens."""

    def __init__(self, case: str) -> None:
        super().__init__()
        self.case = case
        self.conv = nn.Conv2d(3, 16, 4, stride=4 if case != "overlapping" else 2, padding=0)
        tokens = 16 if case != "overlapping" else 49
        self.pos = nn.Parameter(torch.zeros(1, tokens + (case == "two_tokens") * 2, 16))
        self.tokens = nn.Parameter(torch.zeros(1, 2, 16))

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.conv(x).flatten(2).transpose(1, 2)
        if self.case == "two_tokens":  # DeiT's class and distillation tokens: no layer of cnncalc
            x = torch.cat([self.tokens.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos


@pytest.mark.parametrize(("case", "node"), [("overlapping", r"fx node \d+ \(call_function add\): add\(\): it adds "
                                                          r"the weight 'pos'"),
                                            ("two_tokens", r"fx node \d+ \(call_function cat\): cat\(\): a "
                                                           r"concatenation with a weight")])
def test_a_learned_token_or_embedding_outside_a_patch_embedding_is_an_error_naming_the_node(case, node):
    """A convolution whose stride is not its kernel is no patch embedding: the embedding added to it is an
    error naming the add; two learned tokens in front (DeiT) are no class token: the concatenation is one,
    never a silent identity that drops the tokens."""
    with torch.device("meta"):
        model = Unembedded(case).eval()
    with pytest.raises(ImportFailure, match=node):
        read_module(model, "m.py:Unembedded", Options((3, 16, 16)), "m")

def test_circular_padding_is_never_read_as_zero_padding(tmp_path):
    """torch writes a circular padding to ONNX as slices and a concatenation: refused, not zero padding."""
    path = tmp_path / "circular.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(nn.CircularPad2d(1).eval(), (torch.zeros(1, 4, 8, 8),), str(path), dynamo=False)
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(importers.read(str(path)))
    assert "[unknown-op]" in str(err.value) and "zero" not in str(err.value).split("--allow-unknown")[0]


# ---- ONNX operators torch does not write (other exporters do): hand-built graphs ----------------------

def onnx_graph(tmp_path, op, inputs_shape, attrs=None, extra=(), opset=18):  # type: ignore[no-untyped-def]
    """x → `op` (with constant extra inputs) → y, as an ONNX file."""
    from onnx import TensorProto, helper

    inits = [helper.make_tensor(name, TensorProto.FLOAT if isinstance(v[0], float) else TensorProto.INT64,
                                [len(v)] if name != "w" else shape, v) for name, v, shape in extra]
    node = helper.make_node(op, ["x", *(name for name, _, _ in extra)], ["y"], name=f"/layer/{op}", **(attrs or {}))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *inputs_shape])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = tmp_path / "op.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


ONNX_OPS = {  # id: (op, input, attributes, constant inputs (name, values, shape), layer type, its parameters)
    "hardshrink": ("Shrink", (4, 8), {"lambd": 0.3}, (), "hardshrink", {"lambd": 0.3}),
    "softshrink": ("Shrink", (4, 8), {"lambd": 0.25, "bias": 0.25}, (), "softshrink", {"lambd": 0.25}),
    "softsign": ("Softsign", (4, 8), {}, (), "softsign", {}),
    "mish": ("Mish", (4, 8), {}, (), "mish", {}),
    "thresholded_relu": ("ThresholdedRelu", (4, 8), {"alpha": 0.5}, (), "threshold",
                         {"threshold": 0.5, "value": 0.0}),
    "clip": ("Clip", (4, 8), {}, (("lo", [-2.0], None), ("hi", [2.0], None)), "hardtanh",
             {"min_val": -2.0, "max_val": 2.0}),
    "pad_wrap": ("Pad", (4, 8, 8), {"mode": "wrap"}, (("p", [0, 0, 1, 2, 0, 0, 1, 2], None),), "circular_pad2d",
                 {"padding": [1, 2]}),
    "pad_edge_3d": ("Pad", (4, 4, 8, 8), {"mode": "edge"}, (("p", [0, 0, 1, 1, 1, 0, 0, 1, 1, 1], None),),
                    "replication_pad3d", {"padding": 1}),
    "pad_reflect_1d": ("Pad", (4, 8), {"mode": "reflect"}, (("p", [0, 0, 2, 0, 0, 1], None),), "reflection_pad1d",
                       {"padding": [[2, 1]]}),
    "global_max_pool3d": ("GlobalMaxPool", (4, 4, 8, 8), {}, (), "global_max_pool3d", {"keepdims": True}),
    "global_avg_pool1d": ("GlobalAveragePool", (4, 16), {}, (), "global_avg_pool1d", {"keepdims": True}),
    "reduce_mean_3d": ("ReduceMean", (4, 4, 8, 8), {"keepdims": 0}, (("axes", [2, 3, 4], None),), "global_avg_pool3d",
                       {"keepdims": False}),
    "prelu_channels": ("PRelu", (4, 8, 8), {}, (("w", [0.25] * 4, [4, 1, 1]),), "prelu", {"num_parameters": 4}),
}


@pytest.mark.parametrize("case", sorted(ONNX_OPS))
def test_onnx_operator_imports_as_its_layer_type(case, tmp_path):
    op, shape, attrs, extra, kind, params = ONNX_OPS[case]
    text, a = importers.to_spec(importers.read(str(onnx_graph(tmp_path, op, shape, attrs, extra))))
    entry = next(e for e in yaml.safe_load(text)["layers"] if e.get("type") == kind)
    declared = lookup(kind).params
    assert {k: entry.get(k, declared[k].default) for k in params} == params, text
    assert verify(a, "torch").ok


def test_onnx_weights_shared_in_part_are_refused(tmp_path):
    """Two convolutions with one weight and two biases: no `share:` writes that; one line, exit 1."""
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4, 3, 3], [0.0] * 144)
    b1 = helper.make_tensor("b1", TensorProto.FLOAT, [4], [0.0] * 4)
    b2 = helper.make_tensor("b2", TensorProto.FLOAT, [4], [0.0] * 4)
    nodes = [helper.make_node("Conv", ["x", "w", "b1"], ["c1"], name="/a/Conv", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["c1", "w", "b2"], ["y"], name="/b/Conv", pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, b1, b2])
    path = tmp_path / "partial.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ImportFailure) as err:
        importers.read(str(path))
    assert "uses some of the weights of a" in str(err.value) and "[import-mismatch]" in str(err.value)


def test_onnx_initializer_used_twice_is_a_shared_layer(tmp_path):
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4, 3, 3], [0.0] * 144)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c1"], name="/block/Conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r"], name="/relu/Relu"),
             helper.make_node("Conv", ["r", "w"], ["y"], name="/block_1/Conv", pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    path = tmp_path / "tied.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    text, a = importers.to_spec(importers.read(str(path)))
    assert "  - {share: block, name: block_1}\n" in text
    assert a.totals["params"] == 144 and a.layer("block_1").macs == a.layer("block").macs == 144 * 64


# ---- Keras ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


KERAS = {  # id: (layer factory (keras.layers), input without batch, the imported type and parameters)
    "conv3d": (lambda L: L.Conv3D(8, 3, strides=2, padding="same"), (8, 16, 16, 3), "conv3d",
               {"filters": 8, "padding": "same"}),
    "conv1d_causal": (lambda L: L.Conv1D(8, 3, padding="causal", dilation_rate=2), (16, 4), "conv1d",
                      {"padding": "causal", "dilation": 2}),
    "conv1d_transpose": (lambda L: L.Conv1DTranspose(6, 4, strides=2), (10, 4), "conv_transpose1d",
                         {"filters": 6, "stride": 2}),
    "conv3d_transpose": (lambda L: L.Conv3DTranspose(6, 2, strides=2, padding="same"), (4, 8, 8, 4),
                         "conv_transpose3d", {"padding": "same"}),
    "max_pool1d": (lambda L: L.MaxPooling1D(3, strides=2, padding="same"), (15, 4), "max_pool1d", {"kernel": 3}),
    "avg_pool3d": (lambda L: L.AveragePooling3D((1, 2, 2)), (4, 8, 8, 4), "avg_pool3d", {"kernel": [1, 2, 2]}),
    "max_pool3d": (lambda L: L.MaxPooling3D(2), (4, 8, 8, 4), "max_pool3d", {"kernel": 2}),
    "global_avg_pool1d": (lambda L: L.GlobalAveragePooling1D(), (16, 4), "global_avg_pool1d", {}),
    "global_max_pool3d": (lambda L: L.GlobalMaxPooling3D(keepdims=True), (4, 8, 8, 4), "global_max_pool3d",
                          {"keepdims": True}),
    "adaptive_avg_pool1d": (lambda L: L.AdaptiveAveragePooling1D(4), (16, 4), "adaptive_avg_pool1d",
                            {"output_size": 4}),
    "adaptive_max_pool2d": (lambda L: L.AdaptiveMaxPooling2D((3, 5)), (9, 10, 4), "adaptive_max_pool2d",
                            {"output_size": [3, 5]}),
    "adaptive_avg_pool3d": (lambda L: L.AdaptiveAveragePooling3D(2), (4, 8, 8, 4), "adaptive_avg_pool3d",
                            {"output_size": 2}),
    "zero_pad1d": (lambda L: L.ZeroPadding1D((1, 2)), (16, 4), "zero_pad1d", {"padding": [[1, 2]]}),
    "zero_pad3d": (lambda L: L.ZeroPadding3D(1), (4, 8, 8, 4), "zero_pad3d", {"padding": 1}),
    "prelu": (lambda L: L.PReLU(shared_axes=[1, 2]), (8, 8, 4), "prelu", {"shared_axes": [1, 2]}),
    "prelu_every_element": (lambda L: L.PReLU(), (8, 8, 4), "prelu", {"shared_axes": []}),
    "dense_last_axis": (lambda L: L.Dense(8), (5, 16), "dense", {"units": 8}),
    "selu": (lambda L: L.Activation("selu"), (4, 8), "selu", {}),
    "mish": (lambda L: L.Activation("mish"), (4, 8), "mish", {}),
    "softplus": (lambda L: L.Activation("softplus"), (4, 8), "softplus", {}),
    "log_softmax": (lambda L: L.Activation("log_softmax"), (10,), "log_softmax", {}),
    "spatial_dropout3d": (lambda L: L.SpatialDropout3D(0.2), (4, 8, 8, 4), "dropout", {"rate": 0.2}),
    "batch_norm3d": (lambda L: L.BatchNormalization(), (4, 8, 8, 4), "batch_norm", {}),
    # β without γ (InceptionV3), γ without β, neither
    "batch_norm_no_scale": (lambda L: L.BatchNormalization(scale=False), (6, 6, 4), "batch_norm", {"scale": False}),
    "batch_norm_no_center": (lambda L: L.BatchNormalization(center=False), (6, 6, 4), "batch_norm",
                             {"center": False}),
    "batch_norm_not_affine": (lambda L: L.BatchNormalization(center=False, scale=False), (6, 6, 4), "batch_norm",
                              {"affine": False}),
    # Keras's instance normalisation (saved as groups = the channels once built)
    "group_norm_per_channel": (lambda L: L.GroupNormalization(groups=-1), (6, 6, 4), "instance_norm", {"affine": True}),
    "group_norm_per_channel_no_center": (lambda L: L.GroupNormalization(groups=-1, center=False), (6, 6, 4),
                                         "group_norm", {"groups": 4, "center": False}),
    "group_norm": (lambda L: L.GroupNormalization(groups=2), (6, 6, 4), "group_norm", {"groups": 2}),
    "layer_norm_last": (lambda L: L.LayerNormalization(), (6, 6, 4), "layer_norm", {"axis": [-1]}),
    "layer_norm_all": (lambda L: L.LayerNormalization(axis=[1, 2, 3]), (6, 6, 4), "layer_norm", {"axis": [1, 2, 3]}),
}


@pytest.mark.parametrize("case", sorted(KERAS))
def test_keras_layer_imports_as_its_layer_type(case, keras, tmp_path):
    make, shape, kind, params = KERAS[case]
    x = keras.Input(shape)
    model = keras.Model(x, make(keras.layers)(x))
    path = tmp_path / f"{case}.keras"
    model.save(path)
    check(importers.read(str(path)), model, kind, params, "keras")


def test_keras_self_attention_imports_as_multi_head_attention(keras, tmp_path):
    x = keras.Input((10, 16))
    y = keras.layers.MultiHeadAttention(4, 8, name="mha")(x, x)
    model = keras.Model(x, y)
    path = tmp_path / "mha.keras"
    model.save(path)
    check(importers.read(str(path)), model, "multi_head_attention", {"heads": 4, "key_dim": 8}, "keras")


def test_keras_attention_inside_a_model_imports_with_keras_counts(keras, tmp_path):
    """A transformer block as a Keras user writes it: MultiHeadAttention over the H·W positions of an image
    (Keras's default axes) and over a sequence with its own value_dim and output_shape, LayerNormalization."""
    L = keras.layers
    x = keras.Input((6, 6, 16))
    y = L.Add(name="res")([x, L.MultiHeadAttention(2, 8, name="mha_image")(x, x)])
    y = L.LayerNormalization(epsilon=1e-6, name="ln")(y)
    y = L.Reshape((36, 16), name="tokens")(y)
    y = L.MultiHeadAttention(4, 8, value_dim=6, output_shape=12, use_bias=False, name="mha_seq")(y, y)
    y = L.LayerNormalization(axis=[1, 2], name="ln_all")(y)
    model = keras.Model(x, L.GlobalAveragePooling1D(name="gap")(y))
    path = tmp_path / "block.keras"
    model.save(path)
    text, a = importers.to_spec(importers.read(str(path)))
    assert "{type: multi_head_attention, name: mha_image, heads: 2, key_dim: 8}" in text
    assert "{type: multi_head_attention, name: mha_seq, heads: 4, key_dim: 8, bias: false, value_dim: 6, " \
           "output_dim: 12}" in text
    for name in ("mha_image", "mha_seq", "ln", "ln_all"):
        assert a.layer(name).params == model.get_layer(name).count_params(), name
    assert a.totals["params"] == model.count_params() == (4 * (16 * 16 + 16)) + 2 * 16 + \
        (2 * 16 * 32 + 16 * 24 + 24 * 12) + 2 * 36 * 12
    assert a.layer("ln_all").output_shape == (36, 12)
    report = verify(a, "keras")
    assert report.ok, [r.name for r in report.mismatches]


def test_keras_layers_called_twice_inputs_and_outputs(keras, tmp_path):
    """Two named inputs, one Conv2D and one Dense called on both (shared weights), two outputs."""
    L = keras.layers
    a, b = keras.Input((8, 8, 3), name="left"), keras.Input((8, 8, 3), name="right")
    conv, head = L.Conv2D(4, 3, name="conv"), L.Dense(2, name="head")
    pool = L.GlobalAveragePooling2D(name="pool")
    ya, yb = head(pool(conv(a))), head(pool(conv(b)))
    model = keras.Model([a, b], [ya, yb])
    path = tmp_path / "siamese.keras"
    model.save(path)
    text, s = importers.to_spec(importers.read(str(path)))
    assert "\ninputs: {left: [8, 8, 3], right: [8, 8, 3]}\noutputs: [head, head_1]\n" in text
    assert "{share: conv, name: conv_1, inputs: [right]}" in text and "{share: head, name: head_1, inputs: [pool_1]}" in text
    assert s.totals["params"] == model.count_params() == 3 * 3 * 3 * 4 + 4 + 4 * 2 + 2
    assert s.layer("conv_1").macs == s.layer("conv").macs
    assert verify(s, "keras").ok
