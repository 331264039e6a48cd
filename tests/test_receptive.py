"""Receptive field, jump and start, checked against the gradient footprint in PyTorch and Keras.

The reference is measured, not computed: the network is rebuilt in torch with every weight 1, no
bias, no activation and average instead of max pooling (a max routes the gradient to one pixel),
the input is all ones, and the gradient of one output unit w.r.t. the input is nonzero exactly on
that unit's receptive field. Its bounding box gives the size and the position, which must equal
start + i·jump ± (size − 1)/2 for unit i. The values quoted in the issue (the slides' AlexNet
conv5 163; VGG16 conv5_3 196 and pool5 212) are all confirmed by the footprint, as is ResNet-18's 435.
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from conftest import ARCH

import cnncalc
from cnncalc.receptive import receptive_fields


def fields(path_or_text, text: bool = False):
    a = cnncalc.analyse(cnncalc.loads(path_or_text, "t.yaml")) if text else cnncalc.analyse(cnncalc.load(str(ARCH / path_or_text)))
    return receptive_fields(a)


def footprints(torch, outputs: dict, x) -> dict:
    """name → [((i, j), (row_lo, row_hi), (col_lo, col_hi))] for the centre unit of each output and
    its upper-left neighbour (two units pin down both start and jump)."""
    out = {}
    for name, y in outputs.items():
        ci, cj = y.shape[2] // 2, y.shape[3] // 2
        out[name] = []
        for i, j in {(ci, cj), (max(ci - 1, 0), max(cj - 1, 0))}:
            (g,) = torch.autograd.grad(y[0, :, i, j].sum(), x, retain_graph=True)
            nz = g[0].abs().sum(0).nonzero()
            out[name].append(((i, j), (int(nz[:, 0].min()), int(nz[:, 0].max())),
                              (int(nz[:, 1].min()), int(nz[:, 1].max()))))
    return out


def check(field, measured, in_size):
    """cnncalc's size/jump/start predict the measured box of each unit (i, j), which must be unclipped."""
    assert field.kind == "local"
    for unit, *boxes in measured:
        for d in range(2):
            lo, hi = boxes[d]
            assert 0 < lo and hi < in_size[d] - 1, "footprint touches the border: use a larger input"
            assert hi - lo + 1 == field.size[d]
            assert lo == field.start[d] + unit[d] * field.jump[d] - Fraction(field.size[d] - 1, 2)


def run_chain(torch, layers, size):
    x = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    outputs, y = {}, x
    for name, module in layers:
        y = module(y)
        outputs[name] = y
    return x, outputs


def ones(torch, *args, **kw):
    conv = torch.nn.Conv2d(1, 1, *args, bias=False, **kw).double()
    torch.nn.init.ones_(conv.weight)
    return conv


def test_alexnet_conv5_163_and_pool3_195_match_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    layers = [("conv1", ones(torch, 11, stride=4)), ("pool1", nn.AvgPool2d(3, 2)),
              ("conv2", ones(torch, 5, padding=2)), ("pool2", nn.AvgPool2d(3, 2)),
              ("conv3", ones(torch, 3, padding=1)), ("conv4", ones(torch, 3, padding=1)),
              ("conv5", ones(torch, 3, padding=1)), ("pool3", nn.AvgPool2d(3, 2))]
    size = (387, 387)  # larger than 227 so that pool3's footprint stays inside the image
    measured = footprints(torch, *run_chain(torch, layers, size)[::-1])
    f = fields("alexnet.yaml")
    for name, _ in layers:
        check(f[name], measured[name], size)
    assert f["conv5"].size == (163, 163) and f["conv5"].jump == (16, 16)
    assert f["pool3"].size == (195, 195) and f["pool3"].jump == (32, 32)
    # relu/norm layers keep the field of the layer before them; the dense layers see everything
    assert f["relu5"] == f["conv5"] and f["norm2"] == f["pool2"]
    assert f["fc6"].kind == "global" and f["fc6"].size == (227, 227) and f["fc6"].jump is None


def test_vgg16_conv5_3_196_and_pool5_212_match_torch():
    torch = pytest.importorskip("torch")
    layers, i = [], 0
    for convs in (2, 2, 3, 3, 3):
        for _ in range(convs):
            layers.append((f"features.{i}", ones(torch, 3, padding=1)))
            i += 2  # conv, relu
        layers.append((f"features.{i}", torch.nn.AvgPool2d(2, 2)))
        i += 1
    size = (448, 448)
    measured = footprints(torch, *run_chain(torch, layers, size)[::-1])
    f = fields("vgg16.yaml")
    for name, _ in layers:
        check(f[name], measured[name], size)
    assert f["features.28"].size == (196, 196)  # conv5_3
    assert f["features.30"].size == (212, 212) and f["features.30"].jump == (32, 32)  # pool5
    assert f["features.30"].start == (Fraction(31, 2),) * 2
    assert f["avgpool"] == f["features.30"]  # adaptive 7x7 pooling of 7x7: 1x1 windows


def test_resnet18_residual_adds_match_torch():
    """Main path through the residual adds: the shortcut's field lies inside the block's."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.maxpool = ones(torch, 7, stride=2, padding=3), nn.AvgPool2d(3, 2, padding=1)
            self.blocks = []
            for stage in range(1, 5):
                for b in range(2):
                    stride = 2 if stage > 1 and b == 0 else 1
                    down = ones(torch, 1, stride=stride) if stride == 2 else None
                    self.blocks.append((f"layer{stage}.{b}", ones(torch, 3, stride=stride, padding=1),
                                        ones(torch, 3, padding=1), down))

        def forward(self, x):
            out = {"conv1": self.conv1(x)}
            y = out["maxpool"] = self.maxpool(out["conv1"])
            for name, c1, c2, down in self.blocks:
                y = out[f"{name}.add"] = c2(c1(y)) + (down(y) if down is not None else y)
            return out

    size = (512, 512)
    x = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    measured = footprints(torch, Net()(x), x)
    f = fields("resnet18.yaml")
    for name in measured:
        check(f[name], measured[name], size)
    assert f["layer4.1.add"].size == (435, 435) and f["layer4.1.relu2"].size == (435, 435)
    assert f["fc"].kind == "global"


def test_dilation_even_kernels_asymmetric_padding_and_unequal_dims_match_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    spec = """
input: [1, 64, 80]
layout: channels_first
layers:
  - {type: conv2d, name: a, filters: 1, kernel: 3, dilation: 2, padding: 2}
  - {type: zero_pad2d, name: b, padding: [[1, 0], [2, 3]]}
  - {type: conv2d, name: c, filters: 1, kernel: [4, 2], stride: [2, 1], padding: [1, 0]}
  - {type: avg_pool2d, name: d, kernel: 2}
  - {type: conv2d, name: e, filters: 1, kernel: [5, 3], stride: [1, 3], padding: [2, 0]}
"""
    layers = [("a", ones(torch, 3, dilation=2, padding=2)), ("b", nn.ZeroPad2d((2, 3, 1, 0))),
              ("c", ones(torch, (4, 2), stride=(2, 1), padding=(1, 0))), ("d", nn.AvgPool2d(2)),
              ("e", ones(torch, (5, 3), stride=(1, 3), padding=(2, 0)))]
    size = (64, 80)
    measured = footprints(torch, *run_chain(torch, layers, size)[::-1])
    f = fields(spec, text=True)
    for name, _ in layers:
        check(f[name], measured[name], size)
    assert f["e"].size[0] != f["e"].size[1]  # reported per dimension, as HxW in the table
    from cnncalc.render.columns import Extra

    a = cnncalc.analyse(cnncalc.loads(spec, "t.yaml"))
    cells = [Extra.of(a).cell(a.layer("e"), c) for c in ("rf", "jump", "start")]
    assert cells == ["x".join(str(v) for v in f["e"].size), "x".join(str(v) for v in f["e"].jump),
                     "x".join(str(v) for v in f["e"].start)]


def test_tensorflow_same_padding_matches_keras():
    """SAME puts the odd padding pixel at the end; the start follows the real begin padding."""
    torch = pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    L = keras.layers
    spec = """
input: [1, 62, 62]
layout: channels_first
layers:
  - {type: conv2d, name: a, filters: 1, kernel: 3, stride: 2, padding: same}
  - {type: conv2d, name: b, filters: 1, kernel: 4, stride: 2, padding: same}
  - {type: avg_pool2d, name: c, kernel: 3, stride: 2, padding: same}
  - {type: conv2d, name: d, filters: 1, kernel: 2, padding: same}
"""
    conv = dict(use_bias=False, kernel_initializer="ones", data_format="channels_first", dtype="float64")
    layers = [("a", L.Conv2D(1, 3, strides=2, padding="same", **conv)),
              ("b", L.Conv2D(1, 4, strides=2, padding="same", **conv)),
              ("c", L.AveragePooling2D(3, strides=2, padding="same", data_format="channels_first", dtype="float64")),
              ("d", L.Conv2D(1, 2, padding="same", **conv))]
    size = (62, 62)
    measured = footprints(torch, *run_chain(torch, layers, size)[::-1])
    f = fields(spec, text=True)
    for name, _ in layers:
        check(f[name], measured[name], size)


def test_concat_follows_the_widest_branch_like_torch():
    """Inception-style branches with aligned centres: the union is the widest branch."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    spec = """
input: [1, 60, 60]
layout: channels_first
layers:
  - {type: conv2d, name: stem, filters: 1, kernel: 3, stride: 2}
  - {type: conv2d, name: b1, filters: 1, kernel: 1, inputs: [stem]}
  - {type: conv2d, name: b2, filters: 1, kernel: 5, padding: 2, inputs: [stem]}
  - {type: avg_pool2d, name: b3, kernel: 3, stride: 1, padding: 1, inputs: [stem]}
  - {type: concat, name: cat, inputs: [b1, b2, b3]}
  - {type: conv2d, name: head, filters: 1, kernel: 3, stride: 2, padding: 1}
"""
    stem, b1, b2, b3 = ones(torch, 3, stride=2), ones(torch, 1), ones(torch, 5, padding=2), nn.AvgPool2d(3, 1, 1)
    head = nn.Conv2d(3, 1, 3, stride=2, padding=1, bias=False).double()
    nn.init.ones_(head.weight)
    x = torch.ones(1, 1, 60, 60, dtype=torch.float64, requires_grad=True)
    s = stem(x)
    cat = torch.cat([b1(s), b2(s), b3(s)], 1)
    measured = footprints(torch, {"cat": cat, "head": head(cat)}, x)
    f = fields(spec, text=True)
    check(f["cat"], measured["cat"], (60, 60))
    check(f["head"], measured["head"], (60, 60))
    assert f["cat"] == f["b2"]


def test_se_scale_keeps_the_main_path():
    """SE's channel scale sees the whole image; the multiply follows the convolutional path."""
    f = fields("se_resnet50.yaml")
    assert f["layer1.0.se.sigmoid"].kind == "global"
    assert f["layer1.0.se.scale"] == f["layer1.0.bn3"]
    assert f["layer1.0.add"] == f["layer1.0.bn3"]  # the 1x1 shortcut's field (11) lies inside (19)
    assert f["layer1.0.downsample.1"].size == (11, 11) and f["layer1.0.add"].size == (19, 19)


def test_transposed_conv_reshape_and_uneven_adaptive_pooling_are_not_computed():
    f = fields("""
input: [16, 16, 2]
layers:
  - {type: conv2d, name: c1, filters: 4, kernel: 3}
  - {type: conv_transpose2d, name: up, filters: 4, kernel: 2, stride: 2}
  - {type: relu, name: r}
  - {type: conv2d, name: c2, filters: 4, kernel: 3}
  - {type: adaptive_avg_pool2d, name: pool, output_size: 1}
  - {type: flatten, name: flat}
""", text=True)
    assert f["c1"].kind == "local"
    assert [f[n].kind for n in ("up", "r", "c2")] == ["unknown"] * 3
    assert f["up"].to_dict() == {"receptive_field": None, "jump": None, "start": None,
                                 "receptive_field_kind": "unknown"}
    assert f["pool"].kind == "global" and f["flat"].kind == "global"  # global pooling still sees everything
    f = fields("""
input: [13, 13, 2]
layers:
  - {type: adaptive_avg_pool2d, name: uneven, output_size: 6}
  - {type: conv2d, name: c, filters: 1, kernel: 3}
""", text=True)
    assert f["uneven"].kind == "unknown" and f["c"].kind == "unknown"
    f = fields("""
input: [12, 12, 2]
layers:
  - {type: reshape, name: rs, shape: [6, 24, 2]}
  - {type: reshape, name: back, shape: [12, 12, 2]}
""", text=True)
    assert f["rs"].kind == "unknown" and f["back"].kind == "unknown"


def test_flat_input_has_no_receptive_field():
    f = fields("input: [10]\nlayers:\n  - {type: dense, name: fc, units: 3}\n", text=True)
    assert f["fc"].kind == "none" and f["fc"].size is None
