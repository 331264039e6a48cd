"""Keras's `activation=` on convolutions and dense layers: one layer, whose activation every
convention counts exactly as the same activation written as a layer of its own."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc import conventions

FUSED = """input: [3, 16, 16]
layout: channels_first
layers:
  - {type: conv2d, filters: 8, kernel: 3, padding: 1, activation: relu}
  - {type: depthwise_conv2d, kernel: 3, stride: 2, activation: relu6}
  - flatten
  - {type: dense, units: 10, activation: leaky_relu}
  - {type: dense, units: 10, activation: softmax}
"""
SEPARATE = """input: [3, 16, 16]
layout: channels_first
layers:
  - {type: conv2d, filters: 8, kernel: 3, padding: 1}
  - relu
  - {type: depthwise_conv2d, kernel: 3, stride: 2}
  - relu6
  - flatten
  - {type: dense, units: 10}
  - leaky_relu
  - {type: dense, units: 10}
  - softmax
"""


@pytest.mark.parametrize("name", list(conventions.CONVENTIONS))
def test_a_fused_activation_counts_as_the_activation_layer_would(name):
    fused = cnncalc.analyse(cnncalc.loads(FUSED), convention=name)
    separate = cnncalc.analyse(cnncalc.loads(SEPARATE), convention=name)
    assert fused.totals == separate.totals
    assert [layer.output_shape for layer in fused.layers] == [separate.layers[i].output_shape for i in (1, 3, 4, 6, 8)]
    by_kind = fused.layers[0].to_dict()["ops"]
    assert (by_kind["mac"], by_kind["bias"], by_kind["act"]) == (16 * 16 * 8 * 3 * 3 * 3, 16 * 16 * 8, 16 * 16 * 8)


def test_linear_is_no_activation_and_an_unknown_one_is_located():
    plain = cnncalc.analyse(cnncalc.loads("input: [8]\nlayers:\n  - {type: dense, units: 4}\n"))
    linear = cnncalc.analyse(cnncalc.loads("input: [8]\nlayers:\n  - {type: dense, units: 4, activation: linear}\n"))
    assert linear.totals == plain.totals
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads("input: [8]\nlayers:\n  - {type: dense, units: 4, activation: flatten}\n",
                                      "a.yaml"))
    d = info.value.first
    assert (d.rule, d.loc.line, d.loc.col) == ("invalid-value", 3, 41)
    assert d.message.startswith("fc1: activation 'flatten' is not an activation; use one of relu, relu6, ")


def test_explain_writes_the_activation_after_the_layer():
    from cnncalc.explain import layer_lines

    a = cnncalc.analyse(cnncalc.loads(FUSED))
    lines = layer_lines(a.layers[0])
    assert "relu: activations = 2,048 elements" in lines
    assert lines[-3:] == ["conv2d: FLOPs = 2·55,296 MACs + 2,048 bias adds = 112,640",
                          "relu: FLOPs = 2,048 activations = 2,048", "FLOPs = 114,688 in all"]
