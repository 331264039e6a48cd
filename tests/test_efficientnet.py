"""EfficientNetB0 against Keras's own `keras.applications.EfficientNetB0(weights=None)`, layer by layer.

Every layer of the Keras model is a spec layer of the same name (a block's `block2a.dwconv` is
Keras's `block2a_dwconv`; Keras names its input Rescaling and Normalization itself) and the other
way round; each has the same output shape, trainable and non-trainable weights (Normalization's
mean, variance and count among them) and multiply-accumulates. The totals are Keras's
count_params() and the paper's 0.39 billion FLOPs (multiply-adds).
"""

from __future__ import annotations

import math
import os

import pytest
from conftest import ARCH

import cnncalc

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

SPEC = ARCH / "efficientnet_b0_keras.yaml"


def keras_macs(layer) -> int:
    """Multiply-accumulates of a Keras convolution or dense layer, from its weights and output shape."""
    out = math.prod(d for d in layer.output.shape[1:])
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return out * math.prod(layer.kernel_size)
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
        return out // layer.kernel.shape[-1] * math.prod(layer.kernel.shape)
    return 0


@pytest.fixture(scope="module")
def model():
    return keras.applications.EfficientNetB0(weights=None)


def test_every_keras_layer_is_the_spec_layer_of_its_name(model):
    a = cnncalc.analyse(SPEC)
    ours = {layer.name.replace(".", "_"): layer for layer in a.layers}
    auto = {keras.layers.Rescaling: "rescaling", keras.layers.Normalization: "normalization"}  # Keras's own names
    count = lambda ws: sum(int(w.numpy().size) for w in ws)  # noqa: E731
    matched = set()
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        name = auto.get(type(layer), layer.name)
        got = ours[name]
        assert (got.output_shape, got.trainable_params, got.non_trainable_params, got.macs) == (
            tuple(layer.output.shape[1:]), count(layer.trainable_weights), count(layer.non_trainable_weights),
            keras_macs(layer)), name
        matched.add(name)
    assert matched == set(ours)  # and no spec layer without its Keras layer
    t = a.totals
    assert (t["trainable_params"], t["non_trainable_params"]) == (
        count(model.trainable_weights), count(model.non_trainable_weights)) == (5_288_548, 42_023)
    assert t["params"] == model.count_params() == 5_330_571
    assert round(t["macs"] / 1e9, 2) == 0.39  # the paper's Table 2: 0.39B FLOPs for B0


def test_normalization_and_rescaling_are_counted_as_keras_runs_them():
    a = cnncalc.analyse(SPEC)
    norm = a.layer("normalization")
    assert (norm.trainable_params, norm.non_trainable_params) == (0, 3 + 3 + 1)  # mean, variance, count
    assert a.layer("rescaling").ops == {"mul": 224 * 224 * 3}
    assert norm.ops == {"div": 224 * 224 * 3, "add": 224 * 224 * 3, "pow": 3, "cmp": 3}
