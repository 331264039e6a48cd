"""Shape, parameter and MAC rules of every layer type, with values from the slides and frameworks."""

from __future__ import annotations

import pytest
from conftest import ARCH, one_layer

import cnncalc
from cnncalc.explain import layer_lines
from cnncalc.layers.geometry import same_padding, window_dim


# slide 000/001/002: 7x7 input, 3x3 filter
@pytest.mark.parametrize("stride,out", [(1, 5), (2, 3), (4, 2)])
def test_slide_output_size(stride, out):
    assert window_dim("H", 7, 3, stride, 1, (0, 0)).out == out


def test_slide_stride_3_does_not_fit_floors_and_warns():
    d = window_dim("H", 7, 3, 3, 1, (0, 0))
    assert d.out == 2 and round(d.ratio, 2) == 2.33 and d.unread == 1
    a = cnncalc.analyse(cnncalc.loads("input: [7, 7, 1]\nlayers:\n  - {type: conv2d, name: c, filters: 1, kernel: 3, stride: 3}\n",
                      "s.yaml"))
    assert a.layers[0].output_shape == (2, 2, 1)
    msgs = [w.message for w in a.warnings]  # H and W alike: one warning naming both, with a fix
    assert msgs == ["c: stride 3 does not fit along H and W: (7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2; the last 1 "
                    "input row and column are never read (for an exact fit use input 6 or 9, or 2 more padding)"]
    assert a.warnings[0].rule == "stride-not-fitting"


def test_stride_larger_than_kernel_does_not_warn():
    a = cnncalc.analyse(cnncalc.loads("input: [8, 8, 4]\nlayers:\n  - {type: conv2d, filters: 2, kernel: 1, stride: 2}\n"))
    assert a.layers[0].output_shape == (4, 4, 2) and a.warnings == []


def test_padding_preserves_size_slide():
    # 7x7, 3x3 filter, stride 1, pad 1 => 7x7; (F-1)/2 padding for F = 3, 5, 7
    for f in (3, 5, 7):
        assert window_dim("H", 7, f, 1, 1, ((f - 1) // 2, (f - 1) // 2)).out == 7


def test_homework_760():
    layer = one_layer("{type: conv2d, filters: 10, kernel: 5, stride: 1, padding: 2}")
    assert layer.output_shape == (32, 32, 10)
    assert layer.params == 760 and layer.trainable_params == 760
    assert layer.macs == 32 * 32 * 10 * 5 * 5 * 3 == 768_000
    assert layer.flops == 2 * 768_000 + 32 * 32 * 10
    assert "params = 10 · (5·5·3 + 1) = 760" in layer_lines(layer)
    assert "H_out = (32 − 5 + 2·2)/1 + 1 = 32" in layer_lines(layer)


def test_six_5x5_filters_give_28x28x6():  # slide 000
    assert one_layer("{type: conv2d, filters: 6, kernel: 5}").output_shape == (28, 28, 6)


# TensorFlow SAME: out = ceil(I/S), total = max((out-1)*S + F - I, 0), extra at the end
@pytest.mark.parametrize("i,k,s,expected", [
    (7, 3, 2, (4, 1, 1)), (8, 3, 2, (4, 0, 1)), (5, 4, 1, (5, 1, 2)), (224, 7, 2, (112, 2, 3)),
    (1, 3, 1, (1, 1, 1)), (6, 1, 4, (2, 0, 0)),
])
def test_same_padding(i, k, s, expected):
    assert same_padding(i, k, s) == expected


def test_same_padding_explain():
    layer = one_layer("{type: conv2d, filters: 1, kernel: 3, stride: 2, padding: same}", "[7, 7, 1]")
    assert layer.output_shape == (4, 4, 1)
    assert "SAME (H): total pad = max((⌈7/2⌉ − 1)·2 + 3 − 7, 0) = 2 → top 1, bottom 1" in layer_lines(layer)


def test_asymmetric_and_pair_padding():
    assert one_layer("{type: conv2d, filters: 1, kernel: 3, padding: [1, 0]}", "[7, 9, 1]").output_shape == (7, 7, 1)
    assert one_layer("{type: conv2d, filters: 1, kernel: 3, padding: [0, 1, 2, 0]}", "[7, 9, 1]").output_shape == (
        6, 9, 1)


def test_dilation_and_groups():
    layer = one_layer("{type: conv2d, filters: 8, kernel: 3, dilation: 2, groups: 4}", "[16, 16, 4]")
    assert layer.output_shape == (12, 12, 8)
    assert layer.params == 8 * 1 * 9 + 8
    assert layer.macs == 12 * 12 * 8 * 1 * 9


def test_no_bias_and_per_position_bias():
    assert one_layer("{type: conv2d, filters: 10, kernel: 5, padding: 2, bias: false}").params == 750
    # AlphaGo's last layer: 1 1x1 filter on 19x19x192 with a bias per position: 192 weights + 361 biases
    layer = one_layer("{type: conv2d, filters: 1, kernel: 1, bias: per_position}", "[19, 19, 192]")
    assert layer.params == 192 + 361 and layer.output_shape == (19, 19, 1)


def test_channels_first_layout():
    layer = one_layer("{type: conv2d, filters: 32, kernel: 3}", "[3, 32, 32]", "channels_first")
    assert layer.output_shape == (32, 30, 30)  # slide 003: 3x32x32 -> 32x30x30


def test_depthwise_and_separable():
    dw = one_layer("{type: depthwise_conv2d, kernel: 3, padding: 1, depth_multiplier: 2}", "[8, 8, 16]")
    assert dw.output_shape == (8, 8, 32) and dw.params == 16 * 2 * 9 + 32 and dw.macs == 8 * 8 * 32 * 9
    sep = one_layer("{type: separable_conv2d, filters: 64, kernel: 3, padding: same}", "[8, 8, 16]")
    # Keras SeparableConv2D: 3*3*16 depthwise + 16*64 pointwise + 64 bias
    assert sep.output_shape == (8, 8, 64) and sep.params == 144 + 1024 + 64
    assert sep.macs == 8 * 8 * 16 * 9 + 8 * 8 * 16 * 64


def test_conv1d_slide_dense_vs_1d():
    layer = one_layer("{type: conv1d, filters: 1, kernel: 3, bias: false}", "[4, 1]")
    assert layer.output_shape == (2, 1) and layer.params == 3  # y0 = x0·w0 + x1·w1 + x2·w2


def test_conv_transpose():
    # torch: ConvTranspose2d(16, 8, 4, stride=2, padding=1) on 16x16 -> 32x32; params 16*8*16 + 8
    layer = one_layer("{type: conv_transpose2d, filters: 8, kernel: 4, stride: 2, padding: 1}", "[16, 16, 16]",)
    assert layer.output_shape == (32, 32, 8) and layer.params == 16 * 8 * 16 + 8
    assert layer.macs == 16 * 16 * 16 * 8 * 16
    same = one_layer("{type: conv_transpose2d, filters: 8, kernel: 3, stride: 2, padding: same}", "[5, 5, 4]")
    assert same.output_shape == (10, 10, 8)


# max pool from slides 000/002/003: 4x4 -> 2x2; AlexNet pool 55 -> 27 (params 0!)
def test_pooling():
    assert one_layer("{type: max_pool2d, kernel: 2, stride: 2}", "[4, 4, 1]").output_shape == (2, 2, 1)
    pool = one_layer("{type: max_pool2d, kernel: 3, stride: 2}", "[55, 55, 96]")
    assert pool.output_shape == (27, 27, 96) and pool.params == 0
    assert one_layer("{type: max_pool2d, kernel: 2}", "[32, 30, 30]", "channels_first").output_shape == (32, 15, 15)


# PyTorch ceil_mode (values checked against torch.nn.MaxPool2d): the last window must start inside input or left pad
@pytest.mark.parametrize("i,k,s,p,floor_out,ceil_out", [
    (112, 3, 2, 0, 55, 56), (56, 3, 2, 0, 27, 28), (14, 2, 2, 0, 7, 7), (5, 2, 2, 1, 3, 3), (6, 3, 3, 1, 2, 3),
    (4, 2, 3, 1, 2, 2),
])
def test_ceil_mode(i, k, s, p, floor_out, ceil_out):
    assert window_dim("H", i, k, s, 1, (p, p), pooling=True).out == floor_out
    assert window_dim("H", i, k, s, 1, (p, p), ceil_mode=True, pooling=True).out == ceil_out


def test_pool_same_and_global():
    assert one_layer("{type: max_pool2d, kernel: 2, padding: same}", "[7, 7, 3]").output_shape == (4, 4, 3)
    assert one_layer("global_avg_pool2d", "[7, 7, 512]").output_shape == (512,)
    assert one_layer("{type: global_max_pool2d, keepdims: true}", "[7, 7, 512]").output_shape == (1, 1, 512)
    assert one_layer("{type: adaptive_avg_pool2d, output_size: 6}", "[256, 13, 13]",
                     "channels_first").output_shape == (256, 6, 6)


def test_dense_flatten_dropout():
    # slide 003: 64x6x6 -> flatten -> linear 10: 64*6*6*10 + 10 params
    a = cnncalc.analyse(cnncalc.loads("input: [64, 6, 6]\nlayout: channels_first\nlayers:\n  - flatten\n  - dropout\n"
                      "  - {type: linear, out_features: 10}\n"))
    assert [x.output_shape for x in a.layers] == [(2304,), (2304,), (10,)]
    assert a.layers[2].params == 23_050 and a.layers[2].macs == 23_040
    # slides 000/002: 32x32x3 image stretched to 3072 x 1
    assert one_layer("flatten").output_shape == (3072,)


def test_batch_norm_counts():
    bn = one_layer("batch_norm", "[8, 8, 64]")
    assert (bn.trainable_params, bn.non_trainable_params, bn.params) == (128, 128, 256)
    assert one_layer("{type: batch_norm, affine: false}", "[8, 8, 64]").trainable_params == 0


def test_parameterless_layers():
    for t in ("relu", "sigmoid", "tanh", "softmax", "local_response_norm", "dropout", "relu6", "identity"):
        layer = one_layer(t, "[13, 13, 256]")
        assert layer.output_shape == (13, 13, 256) and layer.params == 0 and layer.macs == 0


def test_merges():
    text = """input: [8, 8, 16]
layers:
  - {type: conv2d, name: a, filters: 16, kernel: 3, padding: 1}
  - {type: conv2d, name: b, inputs: [input], filters: 8, kernel: 1}
  - {type: concat, name: cat, inputs: [a, b]}
  - {type: add, name: sum, inputs: [a, input]}
  - {type: global_avg_pool2d, name: gap, inputs: [sum]}
  - {type: multiply, name: scale, inputs: [sum, gap]}
  - {type: reshape, name: r, shape: [-1, 16]}
  - {type: concat, name: last, inputs: [r, r]}
"""
    a = cnncalc.analyse(cnncalc.loads(text))
    shapes = {x.name: x.output_shape for x in a.layers}
    assert shapes["cat"] == (8, 8, 24) and shapes["sum"] == (8, 8, 16) and shapes["scale"] == (8, 8, 16)
    assert shapes["r"] == (64, 16)


def test_zero_pad():
    assert one_layer("{type: zero_pad2d, padding: [[1, 2], [3, 4]]}", "[5, 5, 1]").output_shape == (8, 12, 1)


def test_totals_add_up():
    a = cnncalc.analyse(ARCH / "cifar_net.yaml")
    t = a.totals
    assert t["params"] == sum(x.params for x in a.layers) == t["trainable_params"] + t["non_trainable_params"]
    # slide 003: conv1 896, conv2 64*(4*4*32)+64 = 32832, fc1 23050
    assert t["params"] == 896 + 32_832 + 23_050


def test_ceil_mode_window_may_overhang_a_small_input():
    # torch.nn.MaxPool2d(2, 2, ceil_mode=True) on 1x1 gives 1x1; without ceil_mode it refuses
    assert window_dim("H", 1, 2, 2, 1, (0, 0), ceil_mode=True, pooling=True).out == 1
    with pytest.raises(cnncalc.SpecError):
        one_layer("{type: max_pool2d, kernel: 2}", "[1, 1, 3]")


def test_pool_padding_limit_uses_the_undilated_kernel():
    # torch: MaxPool2d(3, 1, padding=2, dilation=2) raises "pad should be ... at most half of kernel size"
    with pytest.raises(cnncalc.SpecError) as info:
        one_layer("{type: max_pool2d, kernel: 3, stride: 1, padding: 2, dilation: 2}", "[9, 9, 3]")
    assert "more than half the pooling kernel 3" in info.value.first.message


@pytest.mark.parametrize("layout,shape,axis,group", [
    ("channels_last", "[4, 5, 6]", -1, 6),     # Keras Softmax(axis=-1) on HxWxC: over channels
    ("channels_first", "[6, 4, 5]", 1, 6),     # torch.nn.Softmax(dim=1) on NCHW: over channels
    ("channels_first", "[6, 4, 5]", -1, 5),    # torch.nn.Softmax(dim=-1): over W
    ("channels_last", "[361]", -1, 361),        # AlphaGo: one softmax over the 361 board points
])
def test_softmax_counts_one_sum_per_group(layout, shape, axis, group):
    layer = one_layer(f"{{type: softmax, axis: {axis}}}", shape, layout)
    n = layer.tensor.numel
    assert layer.ops["exp"] == n and layer.ops["div"] == n and layer.ops["add"] == n - n // group


def test_softmax_axis_must_exist():
    with pytest.raises(cnncalc.SpecError) as info:
        one_layer("{type: softmax, axis: 0}", "[4, 5, 6]")
    assert "axis 0 does not exist" in info.value.first.message


def test_the_suggested_fit_tiles_the_input_exactly():
    """The stride-does-not-fit warning proposes input sizes and extra padding; each must tile exactly."""
    import random
    import re

    from cnncalc.layers.geometry import fits, window_dim

    rng = random.Random(3)
    checked = 0
    for _ in range(5000):
        n, k, s, dl = rng.randint(1, 40), rng.randint(1, 7), rng.randint(1, 5), rng.choice((1, 1, 2))
        pb, pe = rng.randint(0, 3), rng.randint(0, 3)
        try:
            d = window_dim("H", n, k, s, dl, (pb, pe))
        except Exception:
            continue
        if not d.unread or s > d.k_eff:
            continue
        checked += 1
        *sizes, extra = (int(v) for v in re.findall(r"\d+", fits(d)))
        for size in sizes:
            assert window_dim("H", size, k, s, dl, (pb, pe)).exact, fits(d)
        assert window_dim("H", n, k, s, dl, (pb, pe + extra)).exact, fits(d)
    assert checked > 500
