"""cnncalc vs. hand-written PyTorch models (tests/torch_models.py), layer by layer.

For every spec in architectures/ and every cnncalc layer, the torch module with the same
dotted path must agree on output shape, input shapes, trainable and non-trainable parameters
and MACs; the totals must equal the torch model's and the published figures.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_models  # noqa: E402

ARCH_DIR = Path(__file__).resolve().parent.parent / "architectures"

# Published trainable-parameter totals (torchvision's sum(p.numel()) for the torchvision nets).
EXPECTED_PARAMS = {
    # conv1 96*(11*11*3)+96 = 34,944; conv2 256*(5*5*96)+256 = 614,656; conv3 384*(3*3*256)+384
    # = 885,120; conv4 384*(3*3*384)+384 = 1,327,488; conv5 256*(3*3*384)+256 = 884,992;
    # fc6 (6*6*256)*4096+4096 = 37,752,832; fc7 4096*4096+4096 = 16,781,312; fc8 4096*1000+1000
    # = 4,097,000  ->  62,378,344
    "alexnet": 62_378_344,
    # conv1 192*(5*5*48)+192 = 230,592; conv2..12 11 * (192*(3*3*192)+192) = 11 * 331,968
    # = 3,651,648; conv13 192*1*1*1 + 19*19 per-position biases = 553  ->  3,882,793
    "alphago_policy": 3_882_793,
    # conv1 32*(3*3*3)+32 = 896; conv2 64*(4*4*32)+64 = 32,832; fc1 (64*6*6)*10+10 = 23,050
    "cifar_net": 56_778,
    "hw_conv_760": 760,  # 10 * (5*5*3 + 1)
    "alexnet_torchvision": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    # ResNet-50 + SE (Linear with bias, r=16): sum over blocks of C*C/16*2 + C/16 + C = 2,530,992
    "se_resnet50": 28_088_024,
    "googlenet": 6_624_904,
    "mobilenet_v2": 3_504_872,
}

# BatchNorm running mean + variance (2 * C per BN layer).
EXPECTED_NON_TRAINABLE = {
    "resnet18": 9_600,
    "resnet50": 53_120,
    "se_resnet50": 53_120,
    "googlenet": 14_560,
    "mobilenet_v2": 34_112,
}

# MACs (multiply-accumulates of conv and dense layers), as computed by the torch oracle;
# they agree with the usual published figures (ResNet-50 4.09G, VGG-16 15.47G, MobileNetV2 300M,
# GoogLeNet 1.50G, AlexNet (torchvision) 714M, ResNet-18 1.81G).
EXPECTED_MACS = {
    "alexnet": 1_135_256_096,
    "alphago_policy": 1_400_726_208,
    "cifar_net": 5_519_232,
    "hw_conv_760": 768_000,  # 32*32*10 * 5*5*3
    "alexnet_torchvision": 714_188_480,
    "vgg16": 15_470_264_320,
    "resnet18": 1_814_073_344,
    "resnet50": 4_089_184_256,
    "se_resnet50": 4_091_699_200,
    "googlenet": 1_498_376_192,
    "mobilenet_v2": 300_774_272,
}

ARCHS = sorted(torch_models.MODELS)


def to_chw(shape, layout):
    """A cnncalc shape (spec layout) in PyTorch's channels-first order; flat stays flat."""
    shape = tuple(int(s) for s in shape)
    if layout == "channels_last" and len(shape) >= 2:
        return (shape[-1],) + shape[:-1]
    return shape


@functools.cache
def analyse(arch):
    return cnncalc.analyse(cnncalc.load(str(ARCH_DIR / f"{arch}.yaml")))


@functools.cache
def torch_run(arch):
    model = torch_models.build(arch)
    a = analyse(arch)
    chw = to_chw(a.input_shape, a.layout)
    return model, torch_models.run_torch(model, chw)


def test_every_architecture_has_a_spec():
    specs = {p.stem for p in ARCH_DIR.glob("*.yaml")}
    assert set(ARCHS) <= specs


@pytest.mark.parametrize("arch", ARCHS)
def test_input_shape(arch):
    a = analyse(arch)
    assert to_chw(a.input_shape, a.layout) == torch_models.INPUT_CHW.get(arch, (3, 224, 224))


@pytest.mark.parametrize("arch", ARCHS)
def test_same_layers(arch):
    """cnncalc's layers and the torch model's leaf modules are the same set of names."""
    a = analyse(arch)
    model, _ = torch_run(arch)
    names = [layer.name for layer in a.layers]
    assert len(names) == len(set(names)), "duplicate cnncalc layer names"
    leaves = set(torch_models.leaf_modules(model))
    assert sorted(set(names) - leaves) == [], "cnncalc layers without a torch module"
    assert sorted(leaves - set(names)) == [], "torch modules missing from the cnncalc analysis"


def mismatches(a, measured):
    """Every disagreement between a cnncalc analysis and the torch measurements, as text."""
    problems = []
    for layer in a.layers:
        t = measured.get(layer.name)
        if t is None:
            problems.append(f"{layer.name}: no torch module was called under this name")
            continue
        got = {
            "output_shape": to_chw(layer.output_shape, a.layout),
            "input_shapes": [to_chw(s, a.layout) for s in layer.input_shapes],
            "trainable_params": layer.trainable_params,
            "non_trainable_params": layer.non_trainable_params,
            "params": layer.params,
            "macs": layer.macs,
            "calls": 1,
        }
        want = {
            "output_shape": t.output_shape,
            "input_shapes": t.input_shapes,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "params": t.trainable_params + t.non_trainable_params,
            "macs": t.macs,
            "calls": t.calls,
        }
        for key in got:
            if got[key] != want[key]:
                problems.append(f"{layer.name} ({layer.type}) {key}: cnncalc {got[key]} != torch {want[key]}")
    return problems


@pytest.mark.parametrize("arch", ARCHS)
def test_layers_match_torch(arch):
    problems = mismatches(analyse(arch), torch_run(arch)[1])
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


@pytest.mark.parametrize("k", [128, 256, 384])
def test_alphago_other_widths(k):
    """The paper's other policy-net widths, through the spec's `params: {k: ...}` override."""
    a = cnncalc.analyse(cnncalc.load(str(ARCH_DIR / "alphago_policy.yaml"), {"k": k}))
    model = torch_models.AlphaGoPolicy(k)
    problems = mismatches(a, torch_models.run_torch(model, (48, 19, 19)))
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)
    expected = (k * 5 * 5 * 48 + k) + 11 * (k * 3 * 3 * k + k) + (k + 19 * 19)
    assert a.totals["params"] == sum(p.numel() for p in model.parameters()) == expected


@pytest.mark.parametrize("arch", ARCHS)
def test_totals(arch):
    a = analyse(arch)
    model, measured = torch_run(arch)
    torch_params = sum(p.numel() for p in model.parameters())
    torch_buffers = torch_models.non_trainable_params(model)
    torch_macs = sum(t.macs for t in measured.values())

    assert torch_params == EXPECTED_PARAMS[arch]
    assert torch_buffers == EXPECTED_NON_TRAINABLE.get(arch, 0)
    assert torch_macs == EXPECTED_MACS[arch]

    totals = a.totals
    assert totals["trainable_params"] == torch_params == EXPECTED_PARAMS[arch]
    assert totals["non_trainable_params"] == torch_buffers
    assert totals["params"] == torch_params + torch_buffers
    assert totals["macs"] == torch_macs == EXPECTED_MACS[arch]
    # totals are the sums over the layers
    assert totals["params"] == sum(layer.params for layer in a.layers)
    assert totals["trainable_params"] == sum(layer.trainable_params for layer in a.layers)
    assert totals["macs"] == sum(layer.macs for layer in a.layers)


def test_slide_shapes():
    """Shapes quoted on the slides."""

    def shapes(arch):
        return {layer.name: tuple(layer.output_shape) for layer in analyse(arch).layers}

    alex = shapes("alexnet")
    assert alex["conv1"] == (55, 55, 96)
    assert alex["pool1"] == alex["norm1"] == (27, 27, 96)
    assert alex["conv2"] == (27, 27, 256)
    assert alex["pool2"] == alex["norm2"] == (13, 13, 256)
    assert alex["conv3"] == alex["conv4"] == (13, 13, 384)
    assert alex["conv5"] == (13, 13, 256)
    assert alex["pool3"] == (6, 6, 256)
    assert alex["fc6"] == alex["fc7"] == (4096,)
    assert alex["fc8"] == alex["softmax"] == (1000,)

    go = shapes("alphago_policy")
    assert go["conv1"] == (19, 19, 192)
    assert go["conv13"] == (19, 19, 1)
    assert go["softmax"] == (361,)

    assert shapes("hw_conv_760")["conv1"] == (32, 32, 10)

    cifar = shapes("cifar_net")
    assert cifar["conv1"] == (32, 30, 30)
    assert cifar["pool1"] == (32, 15, 15)
    assert cifar["conv2"] == (64, 12, 12)
    assert cifar["pool2"] == (64, 6, 6)
    assert cifar["flatten"] == (64 * 6 * 6,)
    assert cifar["fc1"] == (10,)
