"""The conventions against the real tools (torchinfo, fvcore, ptflops, thop, calflops) for convolution,
pooling and padding in 1-D, 2-D and 3-D, as tests/test_conventions_oracle.py does for the others.

Each tool runs on the PyTorch module; cnncalc's preset of the same name must give exactly the tool's
number. Where a tool counts nothing, the layer type says so (`cnncalc conventions NAME` lists it as
not counted): the zero is declared, and checked here against the tool.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from test_conventions_oracle import TOOLS, check, need, run_tool  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc import conventions  # noqa: E402
from cnncalc.layers import lookup  # noqa: E402
from cnncalc.layers.base import NOT_COUNTED  # noqa: E402


def _flat(pool):
    return nn.Sequential(pool, nn.Flatten())


# id: (torch module factory, input C,(D,)H,W, cnncalc layer (channels_first))
LAYERS = {
    "conv3d": (lambda: nn.Conv3d(3, 4, 3, padding=1), (3, 5, 6, 7), "{type: conv3d, filters: 4, kernel: 3, padding: 1}"),
    "conv3d_no_bias": (lambda: nn.Conv3d(4, 6, (1, 3, 3), stride=(1, 2, 2), groups=2, bias=False), (4, 3, 9, 8),
                       "{type: conv3d, filters: 6, kernel: [1, 3, 3], stride: [1, 2, 2], groups: 2, bias: false}"),
    "conv1d_reflect": (lambda: nn.Conv1d(3, 5, 3, padding=1, padding_mode="reflect"), (3, 10),
                       "{type: conv1d, filters: 5, kernel: 3, padding: 1, padding_mode: reflect}"),
    "conv2d_circular": (lambda: nn.Conv2d(3, 5, 3, padding=1, padding_mode="circular"), (3, 8, 8),
                        "{type: conv2d, filters: 5, kernel: 3, padding: 1, padding_mode: circular}"),
    "conv3d_replicate": (lambda: nn.Conv3d(2, 3, 3, padding=1, padding_mode="replicate"), (2, 4, 5, 6),
                         "{type: conv3d, filters: 3, kernel: 3, padding: 1, padding_mode: replicate}"),
    "conv1d_causal": (lambda: nn.Sequential(nn.ZeroPad1d((4, 0)), nn.Conv1d(3, 5, 3, dilation=2)), (3, 12),
                      "{type: conv1d, filters: 5, kernel: 3, dilation: 2, padding: causal}"),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(3, 5, 3, stride=2), (3, 6),
                         "{type: conv_transpose1d, filters: 5, kernel: 3, stride: 2}"),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(3, 5, 3, stride=2, padding=1), (3, 4, 5, 3),
                         "{type: conv_transpose3d, filters: 5, kernel: 3, stride: 2, padding: 1}"),
    "max_pool1d": (lambda: nn.MaxPool1d(3, 2), (4, 13), "{type: max_pool1d, kernel: 3, stride: 2}"),
    "max_pool3d": (lambda: nn.MaxPool3d(2), (4, 6, 6, 6), "{type: max_pool3d, kernel: 2}"),
    "avg_pool1d": (lambda: nn.AvgPool1d(3, 2), (4, 13), "{type: avg_pool1d, kernel: 3, stride: 2}"),
    "avg_pool3d": (lambda: nn.AvgPool3d(2, padding=1, ceil_mode=True), (4, 5, 6, 7),
                   "{type: avg_pool3d, kernel: 2, padding: 1, ceil_mode: true}"),
    "adaptive_avg1d": (lambda: nn.AdaptiveAvgPool1d(3), (4, 13), "{type: adaptive_avg_pool1d, output_size: 3}"),
    "adaptive_avg3d": (lambda: nn.AdaptiveAvgPool3d((2, 3, 1)), (4, 5, 7, 3),
                       "{type: adaptive_avg_pool3d, output_size: [2, 3, 1]}"),
    "adaptive_max1d": (lambda: nn.AdaptiveMaxPool1d(3), (4, 13), "{type: adaptive_max_pool1d, output_size: 3}"),
    "adaptive_max2d": (lambda: nn.AdaptiveMaxPool2d(3), (4, 13, 13), "{type: adaptive_max_pool2d, output_size: 3}"),
    "adaptive_max3d": (lambda: nn.AdaptiveMaxPool3d((2, 3, 1)), (4, 5, 7, 3),
                       "{type: adaptive_max_pool3d, output_size: [2, 3, 1]}"),
    "global_avg1d": (lambda: _flat(nn.AdaptiveAvgPool1d(1)), (4, 7), "global_avg_pool1d"),
    "global_avg3d": (lambda: _flat(nn.AdaptiveAvgPool3d(1)), (4, 3, 7, 5), "global_avg_pool3d"),
    "global_max1d": (lambda: _flat(nn.AdaptiveMaxPool1d(1)), (4, 7), "global_max_pool1d"),
    "global_max3d": (lambda: _flat(nn.AdaptiveMaxPool3d(1)), (4, 3, 7, 5), "global_max_pool3d"),
    "zero_pad1d": (lambda: nn.ZeroPad1d((1, 2)), (4, 6), "{type: zero_pad1d, padding: [1, 2]}"),
    "zero_pad3d": (lambda: nn.ZeroPad3d(1), (4, 3, 6, 6), "{type: zero_pad3d, padding: 1}"),
    "constant_pad2d": (lambda: nn.ConstantPad2d(1, 0.5), (4, 6, 6), "{type: constant_pad2d, padding: 1, value: 0.5}"),
    "reflection_pad1d": (lambda: nn.ReflectionPad1d(1), (4, 6), "{type: reflection_pad1d, padding: 1}"),
    "reflection_pad2d": (lambda: nn.ReflectionPad2d((1, 2, 0, 3)), (4, 6, 6),
                         "{type: reflection_pad2d, padding: [[0, 3], [1, 2]]}"),
    "reflection_pad3d": (lambda: nn.ReflectionPad3d(1), (4, 3, 6, 6), "{type: reflection_pad3d, padding: 1}"),
    "replication_pad2d": (lambda: nn.ReplicationPad2d(2), (4, 6, 6), "{type: replication_pad2d, padding: 2}"),
    "circular_pad3d": (lambda: nn.CircularPad3d(1), (4, 3, 6, 6), "{type: circular_pad3d, padding: 1}"),
}


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("case", list(LAYERS))
def test_single_layer(case, tool):
    need(tool)
    factory, chw, layer = LAYERS[case]
    net = cnncalc.loads(f"input: {list(chw)}\nlayout: channels_first\nlayers:\n  - {layer}\n", f"{case}.yaml")
    check(tool, cnncalc.analyse(net, convention=tool), run_tool(tool, factory(), chw))


def test_a_tool_that_counts_nothing_says_so():
    """Not a silent zero: the type declares it, and `cnncalc conventions NAME` names the type."""
    for tool, names in {"fvcore": ("max_pool3d", "adaptive_avg_pool1d", "global_avg_pool3d", "reflection_pad2d"),
                        "thop": ("max_pool1d", "adaptive_max_pool3d", "global_max_pool1d", "zero_pad3d"),
                        "torchinfo": ("avg_pool3d", "adaptive_avg_pool2d", "circular_pad1d"),
                        "ptflops": ("constant_pad3d", "replication_pad1d"), "calflops": ("zero_pad2d",)}.items():
        text = " ".join(conventions.describe(conventions.get(tool)))
        listed = text.split("not counted (0, the tool does not see an operation):")[1]
        for name in names:
            assert lookup(name).counting[tool] == NOT_COUNTED, (tool, name)
            assert f" {name}," in listed + ",", (tool, name)
    # fvcore counts aten::adaptive_avg_pool2d, and the 2-D types are not declared uncounted there
    assert "fvcore" not in lookup("adaptive_avg_pool2d").counting and "fvcore" not in lookup("global_avg_pool2d").counting


def plain_convs(model: nn.Module) -> list[str]:
    """torchvision's Conv3DSimple (an nn.Conv3d subclass) replaced by nn.Conv3d; their module paths."""
    replaced = []
    for path, m in list(model.named_modules()):
        if isinstance(m, nn.Conv3d) and type(m) is not nn.Conv3d:
            parent, _, child = path.rpartition(".")
            setattr(model.get_submodule(parent), child, nn.Conv3d(
                m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None))
            replaced.append(path)
    return replaced


@pytest.mark.parametrize("tool", TOOLS)
def test_r3d_18_in_every_convention(tool, torchvision):
    """The shipped R3D-18 against each tool run on torchvision's own model, on a short small clip (the
    tools run the model; 3x16x112x112 takes minutes on a small CPU, and no layer depends on the size).

    thop and ptflops look modules up by exact class: torchvision's block convolutions are Conv3DSimple, a
    subclass of nn.Conv3d, which they do not count. Their reports are short by exactly those layers; with
    the same convolutions as nn.Conv3d, every tool's number is the convention's."""
    need(tool)
    from conftest import ARCH

    text = (ARCH / "r3d_18.yaml").read_text(encoding="utf-8").replace("input: [3, 16, 112, 112]", "input: [3, 4, 32, 32]")
    assert "input: [3, 4, 32, 32]" in text
    analysis = cnncalc.analyse(cnncalc.loads(text, "r3d_18.yaml"), convention=tool)
    model = torchvision.models.video.r3d_18(weights=None)
    macs, _ = run_tool(tool, model, (3, 4, 32, 32))
    subclassed = plain_convs(model)
    assert len(subclassed) == 16
    check(tool, analysis, run_tool(tool, model, (3, 4, 32, 32)))
    unseen = sum(layer.macs for layer in analysis.layers if layer.name in subclassed)
    assert analysis.totals["macs"] - macs == (unseen if tool in ("thop", "ptflops") else 0)
