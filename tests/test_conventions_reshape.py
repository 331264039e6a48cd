"""The tools' counts of the resizing, rearranging, normalisation and merge layers, measured.

Each case is the PyTorch module the layer exports to (or, for a layer torch has no class for, the
few tensor operations that compute it), run through torchinfo, fvcore, ptflops, thop and calflops
(tests/test_conventions_oracle.py's runner); cnncalc's preset of the same name must give exactly
the tool's MACs (and calflops's FLOPs). Skipped where the tools are not installed at the measured
versions (`pip install .[conventions]`). Every tool that counts nothing for a type says so in
`cnncalc conventions NAME` (tested below without the tools).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc import conventions
from cnncalc.cli import main
from cnncalc.layers import lookup
from cnncalc.layers.layer_scale import LAYER_SCALE_TORCH

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ARCH  # noqa: E402
from test_conventions_oracle import TOOLS, check, need, run_tool  # noqa: E402


class Fn(nn.Module):
    """One tensor function as a module: f(x), or f(x, x) for a merge."""

    def __init__(self, f, inputs: int = 1):
        super().__init__()
        self.f, self.inputs = f, inputs

    def forward(self, x):
        return self.f(*[x] * self.inputs)


class LayerNormChannels(nn.Module):
    """nn.LayerNorm over the channels of an N, C, H, W tensor (as ConvNeXt's LayerNorm2d)."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.LayerNorm(c)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ParameterScale(nn.Module):
    """torchvision's ConvNeXt layer scale: `self.layer_scale * x`, a C x 1 x 1 parameter of the block."""

    def __init__(self, c):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((c, 1, 1), 1e-6))

    def forward(self, x):
        return self.layer_scale * x


EXPORTED: dict = {"torch": torch, "nn": nn}
exec(LAYER_SCALE_TORCH, EXPORTED)  # noqa: S102 - cnncalc's own export helper


def _crop(x):
    return x[:, :, 1:-2, 2:]


def _normalize(x):
    return (x - torch.zeros(4, 1, 1)) / torch.ones(4, 1, 1).sqrt().clamp(min=1e-7)


# id: (torch module factory, input C,H,W, cnncalc layer (channels_first))
LAYERS = {
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), (3, 5, 6), "{type: upsample, scale_factor: 2}"),
    "upsample_nearest_size": (lambda: nn.Upsample(size=(7, 9)), (3, 5, 6), "{type: upsample, size: [7, 9]}"),
    "upsample_nearest_size_int": (lambda: nn.Upsample(size=8), (3, 5, 6), "{type: upsample, size: 8}"),
    "upsample_bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (3, 5, 6),
                          "{type: upsample, scale_factor: 2, mode: bilinear}"),
    "upsample_bilinear_frac": (lambda: nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True), (3, 5, 6),
                               "{type: upsample, scale_factor: 1.5, mode: bilinear, align_corners: true}"),
    "upsample_bilinear_pair": (lambda: nn.Upsample(scale_factor=(1.5, 2.5), mode="bilinear"), (3, 5, 6),
                               "{type: upsample, scale_factor: [1.5, 2.5], mode: bilinear}"),
    "upsample_bicubic": (lambda: nn.Upsample(size=(9, 4), mode="bicubic"), (3, 5, 6),
                         "{type: upsample, size: [9, 4], mode: bicubic}"),
    "upsample_nearest_exact": (lambda: nn.Upsample(scale_factor=3, mode="nearest-exact"), (3, 5, 6),
                               "{type: upsample, scale_factor: 3, mode: nearest-exact}"),
    "upsample_linear_1d": (lambda: nn.Upsample(scale_factor=2, mode="linear"), (3, 7),
                           "{type: upsample, scale_factor: 2, mode: linear}"),
    "upsample_nearest_1d": (lambda: nn.Upsample(scale_factor=2), (3, 7), "{type: upsample, scale_factor: 2}"),
    "upsampling_bilinear2d": (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (3, 5, 6),
                              "{type: UpsamplingBilinear2d, scale_factor: 2}"),
    "upsampling2d": (lambda: nn.Upsample(scale_factor=(2, 3)), (3, 5, 6), "{type: UpSampling2D, size: [2, 3]}"),
    "resizing": (lambda: nn.Upsample(size=(7, 4), mode="nearest-exact"), (3, 5, 6),
                 "{type: Resizing, height: 7, width: 4, interpolation: nearest}"),
    "resizing_bilinear": (lambda: nn.Upsample(size=(7, 4), mode="bilinear"), (3, 5, 6),
                          "{type: Resizing, height: 7, width: 4}"),
    "upsampling2d_bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (3, 5, 6),
                              "{type: UpSampling2D, interpolation: bilinear}"),
    "pixel_shuffle": (lambda: nn.PixelShuffle(2), (8, 5, 6), "{type: pixel_shuffle, factor: 2}"),
    "pixel_unshuffle": (lambda: nn.PixelUnshuffle(2), (3, 4, 6), "{type: pixel_unshuffle, factor: 2}"),
    "channel_shuffle": (lambda: nn.ChannelShuffle(2), (4, 5, 6), "{type: channel_shuffle, groups: 2}"),
    "permute": (lambda: Fn(lambda x: x.permute(0, 2, 3, 1)), (4, 5, 6), "{type: permute, dims: [2, 3, 1]}"),
    "chunk": (lambda: Fn(lambda x: x.chunk(2, dim=1)[1]), (4, 5, 6), "{type: chunk, chunks: 2, index: 1}"),
    "crop": (lambda: Fn(_crop), (4, 6, 7), "{type: crop2d, cropping: [1, 2, 2, 0]}"),
    "layer_norm": (lambda: nn.LayerNorm([5, 6]), (4, 5, 6), "{type: layer_norm, normalized_shape: [5, 6]}"),
    "layer_norm_plain": (lambda: nn.LayerNorm(6, elementwise_affine=False), (4, 5, 6),
                         "{type: layer_norm, normalized_shape: [6], elementwise_affine: false}"),
    "layer_norm_no_bias": (lambda: nn.LayerNorm(6, bias=False), (4, 5, 6),
                           "{type: layer_norm, normalized_shape: 6, bias: false}"),
    "layer_norm_channels": (lambda: LayerNormChannels(4), (4, 5, 6), "{type: layer_norm, axis: 1}"),
    "layer_norm_flat": (lambda: nn.LayerNorm(12), (12,), "layer_norm"),
    "group_norm": (lambda: nn.GroupNorm(2, 4), (4, 5, 6), "{type: group_norm, groups: 2}"),
    "group_norm_plain": (lambda: nn.GroupNorm(4, 4, affine=False), (4, 5, 6),
                         "{type: group_norm, groups: 4, affine: false}"),
    "instance_norm": (lambda: nn.InstanceNorm2d(4), (4, 5, 6), "instance_norm"),
    "instance_norm_affine": (lambda: nn.InstanceNorm2d(4, affine=True), (4, 5, 6),
                             "{type: instance_norm, affine: true}"),
    "instance_norm_tracked": (lambda: nn.InstanceNorm2d(4, track_running_stats=True), (4, 5, 6),
                              "{type: instance_norm, track_running_stats: true}"),
    "instance_norm_1d": (lambda: nn.InstanceNorm1d(4, affine=True), (4, 7), "{type: InstanceNorm1d, affine: true}"),
    "batch_norm_batch_stats": (lambda: nn.BatchNorm2d(4, track_running_stats=False), (4, 5, 6),
                               "{type: batch_norm, track_running_stats: false}"),
    "batch_norm_batch_stats_plain": (lambda: nn.BatchNorm2d(4, affine=False, track_running_stats=False), (4, 5, 6),
                                     "{type: batch_norm, affine: false, track_running_stats: false}"),
    "normalization": (lambda: Fn(_normalize), (4, 5, 6), "normalization"),
    "rescaling": (lambda: Fn(lambda x: x * (1 / 255) + 0.5), (4, 5, 6), "{type: rescaling, scale: 0.0039, offset: 0.5}"),
    "subtract": (lambda: Fn(lambda a, b: a - b, 2), (4, 5, 6), "{type: subtract, inputs: [input, input]}"),
    "maximum": (lambda: Fn(torch.maximum, 2), (4, 5, 6), "{type: maximum, inputs: [input, input]}"),
    "minimum": (lambda: Fn(torch.minimum, 2), (4, 5, 6), "{type: minimum, inputs: [input, input]}"),
    "average": (lambda: Fn(lambda a, b: (a + b) / 2, 2), (4, 5, 6), "{type: average, inputs: [input, input]}"),
    "layer_scale": (lambda: EXPORTED["LayerScale"](4), (4, 5, 6), "layer_scale"),
    "layer_scale_torchvision": (lambda: ParameterScale(4), (4, 5, 6), "layer_scale"),
}


# calflops 0.3.2 raises a TypeError on nn.Upsample with a tuple of scale factors (and leaves its
# patches of torch.nn.functional in place, breaking every later measurement): not run.
CRASHES = {("upsample_bilinear_pair", "calflops"), ("upsampling2d", "calflops")}


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("case", list(LAYERS))
def test_single_layer(case, tool, torchvision):
    # ptflops imports torchvision.ops; conftest's `torchvision` fixture makes that import work beside CPU torch
    need(tool)
    if (case, tool) in CRASHES:
        pytest.skip(f"{tool} raises on this module")
    factory, chw, layer = LAYERS[case]
    net = cnncalc.loads(f"input: {list(chw)}\nlayout: channels_first\nlayers:\n  - {layer}\n", f"{case}.yaml")
    check(tool, cnncalc.analyse(net, convention=tool), run_tool(tool, factory(), chw))


# Every new type, and the tools that count nothing for it: `cnncalc conventions TOOL` says so.
NOT_COUNTED = {
    "pixel_shuffle": TOOLS, "pixel_unshuffle": TOOLS, "channel_shuffle": TOOLS, "permute": TOOLS,
    "transpose": TOOLS, "chunk": TOOLS, "crop2d": TOOLS, "crop_or_pad": TOOLS, "normalization": TOOLS,
    "rescaling": TOOLS, "subtract": TOOLS, "maximum": TOOLS, "minimum": TOOLS, "average": TOOLS, "concat": TOOLS,
    "add": TOOLS, "multiply": TOOLS, "group_norm": ("thop",),
}


@pytest.mark.parametrize("tool", TOOLS)
def test_conventions_command_names_what_a_tool_does_not_count(tool):
    r = CliRunner().invoke(main, ["conventions", tool])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  not counted (0"))
    listed = " ".join(lines[start:]).split(":", 1)[1]
    uncounted = {name.strip() for name in listed.split(",")}
    for name, tools in NOT_COUNTED.items():
        assert (name in uncounted) == (tool in tools), (name, tool)
    for name in ("upsample", "layer_norm", "instance_norm"):  # counted (torchinfo: upsample has no weights)
        if tool == "torchinfo" and name == "upsample":
            assert name in uncounted
            continue
        assert name not in uncounted
        assert any(line.startswith(f"  {name} macs: ") or line.startswith(f"  {name} flops: ") for line in lines)


def test_declared_zero_is_a_real_zero():
    cost = conventions.LayerCost(lookup("pixel_shuffle"), {}, (), None)
    for tool in TOOLS:
        assert conventions.get(tool).count(cost) == (0, 0)


# --------------------------------------------------------------------------- whole networks

# The exported PyTorch model of each spec (the modules cnncalc maps every layer to) through each tool.
# U-Net's 150 G multiply-accumulates take minutes per tool: CNNCALC_SLOW_TESTS=1 runs it too.
NETWORKS = ["shufflenet_v2", "efficientnet_b0_keras", pytest.param("unet", marks=pytest.mark.skipif(
    os.environ.get("CNNCALC_SLOW_TESTS") != "1", reason="slow: set CNNCALC_SLOW_TESTS=1"))]


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("arch", NETWORKS)
def test_exported_network(arch, tool, torchvision):
    need(tool)
    from cnncalc.export import export
    from cnncalc.export.verify import load_module

    a = cnncalc.analyse(ARCH / f"{arch}.yaml", convention=tool)
    e = export(a, "pytorch")
    model = getattr(load_module(e.code, arch), e.builder)()
    check(tool, a, run_tool(tool, model, e.input_shape))


# torchvision's own ShuffleNet V2 pools with x.mean([2, 3]), which no tool counts; the spec's
# global_avg_pool2d is counted as nn.AdaptiveAvgPool2d(1) would be (1024 channels of 7x7).
MEAN_GAP = {"fvcore": 1024 * 49, "thop": (49 + 1) * 1024, "torchinfo": 0, "ptflops": 2 * 1024 * 49,
            "calflops": 1024 * 49}


@pytest.mark.parametrize("tool", TOOLS)
def test_torchvision_shufflenet(tool, torchvision):
    need(tool)
    a = cnncalc.analyse(ARCH / "shufflenet_v2.yaml", convention=tool)
    macs, flops = run_tool(tool, torchvision.models.shufflenet_v2_x1_0(weights=None), (3, 224, 224))
    gap = MEAN_GAP[tool]
    check(tool, a, (macs, flops + gap) if tool == "calflops" else (macs + gap, None))
