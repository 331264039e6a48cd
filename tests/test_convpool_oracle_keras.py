"""Keras 3 (torch backend) as the oracle for convolution, pooling and padding in 1-D and 3-D (and
adaptive pooling in 2-D): TensorFlow's SAME/VALID rules, Keras's causal padding, output shapes and
trainable / non-trainable weights, layer by layer over grids of sizes. Where Keras refuses a
configuration, cnncalc refuses it too."""

from __future__ import annotations

import itertools
import math
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import cnncalc  # noqa: E402
from cnncalc.explain import layer_lines  # noqa: E402

SIZES = {1: [(n,) for n in (1, 2, 3, 5, 8, 13)], 2: [(1, 1), (2, 5), (7, 7), (13, 8)],
         3: [(1, 1, 1), (1, 3, 3), (2, 5, 4), (3, 7, 7), (6, 8, 9)]}


def theirs(make, sizes: tuple[int, ...], c: int = 3):
    """(output shape, trainable, non-trainable) of a fresh Keras layer, channels last; None if Keras refuses."""
    layer = make()
    try:
        out = layer(keras.Input(shape=(*sizes, c)))
    except ValueError:
        return None
    if 0 in out.shape[1:]:
        return None
    trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
    frozen = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
    return tuple(out.shape[1:]), trainable, frozen


def ours(layer: str, sizes: tuple[int, ...], c: int = 3):
    try:
        r = cnncalc.analyse(cnncalc.loads(f"input: {[*sizes, c]}\nlayers:\n  - {layer}\n", "t.yaml")).layers[0]
    except cnncalc.SpecError:
        return None
    return r.output_shape, r.trainable_params, r.non_trainable_params


def agree(make, layer: str, nd: int) -> int:
    accepted = 0
    for sizes in SIZES[nd]:
        want = theirs(make, sizes)
        assert ours(layer, sizes) == want, (layer, sizes)
        accepted += want is not None
    return accepted


@pytest.mark.parametrize("k,s,d", [(k, s, d) for k, s, d in itertools.product([1, 2, 3, 5], [1, 2, 3], [1, 2])
                                   if s == 1 or d == 1])  # Keras refuses stride > 1 with dilation > 1
def test_causal_conv1d_matches_keras(k, s, d):
    make = lambda: keras.layers.Conv1D(4, k, strides=s, dilation_rate=d, padding="causal")  # noqa: E731
    assert agree(make, f"{{type: Conv1D, filters: 4, kernel_size: {k}, strides: {s}, dilation_rate: {d}, "
                       "padding: causal}", 1) == len(SIZES[1])


def test_causal_padding_puts_every_zero_before_the_sequence():
    """Kernel 2 of ones over 1, 2, 3: Keras's causal output is 1, 3, 5 (a leading zero), and cnncalc says so."""
    import numpy as np

    conv = keras.layers.Conv1D(1, 2, padding="causal", use_bias=False, kernel_initializer="ones")
    y = keras.ops.convert_to_numpy(conv(np.array([[[1.0], [2.0], [3.0]]], dtype="float32")))
    assert y[0, :, 0].tolist() == [1.0, 3.0, 5.0]
    r = cnncalc.analyse(cnncalc.loads("input: [3, 1]\nlayers:\n  - {type: conv1d, filters: 1, kernel: 2, "
                                      "dilation: 3, padding: causal}\n", "t.yaml")).layers[0]
    assert "causal (L): pad 3·(2 − 1) = 3 at the start, 0 at the end" in layer_lines(r)
    assert "L_out = (3 − 3·(2−1)+1 + 3 + 0)/1 + 1 = 3" in layer_lines(r)


def test_causal_is_refused_where_keras_refuses_it():
    with pytest.raises(ValueError):
        keras.layers.Conv2D(4, 3, padding="causal")
    for layer in ("{type: conv2d, filters: 4, kernel: 3, padding: causal}", "{type: max_pool1d, kernel: 2, padding: causal}"):
        with pytest.raises(cnncalc.SpecError) as err:
            cnncalc.loads(f"input: [8, 8, 3]\nlayers:\n  - {layer}\n", "t.yaml")
        assert "causal" in err.value.first.message and err.value.first.rule == "invalid-value"


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,s", list(itertools.product([1, 2, 3], [1, 2, 3])))
@pytest.mark.parametrize("nd", [1, 3])
def test_conv_matches_keras(nd, k, s, padding):
    make = lambda: getattr(keras.layers, f"Conv{nd}D")(6, k, strides=s, padding=padding, groups=3)  # noqa: E731
    agree(make, f"{{type: Conv{nd}D, filters: 6, kernel_size: {k}, strides: {s}, padding: {padding}, groups: 3}}", nd)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,s", list(itertools.product([1, 2, 3, 4], [1, 2, 3])))
@pytest.mark.parametrize("nd", [1, 3])
def test_conv_transpose_matches_keras(nd, k, s, padding):
    make = lambda: getattr(keras.layers, f"Conv{nd}DTranspose")(4, k, strides=s, padding=padding)  # noqa: E731
    agree(make, f"{{type: Conv{nd}DTranspose, filters: 4, kernel_size: {k}, strides: {s}, padding: {padding}}}", nd)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,s", list(itertools.product([1, 2, 3], [1, 2, 3])))
@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("nd", [1, 3])
def test_pooling_matches_keras(nd, kind, k, s, padding):
    make = lambda: getattr(keras.layers, f"{kind}Pooling{nd}D")(k, strides=s, padding=padding)  # noqa: E731
    agree(make, f"{{type: {kind}Pooling{nd}D, pool_size: {k}, strides: {s}, padding: {padding}}}", nd)


@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(nd, kind, keepdims):
    make = lambda: getattr(keras.layers, f"Global{kind}Pooling{nd}D")(keepdims=keepdims)  # noqa: E731
    assert agree(make, f"{{type: Global{kind}Pooling{nd}D, keepdims: {str(keepdims).lower()}}}", nd) == len(SIZES[nd])


@pytest.mark.parametrize("out", [1, 2, 3, 5])
@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_pooling_matches_keras(nd, kind, out):
    make = lambda: getattr(keras.layers, f"Adaptive{kind}Pooling{nd}D")(out)  # noqa: E731
    agree(make, f"{{type: Adaptive{kind}Pooling{nd}D, output_size: {out}}}", nd)


@pytest.mark.parametrize("nd,padding,keras_padding", [
    (1, "2", 2), (1, "[1, 3]", (1, 3)), (3, "1", 1), (3, "[1, 2, 0]", (1, 2, 0)),
    (3, "[[1, 0], [0, 2], [3, 1]]", ((1, 0), (0, 2), (3, 1))), (2, "[[2, 0], [1, 3]]", ((2, 0), (1, 3))),
])
def test_zero_padding_matches_keras(nd, padding, keras_padding):
    make = lambda: getattr(keras.layers, f"ZeroPadding{nd}D")(keras_padding)  # noqa: E731
    assert agree(make, f"{{type: ZeroPadding{nd}D, padding: {padding}}}", nd) == len(SIZES[nd])


@pytest.mark.parametrize("nd", [1, 3])
@pytest.mark.parametrize("kind,activation", [("Conv{}D", "relu"), ("Conv{}DTranspose", "silu")])
def test_activation_on_the_new_convolutions_is_keras_activation(nd, kind, activation):
    spec = (f"{{type: {kind.format(nd)}, filters: 4, kernel_size: 2, activation: {activation}}}")
    agree(lambda: getattr(keras.layers, kind.format(nd))(4, 2, activation=activation), spec, nd)
    r = cnncalc.analyse(cnncalc.loads(f"input: {[5] * nd + [3]}\nlayers:\n  - {spec}\n", "t.yaml")).layers[0]
    # cnncalc's FLOPs: 2 per MAC, the bias adds, and the activation once per output element
    assert r.flops == 2 * r.ops["mac"] + r.ops["bias"] + math.prod(r.output_shape)
