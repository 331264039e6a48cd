"""Dense layers over many axes, multi-head self-attention and patch embedding against real PyTorch,
Keras and torchvision's ViT: output shapes, trainable parameters and multiply-accumulates over grids.

MACs come from torch's own FlopCounterMode (2 FLOPs per multiply-add of every matmul it runs);
torch's fused attention kernel is switched off so that Q·Kᵀ and A·V run as the bmm it counts, and
Keras's attention is asked for its scores so that it runs its einsums rather than a fused kernel.
"""

from __future__ import annotations

import itertools
import math
import os

import pytest

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.explain import layer_lines  # noqa: E402
from cnncalc.receptive import receptive_fields  # noqa: E402


def analyse(layers: str, dims: tuple[int, ...], layout: str = "channels_first"):
    return cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n{layers}", "t.yaml"))


def one(layer: str, dims: tuple[int, ...], layout: str = "channels_first"):
    return analyse(f"  - {layer}\n", dims, layout).layers[0]


def torch_macs(module, x, **kwargs) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x, **kwargs)
    assert counter.get_total_flops() % 2 == 0
    return counter.get_total_flops() // 2


def keras_weights(layer) -> int:
    return sum(math.prod(w.shape) for w in layer.trainable_weights)


# ----------------------------------------------------------------------------- dense on the last axis

DIMS = [(12,), (5, 12), (3, 5, 12), (1, 1, 12), (7, 1)]


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("units,bias", [(1, True), (7, True), (7, False), (64, True)])
def test_dense_maps_the_last_axis_as_torch_linear(dims, units, bias):
    """A channels_first spec's dims are PyTorch's: nn.Linear maps the last of them."""
    linear = torch.nn.Linear(dims[-1], units, bias=bias)
    x = torch.zeros(1, *dims)
    got = one(f"{{type: dense, units: {units}, bias: {str(bias).lower()}}}", dims)
    assert got.output_shape == tuple(linear(x).shape[1:])
    assert got.trainable_params == sum(p.numel() for p in linear.parameters())
    assert got.macs == torch_macs(linear, x)
    assert got.to_dict()["ops"]["bias"] == (math.prod(got.output_shape) if bias else 0)


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("units,bias", [(7, True), (3, False)])
def test_dense_maps_the_last_axis_as_keras_dense(dims, layout, units, bias):
    """Keras keeps the spec's layout: Dense maps its last axis, whichever axis that is."""
    dense = keras.layers.Dense(units, use_bias=bias)
    y = dense(keras.Input(shape=dims))
    got = one(f"{{type: dense, units: {units}, bias: {str(bias).lower()}}}", dims, layout)
    assert (got.output_shape, got.trainable_params) == (tuple(y.shape[1:]), keras_weights(dense))
    assert got.macs == math.prod(dims) * units


def test_dense_receptive_field_per_position_and_whole():
    a = analyse("  - {type: conv2d, filters: 4, kernel: 3}\n  - {type: dense, units: 6}\n  - flatten\n"
                "  - {type: dense, units: 2}\n", (9, 9, 3), "channels_last")
    rf = receptive_fields(a)
    assert rf["fc1"].size == rf["conv1"].size == (3, 3)  # the same weights at each position
    assert rf["fc2"].kind == "global"


@pytest.mark.parametrize("key,value,needle", [
    ("in_features", 4096, "in_features 4096, but its input has 9216 features"),
])
def test_restated_in_features_is_checked_and_located(key, value, needle):
    text = ("input: [6, 6, 256]\nlayers:\n  - flatten\n"
            f"  - {{type: Linear, name: fc1, {key}: {value}, out_features: 4096}}\n")
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "alexnet.yaml"))
    d = info.value.first
    assert d.message == f"fc1: {needle}" and d.rule == "shape-mismatch"
    assert (d.loc.line, d.loc.col) == (4, text.splitlines()[3].index(str(value)) + 1)
    good = text.replace("4096, out", "9216, out")
    assert cnncalc.analyse(cnncalc.loads(good)).layers[-1].trainable_params == 9216 * 4096 + 4096


def test_a_classifier_without_its_flatten_is_warned_about_but_pointwise_layers_are_not():
    warned = analyse("  - {type: dense, units: 10}\n  - {type: softmax}\n", (6, 6, 256), "channels_last")
    assert [w.rule for w in warned.warnings] == ["dense-needs-flat"]
    assert warned.warnings[0].layer == "fc1"
    pointwise = analyse("  - {type: dense, units: 10}\n  - gelu\n  - {type: dense, units: 4}\n  - flatten\n",
                        (6, 6, 256), "channels_last")  # ConvNeXt's MLP, then a classifier
    sequence = analyse("  - {type: dense, units: 10}\n  - softmax\n", (12, 16), "channels_last")  # per token
    assert pointwise.warnings == [] and sequence.warnings == []


# ----------------------------------------------------------------------------- multi-head attention


@pytest.fixture
def slow_path():
    """torch's attention as separate matmuls (its fused kernel hides them from FlopCounterMode)."""
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(True)


MHA_GRID = list(itertools.product([(5, 8), (1, 8), (9, 12), (2, 3, 12)], [1, 2, 3, 4, 5],
                                  [(True, False, False), (False, False, False), (True, True, False),
                                   (True, False, True), (False, True, True)]))


@pytest.mark.parametrize("dims,heads,options", MHA_GRID)
def test_attention_equals_torch_multihead_attention(dims, heads, options, slow_path):
    bias, bias_kv, zero_attn = options
    e = dims[-1]
    spec = (f"{{type: multi_head_attention, heads: {heads}, bias: {str(bias).lower()}, "
            f"add_bias_kv: {str(bias_kv).lower()}, add_zero_attn: {str(zero_attn).lower()}}}")
    try:
        module = torch.nn.MultiheadAttention(e, heads, bias=bias, add_bias_kv=bias_kv, add_zero_attn=zero_attn,
                                             batch_first=True).eval()
    except AssertionError:  # embed_dim must be divisible by num_heads
        with pytest.raises(cnncalc.SpecError, match="heads do not divide"):
            one(spec, dims)
        return
    got = one(spec, dims)
    tokens = torch.zeros(1, math.prod(dims[:-1]), e)
    out, _ = module(tokens, tokens, tokens, need_weights=True)
    assert got.output_shape == (*dims[:-1], out.shape[-1])
    assert got.trainable_params == sum(p.numel() for p in module.parameters())
    assert got.macs == torch_macs(module, tokens, key=tokens, value=tokens, need_weights=True)


KERAS_GRID = [((5, 8), 2, None, None, None), ((5, 8), 2, 3, 5, 7), ((5, 8), 1, 16, None, None),
              ((4, 5, 6), 3, 2, None, None), ((4, 5, 6), 2, 4, 2, 3), ((2, 6), 3, None, None, None)]


@pytest.mark.parametrize("dims,heads,key_dim,value_dim,output_dim", KERAS_GRID)
@pytest.mark.parametrize("bias", [True, False])
def test_attention_equals_keras_multi_head_attention(dims, heads, key_dim, value_dim, output_dim, bias):
    """Keras attends over every axis but the batch and the features (the last)."""
    e = dims[-1]
    layer = keras.layers.MultiHeadAttention(heads, key_dim or e // heads, value_dim=value_dim, use_bias=bias,
                                            output_shape=output_dim)
    x = keras.ops.zeros((1, *dims))
    layer(x, x)
    options = "".join(f", {k}: {v}" for k, v in (("key_dim", key_dim), ("value_dim", value_dim),
                                                   ("output_dim", output_dim)) if v)
    got = one(f"{{type: MultiHeadAttention, num_heads: {heads}, use_bias: {str(bias).lower()}{options}}}", dims,
              "channels_last")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y, _ = layer(x, x, return_attention_scores=True)  # the einsums, not a fused kernel
    assert (got.output_shape, got.trainable_params) == (tuple(y.shape[1:]), keras_weights(layer))
    assert got.macs == counter.get_total_flops() // 2


def test_attention_explain_names_the_attention_matmuls():
    lines = layer_lines(one("{type: multi_head_attention, heads: 12}", (197, 768)))
    assert "Q·Kᵀ MACs = 12 · 197 positions · 197 positions · 64 Q·Kᵀ = 29,805,312" in lines
    assert "A·V MACs = 12 · 197 positions · 197 positions · 64 A·V = 29,805,312" in lines
    assert lines[-1].startswith("FLOPs = 2·524,391,936 MACs + 605,184 bias adds + 463,344 adds")


@pytest.mark.parametrize("spec,message,value", [
    ("{type: MultiheadAttention, embed_dim: 64, num_heads: 4}", "embed_dim 64, but its input has 12 features", "64"),
    ("{type: mha, heads: 4, kdim: 10}", "kdim 10, but its input has 12 features", "10"),
    ("{type: mha, heads: 5}", "5 heads do not divide the input's 12 features", "5"),
])
def test_attention_refusals_are_located(spec, message, value):
    text = f"input: [9, 12]\nlayers:\n  - {spec}\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "a.yaml"))
    d = info.value.first
    assert message in d.message and (d.loc.line, d.loc.col) == (3, text.splitlines()[2].index(value) + 1)


def test_attention_needs_positions():
    with pytest.raises(cnncalc.SpecError, match="needs positions to attend over"):
        one("{type: mha, heads: 2}", (8,))


def test_attention_sees_every_position():
    a = analyse("  - {type: conv2d, filters: 4, kernel: 3}\n  - {type: mha, heads: 2}\n", (9, 9, 3), "channels_last")
    assert receptive_fields(a)["attn1"].kind == "global"


def test_keras_only_attention_is_refused_in_pytorch_export():
    a = analyse("  - {type: mha, heads: 2, key_dim: 3}\n", (5, 8))
    from cnncalc.export.verify import verify

    with pytest.raises(cnncalc.SpecError, match="Keras only"):
        verify(a, "torch")
    assert verify(a, "keras").mismatches == []


# ----------------------------------------------------------------------------- patch embedding and ViT


VIT_GRID = [(32, 8, 16, 2, 32), (32, 16, 24, 3, 48), (48, 16, 12, 4, 24), (224, 16, 768, 12, 3072)]


@pytest.mark.parametrize("image,patch,hidden,heads,mlp", VIT_GRID)
def test_vit_pieces_equal_torchvision(image, patch, hidden, heads, mlp, torchvision):
    """torchvision's VisionTransformer, module by module: the patch embedding is its conv_proj with the
    class token and the encoder's position embedding; then one encoder block's attention and MLP."""
    from torchvision.models.vision_transformer import VisionTransformer

    with torch.device("meta"):
        vit = VisionTransformer(image, patch, num_layers=1, num_heads=heads, hidden_dim=hidden, mlp_dim=mlp)
    block = vit.encoder.layers[0]
    a = analyse(f"""  - {{type: patch_embedding, dim: {hidden}, patch: {patch}, class_token: true, position_embedding: true}}
  - {{type: MultiheadAttention, name: self_attention, num_heads: {heads}}}
  - {{type: Linear, name: mlp.0, out_features: {mlp}}}
  - {{type: gelu, name: mlp.1}}
  - {{type: Linear, name: mlp.3, out_features: {hidden}}}
""", (3, image, image))
    x = torch.zeros(1, 3, image, image, device="meta")
    tokens = vit._process_input(x)
    tokens = torch.cat([vit.class_token.expand(1, -1, -1), tokens], dim=1)
    embed = a.layers[0]
    assert embed.output_shape == tuple(tokens.shape[1:]) == tuple(vit.encoder.pos_embedding.shape[1:])
    assert embed.trainable_params == sum(p.numel() for p in (*vit.conv_proj.parameters(), vit.class_token,
                                                             vit.encoder.pos_embedding))
    for layer in a.layers[1:]:
        module = block.get_submodule(layer.name)
        assert layer.trainable_params == sum(p.numel() for p in module.parameters()), layer.name
    assert a.layers[-1].output_shape == tuple(block(tokens).shape[1:])


@pytest.mark.parametrize("image,patch", [(224, 16), (32, 4), (30, 7), (16, (4, 8))])
def test_patch_embedding_equals_its_convolution(image, patch):
    """Without class token: conv (kernel = stride = patch), flattened to tokens; the unread rows are warned."""
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    conv = torch.nn.Conv2d(3, 10, (ph, pw), stride=(ph, pw))
    x = torch.zeros(1, 3, image, image)
    y = conv(x).flatten(2).transpose(1, 2)
    size = patch if isinstance(patch, int) else list(patch)
    a = analyse(f"  - {{type: patch_embedding, dim: 10, patch: {size}}}\n", (image, image, 3), "channels_last")
    got = a.layers[0]
    assert (got.output_shape, got.trainable_params, got.macs) == \
        (tuple(y.shape[1:]), sum(p.numel() for p in conv.parameters()), torch_macs(conv, x))
    assert bool(a.warnings) == (image % ph != 0)


def test_patch_embedding_equals_keras_in_both_layouts():
    from cnncalc.export.verify import verify

    for layout, dims in (("channels_last", (12, 13, 3)), ("channels_first", (3, 12, 13))):
        a = analyse("  - {type: patch_embedding, dim: 8, patch: 4, class_token: true, position_embedding: true}\n"
                    "  - {type: mha, heads: 2}\n  - {type: dense, units: 5}\n  - {type: select_token, index: -1}\n"
                    "  - {type: dense, units: 3}\n", dims, layout)
        assert [layer.output_shape for layer in a.layers] == [(10, 8), (10, 8), (10, 5), (5,), (3,)]
        assert verify(a, "keras").mismatches == [] and verify(a, "torch").mismatches == []


def test_vit_b_16_macs_equal_torchvisions_published_gflops(torchvision):
    """ViT-B/16 without its layer norms (0 MACs; another layer type) and with the head applied to the class
    token: torchvision's published 17.564 GFLOPS count the attention matmuls, and so does cnncalc."""
    weights = torchvision.models.ViT_B_16_Weights.DEFAULT
    block = "  - {type: mha, heads: 12}\n  - {type: dense, units: 3072, activation: gelu}\n  - {type: dense, units: 768}\n"
    vit_spec = analyse("  - {type: patch_embedding, dim: 768, patch: 16, class_token: true, position_embedding: true}\n"
                       + block * 12 + "  - select_token\n  - {type: dense, units: 1000}\n", (3, 224, 224))
    assert round(vit_spec.totals["macs"] / 1e9, 3) == weights.meta["_ops"] == 17.564
    with torch.device("meta"):
        vit = torchvision.models.vit_b_16(weights=None)
    layer_norms = sum(p.numel() for m in vit.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters())
    assert vit_spec.totals["trainable_params"] + layer_norms == sum(p.numel() for p in vit.parameters()) == \
        weights.meta["num_params"]
    assert vit_spec.output_shape == tuple(vit(torch.zeros(1, 3, 224, 224, device="meta")).shape[1:])


@pytest.mark.parametrize("dims,layer,message,value", [
    ((4, 5, 6), "{type: select_token}", "select_token needs a sequence (tokens x features), got 4x5x6", "select"),
    ((5, 6), "{type: select_token, index: 5}", "index 5 is not one of the 5 tokens", "5}"),
])
def test_select_token_refusals_are_located(dims, layer, message, value):
    text = f"input: {list(dims)}\nlayers:\n  - {layer}\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "s.yaml"))
    d = info.value.first
    assert message in d.message and d.loc.line == 3
    if value != "select":
        assert d.loc.col == text.splitlines()[2].index(value) + 1
