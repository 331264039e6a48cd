"""The tool presets on activations, dense layers over many axes, attention and patch embedding,
against the real tools (torchinfo, fvcore, ptflops, thop, calflops), one layer at a time.

The PyTorch modules are those `cnncalc export` writes (the SelfAttention and PatchEmbedding
helpers hold a real nn.MultiheadAttention and nn.Conv2d, as torchvision's ViT does), or torch's own.
A tool that counts nothing for a type must be declared so (`Uncounted`), never a silent zero.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from test_conventions_oracle import ARCH_DIR, SLOW, TOOLS, check, need, run_tool  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import conventions  # noqa: E402
from cnncalc.layers import all_types  # noqa: E402
from cnncalc.layers.attention import SELF_ATTENTION_TORCH  # noqa: E402
from cnncalc.layers.base import Uncounted  # noqa: E402
from cnncalc.layers.dense import CHANNELS_LAST_LINEAR_TORCH  # noqa: E402
from cnncalc.layers.patch_embedding import PATCH_EMBEDDING_TORCH, SELECT_TOKEN_TORCH  # noqa: E402

HELPERS: dict = {"torch": torch, "nn": nn}
for source in (SELF_ATTENTION_TORCH, CHANNELS_LAST_LINEAR_TORCH, PATCH_EMBEDDING_TORCH, SELECT_TOKEN_TORCH):
    exec(source, HELPERS)  # noqa: S102 - cnncalc's own export helpers
SelfAttention, ChannelsLastLinear, PatchEmbedding = (HELPERS[n] for n in
                                                     ("SelfAttention", "ChannelsLastLinear", "PatchEmbedding"))

# id: (torch module factory, input C,H,W (torch's layout), cnncalc layer, layout of the spec)
CF, CL = "channels_first", "channels_last"
LAYERS = {
    "prelu": (nn.PReLU, (4, 6, 6), "prelu", CF),
    "prelu_channels": (lambda: nn.PReLU(4), (4, 6, 6), "{type: prelu, num_parameters: 4}", CF),
    "selu": (nn.SELU, (4, 6, 6), "selu", CF),
    "celu": (lambda: nn.CELU(2.0), (4, 6, 6), "{type: celu, alpha: 2}", CF),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (4, 6, 6), "{type: gelu, approximate: tanh}", CF),
    "mish": (nn.Mish, (4, 6, 6), "mish", CF),
    "softplus": (nn.Softplus, (4, 6, 6), "softplus", CF),
    "softsign": (nn.Softsign, (4, 6, 6), "softsign", CF),
    "hardtanh": (nn.Hardtanh, (4, 6, 6), "hardtanh", CF),
    "log_sigmoid": (nn.LogSigmoid, (4, 6, 6), "log_sigmoid", CF),
    "tanhshrink": (nn.Tanhshrink, (4, 6, 6), "tanhshrink", CF),
    "hardshrink": (nn.Hardshrink, (4, 6, 6), "hardshrink", CF),
    "softshrink": (nn.Softshrink, (4, 6, 6), "softshrink", CF),
    "threshold": (lambda: nn.Threshold(0.1, 20.0), (4, 6, 6), "{type: threshold, threshold: 0.1, value: 20}", CF),
    "relu_inplace": (lambda: nn.ReLU(inplace=True), (4, 6, 6), "{type: relu, inplace: true}", CF),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), (4, 6, 6), "{type: log_softmax, axis: 1}", CF),
    "softmax_last": (lambda: nn.Softmax(dim=-1), (4, 6, 7), "softmax", CF),
    # dense on the last axis: (N, L, E), (N, C, H, W) and a channels-last image in PyTorch's layout
    "dense_sequence": (lambda: nn.Linear(6, 5), (4, 6), "{type: dense, units: 5}", CF),
    "dense_sequence_no_bias": (lambda: nn.Linear(6, 5, bias=False), (4, 6), "{type: dense, units: 5, bias: false}",
                               CF),
    "dense_4d": (lambda: nn.Linear(7, 5), (3, 6, 7), "{type: dense, units: 5}", CF),
    "dense_channels_last": (lambda: ChannelsLastLinear(3, 5), (3, 6, 7), "{type: dense, units: 5}", CL),
    # self-attention: torch's fused fast path (even heads, biases) and its slow path
    "mha_fast": (lambda: SelfAttention(8, 2), (5, 8), "{type: multi_head_attention, heads: 2}", CF),
    "mha_odd_heads": (lambda: SelfAttention(12, 3), (7, 12), "{type: multi_head_attention, heads: 3}", CF),
    "mha_one_head": (lambda: SelfAttention(8, 1), (5, 8), "{type: multi_head_attention, heads: 1}", CF),
    "mha_no_bias": (lambda: SelfAttention(8, 2, bias=False), (5, 8),
                    "{type: multi_head_attention, heads: 2, bias: false}", CF),
    "mha_bias_kv": (lambda: SelfAttention(8, 2, add_bias_kv=True), (5, 8),
                    "{type: multi_head_attention, heads: 2, add_bias_kv: true}", CF),
    "mha_zero_attn": (lambda: SelfAttention(8, 2, add_zero_attn=True), (5, 8),
                      "{type: multi_head_attention, heads: 2, add_zero_attn: true}", CF),
    "mha_image": (lambda: SelfAttention(6, 3, features_last=False), (6, 4, 5),
                  "{type: multi_head_attention, heads: 3}", CL),
    "patch_embedding": (lambda: PatchEmbedding(3, 8, 4, 9), (3, 12, 12),
                        "{type: patch_embedding, dim: 8, patch: 4}", CF),
    "select_token": (lambda: HELPERS["SelectToken"](), (5, 8), "select_token", CF),
    "patch_embedding_vit": (lambda: PatchEmbedding(3, 8, 4, 10, class_token=True, position_embedding=True),
                            (3, 12, 13), "{type: patch_embedding, dim: 8, patch: 4, class_token: true, "
                                         "position_embedding: true}", CF),
}


def spec(chw: tuple[int, ...], layer: str, layout: str, name: str):
    dims = chw if layout == CF else (*chw[1:], chw[0])
    return cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n  - {layer}\n", f"{name}.yaml")


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("case", list(LAYERS))
def test_single_layer(case, tool):
    need(tool)
    factory, chw, layer, layout = LAYERS[case]
    check(tool, cnncalc.analyse(spec(chw, layer, layout, case), convention=tool), run_tool(tool, factory(), chw))


MINE = ("activations", "softmax", "dense", "attention", "patch_embedding", "layer_scale")


@pytest.mark.parametrize("tool", TOOLS)
def test_no_type_of_this_area_is_a_silent_zero(tool):
    """Every tool preset either has a rule for each of these types or declares that it counts nothing."""
    conv = conventions.get(tool)
    for cls in all_types().values():
        if cls.__module__.rsplit(".", 1)[-1] not in MINE:
            continue
        rules = [conv.rule(what, cls) for what in ("macs", "flops")]
        declared = [r for r in rules if isinstance(r, Uncounted) or callable(r) or (r and any(
            term not in ("mac", "bias") for term in r))]
        weighs_own_ops = cls.family in ("conv",) or cls.name == "dense"
        computes_nothing = cls.name == "select_token"  # an index: no operation in any convention
        assert declared or weighs_own_ops or computes_nothing, f"{tool}: {cls.name} falls to a default rule"


def test_conventions_command_says_what_a_tool_does_not_count():
    text = "\n".join(conventions.describe(conventions.get("thop")))
    listed = text.split("not counted (0, the tool does not see an operation):", 1)[1].replace("\n", " ")
    assert {"mish", "multi_head_attention", "relu"} <= {name.strip(" ,") for name in listed.split()}
    assert "  prelu macs: out" in text.splitlines()


# --------------------------------------------------------------------------- whole networks

# hardswish/hardsigmoid, SiLU/sigmoid, SE blocks; attention, layer norm, GELU; layer scale, channel layer norm
TORCHVISION = ("mobilenet_v3_large", "efficientnet_b0", "vit_b_16", "convnext_tiny")


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("arch", [pytest.param(a, marks=pytest.mark.skipif(
    not SLOW, reason="slow: set CNNCALC_SLOW_TESTS=1")) for a in TORCHVISION])
def test_torchvision_architecture(arch, tool, torchvision):
    """The tool on torchvision's own model (stochastic depth is the identity at inference)."""
    need(tool)
    model = getattr(torchvision.models, arch)(weights=None)
    analysis = cnncalc.analyse(ARCH_DIR / f"{arch}.yaml", convention=tool)
    macs, flops = run_tool(tool, model, (3, 224, 224))
    check(tool, analysis, (macs + layer_norm_2d_gap(analysis, tool), flops))


def layer_norm_2d_gap(analysis, tool: str) -> int:
    """What thop and ptflops do not see of ConvNeXt: torchvision's LayerNorm2d (the layer norms over the
    channels outside the blocks) is a subclass of nn.LayerNorm, and both look modules up by exact class
    (ptflops patches no F.layer_norm either). The conventions count a channel layer norm as the module cnncalc
    exports for it, an nn.LayerNorm: thop 2·in, doubled with γ, β; ptflops in."""
    weight = {"thop": 4, "ptflops": 1}.get(tool, 0)
    return weight * sum(layer.tensor.numel for layer in analysis.layers if channel_layer_norm(layer))


def channel_layer_norm(layer) -> bool:
    """A layer norm over the channels of a channels-first image (torchvision's LayerNorm2d)."""
    return layer.type == "layer_norm" and layer.layout == "channels_first" and bool(layer.tensor.spatial) and \
        layer.spec.params.get("axis") in ((1,), [1], 1)


def test_convnexts_layer_norm_2d_is_the_only_gap():
    """The five LayerNorm2d of ConvNeXt-Tiny (the stem's, three downsampling layers', the classifier's)."""
    a = cnncalc.analyse(ARCH_DIR / "convnext_tiny.yaml")
    names = [layer.name for layer in a.layers if channel_layer_norm(layer)]
    assert names == ["features.0.1", "features.2.0", "features.4.0", "features.6.0", "classifier.0"]
    assert layer_norm_2d_gap(a, "ptflops") == 2 * 96 * 56 * 56 + 192 * 28 * 28 + 384 * 14 * 14 + 768
    assert layer_norm_2d_gap(cnncalc.analyse(ARCH_DIR / "vit_b_16.yaml"), "thop") == 0  # nn.LayerNorm itself
