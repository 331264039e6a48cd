"""Keras 3 (torch backend) as the oracle for TensorFlow's SAME/VALID rules and Keras param counts."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from conftest import one_layer  # noqa: E402

from cnncalc.explain import layer_lines  # noqa: E402


def keras_layer(layer, hwc):
    """Output shape (without batch), trainable and non-trainable counts of one Keras layer."""
    inp = keras.Input(shape=hwc)
    out = layer(inp)
    trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
    frozen = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
    return tuple(out.shape[1:]), trainable, frozen


SIZES = [1, 2, 5, 6, 7, 8, 13, 14, 224, 227]


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv_same_valid_matches_keras(stride, kernel, padding):
    for size in SIZES:
        if padding == "valid" and kernel > size:
            continue
        hw = (size, size + 1)  # odd and even sizes in one go
        want, params, _ = keras_layer(keras.layers.Conv2D(4, kernel, strides=stride, padding=padding), (*hw, 3))
        got = one_layer(f"{{type: conv2d, filters: 4, kernel: {kernel}, stride: {stride}, padding: {padding}}}",
                        f"[{hw[0]}, {hw[1]}, 3]")
        assert got.output_shape == want, (size, kernel, stride, padding)
        assert got.params == params


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("pool", [2, 3])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_pool_same_valid_matches_keras(stride, pool, padding):
    for size in SIZES:
        if padding == "valid" and pool > size:
            continue
        hw = (size, size + 1)
        want, _, _ = keras_layer(keras.layers.MaxPooling2D(pool, strides=stride, padding=padding), (*hw, 3))
        got = one_layer(f"{{type: max_pool2d, kernel: {pool}, stride: {stride}, padding: {padding}}}",
                        f"[{hw[0]}, {hw[1]}, 3]")
        assert got.output_shape == want, (size, pool, stride, padding)


def test_same_padding_puts_the_extra_pixel_bottom_right():
    """I=7, F=2, S=1: SAME pads one pixel in total. Input is 1 on row 1 only, kernel all ones: output row 0
    sees row 1 only if that pixel is at the bottom (window rows 0-1), not at the top (window rows -1..0)."""
    import numpy as np

    conv = keras.layers.Conv2D(1, 2, strides=1, padding="same", use_bias=False, kernel_initializer="ones")
    x = np.zeros((1, 7, 7, 1), dtype="float32")
    x[0, 1, :, 0] = 1.0
    y = keras.ops.convert_to_numpy(conv(x))
    assert y[0, 0, 2, 0] == 2.0 and y.shape == (1, 7, 7, 1)
    got = one_layer("{type: conv2d, filters: 1, kernel: 2, stride: 1, padding: same}", "[7, 7, 1]")
    assert "SAME (H): total pad = max((⌈7/1⌉ − 1)·1 + 2 − 7, 0) = 1 → top 0, bottom 1" in layer_lines(got)


@pytest.mark.parametrize("layer,spec,hwc", [
    (lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
     "{type: depthwise_conv2d, kernel: 3, depth_multiplier: 2, padding: same}", (9, 9, 16)),
    (lambda: keras.layers.SeparableConv2D(32, 3, strides=2, padding="same"),
     "{type: separable_conv2d, filters: 32, kernel: 3, stride: 2, padding: same}", (9, 9, 16)),
    (lambda: keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same"),
     "{type: conv_transpose2d, filters: 8, kernel: 3, stride: 2, padding: same}", (5, 7, 4)),
    (lambda: keras.layers.Conv2D(8, 3, dilation_rate=2, padding="same"),
     "{type: conv2d, filters: 8, kernel: 3, dilation: 2, padding: same}", (9, 10, 4)),
    (lambda: keras.layers.Conv2D(8, 3, groups=4, use_bias=False),
     "{type: conv2d, filters: 8, kernel: 3, groups: 4, bias: false}", (9, 10, 4)),
    (lambda: keras.layers.BatchNormalization(), "batch_norm", (9, 10, 4)),
    (lambda: keras.layers.GlobalAveragePooling2D(), "global_avg_pool2d", (9, 10, 4)),
    (lambda: keras.layers.AveragePooling2D(3, strides=2, padding="same"),
     "{type: avg_pool2d, kernel: 3, stride: 2, padding: same}", (9, 10, 4)),
    (lambda: keras.layers.ZeroPadding2D(((1, 2), (3, 4))), "{type: zero_pad2d, padding: [[1, 2], [3, 4]]}", (9, 10, 4)),
    (lambda: keras.layers.Flatten(), "flatten", (9, 10, 4)),
])
def test_layers_match_keras(layer, spec, hwc):
    want, trainable, frozen = keras_layer(layer(), hwc)
    got = one_layer(spec, str(list(hwc)))
    assert (got.output_shape, got.trainable_params, got.non_trainable_params) == (want, trainable, frozen)


def test_conv1d_matches_keras():
    want, params, _ = keras_layer(keras.layers.Conv1D(8, 5, strides=2, padding="same"), (19, 4))
    got = one_layer("{type: conv1d, filters: 8, kernel: 5, stride: 2, padding: same}", "[19, 4]")
    assert (got.output_shape, got.params) == (want, params)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
def test_conv_transpose_same_valid_matches_keras(padding, stride, kernel):
    for size in (1, 2, 5, 6, 7):
        hw = (size, size + 1)
        want, params, _ = keras_layer(keras.layers.Conv2DTranspose(4, kernel, strides=stride, padding=padding),
                                      (*hw, 3))
        got = one_layer(f"{{type: conv_transpose2d, filters: 4, kernel: {kernel}, stride: {stride}, "
                        f"padding: {padding}}}", f"[{hw[0]}, {hw[1]}, 3]")
        assert (got.output_shape, got.params) == (want, params), (size, kernel, stride, padding)
