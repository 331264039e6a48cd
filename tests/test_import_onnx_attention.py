"""ONNX import of the transformer layers torch's exporter writes as many nodes: multi-head self-attention
(found by the graph's structure, whatever the nodes are called), a ViT patch embedding, GELU before
opset 20; and torchvision's own ViT-B/16 and ConvNeXt-Tiny written by torch's exporter, which must
import with torchvision's parameter counts and the MACs of cnncalc's shipped specs."""

from __future__ import annotations

import warnings

import pytest
from conftest import ARCH, import_torchvision

import cnncalc
from cnncalc import importers
from cnncalc.export.verify import verify
from cnncalc.importers.model import ImportFailure, Options

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_import_onnx import compare, to_onnx  # noqa: E402

FORMS = {  # cnncalc's exported SelfAttention and PatchEmbedding, in every form, through torch's exporter
    "forms": """
name: attention forms
input: [3, 16, 16]
layout: channels_first
layers:
  - {type: conv2d, name: conv, filters: 8, kernel: 3, padding: 1}
  - {type: multi_head_attention, name: attn_img, heads: 2}            # over the 8·16 rows of 16 features
  - {type: patch_embedding, name: patches, dim: 12, patch: 4, bias: false}  # a module of its own
  - {type: multi_head_attention, name: attn3, heads: 3}               # odd: torch's unfused path anyway
  - {type: layer_norm, name: ln}
  - {type: multi_head_attention, name: attn_plain, heads: 2, bias: false}
  - {type: select_token, name: first, index: 0}
  - {type: dense, name: fc, units: 10}
""",
    "class_token": """
name: class token only
input: [3, 16, 16]
layout: channels_first
layers:
  - {type: patch_embedding, name: patches, dim: 8, patch: [4, 8], class_token: true}   # expanded: shape folded
  - {type: multi_head_attention, name: attn, heads: 4, dropout: 0.1}
  - {type: gelu, name: act, approximate: tanh}
  - {type: select_token, name: cls, index: -1}
"""}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_attention_forms_round_trip_through_onnx(form, tmp_path):
    spec = tmp_path / f"{form}.yaml"
    spec.write_text(FORMS[form])
    a = cnncalc.analyse(spec)
    path = tmp_path / f"{form}.onnx"
    e = to_onnx(a, path)
    text, b = importers.to_spec(importers.read(str(path)))
    compare(a, b, e.names)
    assert [layer.type for layer in b.layers] == [layer.type for layer in a.layers]
    assert verify(b, "torch").ok


def weight(name, *shape):  # type: ignore[no-untyped-def]
    return numpy_helper.from_array(np.zeros(shape, dtype="float32"), name)


def ints(name, values):  # type: ignore[no-untyped-def]
    return numpy_helper.from_array(np.array(values, dtype="int64"), name)


def attention_graph(tokens, features, heads, key_dim, separate=True, bias=True):  # type: ignore[no-untyped-def]
    """Self-attention written node by node, without node names: Q, K, V projections (separate, or one packed
    projection split in three), heads split by Reshape and Transpose, Q·Kᵀ scaled by a Div, Softmax, A·V,
    heads merged, output projection."""
    inner = heads * key_dim
    nodes, inits = [], [ints("heads_shape", [1, tokens, heads, key_dim]), ints("merged_shape", [1, tokens, inner]),
                        numpy_helper.from_array(np.array(key_dim ** 0.5, dtype="float32"), "scale")]

    def project(x, out, w, units, n_in):  # type: ignore[no-untyped-def]
        inits.append(weight(w, n_in, units))
        if bias:
            inits.append(weight(w + "_b", units))
            nodes.append(helper.make_node("MatMul", [x, w], [out + "_mm"]))
            nodes.append(helper.make_node("Add", [out + "_mm", w + "_b"], [out]))
        else:
            nodes.append(helper.make_node("MatMul", [x, w], [out]))

    if separate:
        for t in "qkv":
            project("x", t + "_p", "w" + t, inner, features)
    else:
        project("x", "qkv", "w_in", 3 * inner, features)
        inits.append(ints("thirds", [inner] * 3))
        nodes.append(helper.make_node("Split", ["qkv", "thirds"], ["q_p", "k_p", "v_p"], axis=-1))
    for t, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        nodes.append(helper.make_node("Reshape", [t + "_p", "heads_shape"], [t + "_r"]))
        nodes.append(helper.make_node("Transpose", [t + "_r"], [t + "_h"], perm=perm))
    nodes += [helper.make_node("MatMul", ["q_h", "k_h"], ["scores"]),
              helper.make_node("Div", ["scores", "scale"], ["scaled"]),
              helper.make_node("Softmax", ["scaled"], ["weights"], axis=-1),
              helper.make_node("MatMul", ["weights", "v_h"], ["mixed"]),
              helper.make_node("Transpose", ["mixed"], ["mixed_t"], perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["mixed_t", "merged_shape"], ["merged"])]
    project("merged", "y", "wo", features, inner)
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, tokens, features])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])


def read(model, tmp_path, **options):  # type: ignore[no-untyped-def]
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    imp = importers.read(str(path), Options(**options))
    text, a = importers.to_spec(imp)
    return imp, a


@pytest.mark.parametrize(("key_dim", "separate", "bias", "params", "weights", "macs"), [
    # 5 tokens of 8 features, 2 heads: Q, K, V 8·2·key_dim each (+ biases), output 2·key_dim·8 + 8;
    # MACs 5·8·(3·2·key_dim) projections + 2·5·5·key_dim twice (Q·Kᵀ, A·V) + 5·(2·key_dim)·8 output
    (4, True, True, {"heads": 2}, 3 * (64 + 8) + 64 + 8, 5 * 8 * 24 + 2 * 200 + 5 * 8 * 8),
    (4, False, True, {"heads": 2}, 3 * (64 + 8) + 64 + 8, 5 * 8 * 24 + 2 * 200 + 5 * 8 * 8),
    (3, True, True, {"heads": 2, "key_dim": 3}, 3 * (48 + 6) + 48 + 8, 5 * 8 * 18 + 2 * 150 + 5 * 6 * 8),
    (4, True, False, {"heads": 2, "bias": False}, 3 * 64 + 64, 5 * 8 * 24 + 2 * 200 + 5 * 8 * 8),
])
def test_attention_is_found_by_its_structure(tmp_path, key_dim, separate, bias, params, weights, macs):
    imp, a = read(attention_graph(5, 8, 2, key_dim, separate, bias), tmp_path)
    (node,) = imp.nodes
    assert (node.type, node.params, node.weights, node.inputs) == ("multi_head_attention", params, weights, ["input"])
    assert (a.totals["params"], a.totals["macs"], a.layers[0].output_shape) == (weights, macs, (5, 8))


def test_a_softmax_between_products_without_projections_names_the_node(tmp_path):
    """Q·Kᵀ of the input itself: the attention pattern breaks where the queries should be projected."""
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["x", "xt"], ["s"], name="scores"),
             helper.make_node("Softmax", ["s"], ["w"], axis=-1, name="soft"),
             helper.make_node("MatMul", ["w", "x"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    with pytest.raises(ImportFailure) as err:
        read(model, tmp_path)
    message = err.value.diagnostics[0].message
    assert message.startswith("node 1 (MatMul 'scores'): part of a multi-head attention (around the Softmax node 2 "
                              "(Softmax 'soft')) that cannot be mapped: its input 'x' comes from no projection")
    imp, a = read(model, tmp_path, allow_unknown=True)  # left to the other mappings: opaque products
    assert [n.type for n in imp.nodes] == ["permute", "opaque", "softmax", "opaque"]


def test_cross_attention_is_refused_at_its_projection(tmp_path):
    model = attention_graph(5, 8, 2, 4)
    model.graph.input.append(helper.make_tensor_value_info("context", TensorProto.FLOAT, [1, 5, 8]))
    key = next(n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] == "wk")
    key.input[0] = "context"
    with pytest.raises(ImportFailure) as err:
        read(model, tmp_path)
    assert "project different tensors (cross-attention" in err.value.diagnostics[0].message


def test_gelu_before_opset_20_is_one_layer(tmp_path):
    """torch writes GELU as Div, Erf, Add, Mul, Mul (and its tanh approximation as nine nodes) before opset 20."""
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.LayerNorm(16),
                                torch.nn.GELU(approximate="tanh"))
    path = tmp_path / "gelu.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 4, 8),), str(path), dynamo=False, opset_version=17)
    text, a = importers.to_spec(importers.read(str(path)))
    assert [(layer.type, layer.params) for layer in a.layers] == \
        [("dense", 144), ("gelu", 0), ("layer_norm", 32), ("gelu", 0)]
    assert "approximate: tanh" in text.splitlines()[-1]


def torchvision_onnx(name, path):  # type: ignore[no-untyped-def]
    """torchvision's model (its memory uninitialised: the values do not matter) written by torch's
    TorchScript exporter as a user calls it, with gradients on; returns its parameter count."""
    tv = import_torchvision()
    with torch.device("meta"):
        model = getattr(tv.models, name)()
    model = model.to_empty(device="cpu").eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["vit_b_16", "convnext_tiny"])
def test_torchvision_transformers_import_with_their_counts(name, tmp_path):
    path = tmp_path / f"{name}.onnx"
    params = torchvision_onnx(name, path)
    text, b = importers.to_spec(importers.read(str(path)))
    shipped = cnncalc.analyse(ARCH / f"{name}.yaml")
    assert (b.totals["trainable_params"], b.totals["non_trainable_params"], b.totals["macs"]) == \
        (params, 0, shipped.totals["macs"])
    assert params == {"vit_b_16": 86_567_656, "convnext_tiny": 28_589_128}[name]
    types = [layer.type for layer in b.layers]
    if name == "vit_b_16":
        assert (types.count("multi_head_attention"), types.count("patch_embedding"), types.count("gelu")) == (12, 1, 12)
        # named after its convolution's module, as the factory importer names it (no module holds just its nodes)
        assert (b.layers[0].name, b.layers[0].type) == ("conv_proj", "patch_embedding")
    else:
        assert (types.count("layer_scale"), types.count("dense")) == (18, 37)


@pytest.mark.parametrize(("opset", "axis"), [(20, 1), (20, -2), (20, 2), (11, None), (11, 1), (20, "-1")])
def test_a_softmax_over_another_axis_than_the_keys_is_no_attention(tmp_path, opset, axis):
    """Attention normalises each query's scores over the keys, the last axis; a Softmax over the heads or the
    queries (or, before opset 13, its default axis 1: over everything but the batch) computes another
    function, refused at the Softmax rather than counted as multi_head_attention."""
    model = attention_graph(5, 8, 2, 4)
    soft = next(n for n in model.graph.node if n.op_type == "Softmax")
    del soft.attribute[:]
    if axis is not None:
        soft.attribute.append(helper.make_attribute("axis", axis))
    model.opset_import[0].version = opset
    with pytest.raises(ImportFailure) as err:
        read(model, tmp_path)
    message = err.value.diagnostics[0].message
    assert message.startswith("node 14 (Softmax): part of a multi-head attention"), message
    assert "not over the keys (the last axis)" in message


@pytest.mark.parametrize(("opset", "axis"), [(20, 3), (11, 3), (11, -1), (12, -1)])
def test_a_softmax_over_the_last_axis_is_attention_in_every_opset(tmp_path, opset, axis):
    model = attention_graph(5, 8, 2, 4)
    soft = next(n for n in model.graph.node if n.op_type == "Softmax")
    del soft.attribute[:]
    soft.attribute.append(helper.make_attribute("axis", axis))
    model.opset_import[0].version = opset
    imp, a = read(model, tmp_path)
    assert [(n.type, n.params) for n in imp.nodes] == [("multi_head_attention", {"heads": 2})]
