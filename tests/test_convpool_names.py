"""The vocabulary users write for convolution, pooling and padding: the frameworks' class names as
types, their argument names as parameters (the ones restating an inferred value checked), padding as
pairs per dimension, `padding_mode` and causal padding; and the derivations --explain writes for them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cnncalc
from cnncalc.explain import layer_lines
from cnncalc.layers import lookup

ROOT = Path(__file__).resolve().parent.parent

# the class families of this vocabulary, as the frameworks name them
TORCH_CLASSES = re.compile(r"(Conv|ConvTranspose|MaxPool|AvgPool|AdaptiveAvgPool|AdaptiveMaxPool|ZeroPad|ConstantPad|"
                           r"ReflectionPad|ReplicationPad|CircularPad)[123]d")
KERAS_CLASSES = re.compile(r"(Conv|Convolution)[123]D(Transpose)?|(Max|Average|Avg)(Pooling|Pool)[123]D|"
                           r"Global(Average|Avg|Max)(Pooling|Pool)[123]D|Adaptive(Average|Max)Pooling[123]D|"
                           r"ZeroPadding[123]D|DepthwiseConv2D|SeparableConv(olution)?2D")


def one(layer: str, shape: list[int], layout: str = "channels_first"):
    return cnncalc.analyse(cnncalc.loads(f"input: {shape}\nlayout: {layout}\nlayers:\n  - {layer}\n", "net.yaml")).layers[0]


def error(layer: str, shape: list[int]) -> cnncalc.errors.Diagnostic:
    with pytest.raises(cnncalc.SpecError) as err:
        one(layer, shape)
    return err.value.first


def at(layer: str, value: str) -> tuple[int, int]:
    """Where `value` is in the spec `one` writes: line 4, after "  - "."""
    return 4, 4 + layer.index(value) + 1


def rank_and_kind(name: str) -> tuple[int, str]:
    """(spatial dims, what it computes) from a framework class name: ('MaxPooling3D') → (3, 'max')."""
    nd = int(re.search(r"[123]", name)[0])
    low = name.lower()
    for word, kind in (("transpose", "transpose"), ("adaptiveavg", "adaptive_avg_pool"),
                       ("adaptiveaverage", "adaptive_avg_pool"), ("adaptivemax", "adaptive_max_pool"),
                       ("globalav", "global_avg_pool"), ("globalmax", "global_max_pool"),
                       ("maxpool", "max_pool"), ("avgpool", "avg_pool"), ("averagepool", "avg_pool"),
                       ("depthwise", "depthwise"), ("separable", "separable"), ("zero", "zero_pad"),
                       ("constant", "constant_pad"), ("reflection", "reflection_pad"), ("replication", "replication_pad"),
                       ("circular", "circular_pad"), ("conv", "conv")):
        if word in low:
            return nd, kind
    raise AssertionError(name)


def expected_type(name: str) -> str:
    nd, kind = rank_and_kind(name)
    return {"transpose": f"conv_transpose{nd}d", "conv": f"conv{nd}d", "depthwise": "depthwise_conv2d",
            "separable": "separable_conv2d"}.get(kind, f"{kind}{nd}d")


def test_every_torch_class_of_the_family_is_a_type():
    torch = pytest.importorskip("torch")
    names = [n for n in dir(torch.nn) if TORCH_CLASSES.fullmatch(n)]
    assert len(names) == 11 * 3
    for name in names:
        for spelling in (name, f"nn.{name}", f"torch.nn.{name}"):
            cls = lookup(spelling)
            assert cls is not None and cls.name == expected_type(name), spelling
        assert name in lookup(name).aliases  # listed, so that the schema offers it to editors


def test_every_keras_class_of_the_family_is_a_type():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    names = [n for n in dir(keras.layers) if KERAS_CLASSES.fullmatch(n)]
    assert len(names) >= 40
    for name in names:
        cls = lookup(f"keras.layers.{name}")
        assert cls is not None and cls.name == expected_type(name), name
        assert name in cls.aliases or name.lower() == cls.name.replace("_", ""), name


@pytest.mark.parametrize("framework,canonical,shape", [
    ("{type: nn.Conv3d, in_channels: 3, out_channels: 8, kernel_size: 3, stride: 2, padding: 1, dilation: 1, groups: 1, "
     "bias: false, padding_mode: replicate}",
     "{type: conv3d, filters: 8, kernel: 3, stride: 2, padding: 1, bias: false, padding_mode: replicate}", [3, 9, 9, 9]),
    ("{type: keras.layers.Conv3D, filters: 8, kernel_size: [1, 3, 3], strides: [1, 2, 2], padding: same, "
     "dilation_rate: 1, use_bias: true, activation: relu}",
     "{type: conv3d, filters: 8, kernel: [1, 3, 3], stride: [1, 2, 2], padding: same, activation: relu}", [3, 4, 9, 9]),
    ("{type: Conv1D, filters: 4, kernel_size: 3, dilation_rate: 2, padding: causal}",
     "{type: conv1d, filters: 4, kernel: 3, dilation: 2, padding: [4, 0]}", [3, 11]),
    ("{type: ConvTranspose3d, in_channels: 3, out_channels: 4, kernel_size: 2, stride: 2, output_padding: 1}",
     "{type: conv_transpose3d, filters: 4, kernel: 2, stride: 2, output_padding: 1}", [3, 2, 3, 4]),
    ("{type: MaxPooling3D, pool_size: 2, strides: 1}", "{type: max_pool3d, kernel: 2, stride: 1}", [3, 4, 5, 6]),
    ("{type: AvgPool1d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}",
     "{type: avg_pool1d, kernel: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}", [3, 10]),
    ("{type: GlobalMaxPooling1D, keepdims: true}", "{type: global_max_pool1d, keepdims: true}", [3, 10]),
    ("{type: AdaptiveAvgPool3d, output_size: [1, 2, 3]}", "{type: adaptive_avg_pool3d, output_size: [1, 2, 3]}",
     [3, 4, 5, 6]),
    ("{type: ZeroPad3d, padding: 2}", "{type: zero_pad3d, padding: [[2, 2], [2, 2], [2, 2]]}", [3, 4, 5, 6]),
])
def test_framework_arguments_mean_what_the_canonical_ones_do(framework, canonical, shape):
    a, b = one(framework, shape), one(canonical, shape)
    assert (a.type, a.output_shape, a.trainable_params, a.ops, a.flops) == \
        (b.type, b.output_shape, b.trainable_params, b.ops, b.flops)


def test_a_pad_list_that_reads_two_ways_is_refused_where_it_is_written():
    """PyTorch's nn.ZeroPad2d((1, 2, 3, 4)) pads left 1, right 2, top 3, bottom 4; Keras's order is the
    other way round. A flat list whose two readings differ is an error at the list, naming both."""
    layer = "{type: ZeroPad2d, padding: [1, 2, 3, 4]}"
    d = error(layer, [3, 8, 8])
    assert (d.loc.line, d.loc.col) == at(layer, "[1, 2, 3, 4]") and d.rule == "invalid-value"
    assert "[[1, 2], [3, 4]] as Keras reads it, or [[3, 4], [1, 2]] as PyTorch does" in d.message
    assert one("{type: ZeroPad2d, padding: [1, 2, 1, 2]}", [3, 8, 8]).output_shape == (3, 11, 11)  # the same both ways
    assert one("{type: ReflectionPad2d, padding: [[3, 4], [1, 2]]}", [3, 8, 8]).output_shape == (3, 15, 11)
    assert one("{type: ZeroPad1d, padding: [1, 2]}", [3, 8]).output_shape == (3, 11)  # one dim: one reading
    d = error("{type: CircularPad3d, padding: [1, 2, 3, 4, 5, 6]}", [3, 8, 8, 8])
    assert "(left, right, top, bottom, front, back)" in d.message


def test_padding_mode_limits_are_located_at_the_padding():
    layer = "{type: conv2d, filters: 4, kernel: 3, padding: 3, padding_mode: reflect}"
    d = error(layer, [3, 3, 9])
    assert d.message == ("conv1: reflect padding 3 along H must be smaller than the input (3): the mirror image "
                         "does not repeat the edge; use padding ≤ 2 or another mode")
    assert (d.loc.line, d.loc.col) == at(layer, "3, padding_mode")
    layer = "{type: CircularPad1d, padding: 5}"
    d = error(layer, [3, 4])
    assert "wraps around the input (4) more than once" in d.message and (d.loc.line, d.loc.col) == at(layer, "5}")


def test_explain_writes_3d_windows_and_causal_padding():
    r = one("{type: conv3d, filters: 8, kernel: [3, 3, 2], stride: 2, padding: same}", [3, 5, 7, 8])
    lines = layer_lines(r)
    assert "SAME (D): total pad = max((⌈5/2⌉ − 1)·2 + 3 − 5, 0) = 2 → front 1, back 1" in lines
    assert "W_out = ⌈8/2⌉ = 4" in lines
    assert "params = 8 · (3·3·2·3 + 1) = 440" in lines
    assert "MACs = 3·4·4·8 · 3·3·2·3 = 20,736" in lines
    r = one("{type: conv1d, filters: 2, kernel: 4, padding: causal}", [3, 10])
    assert layer_lines(r)[:2] == ["causal (L): pad (4 − 1) = 3 at the start, 0 at the end",
                                  "L_out = (10 − 4 + 3 + 0)/1 + 1 = 10"]
    r = one("{type: adaptive_max_pool3d, output_size: [1, 2, 3]}", [4, 2, 5, 7])
    assert "comparisons = 4 channels · (2·6·9 window cells − 1·2·3 outputs) = 408" in layer_lines(r)


@pytest.mark.parametrize("path", [ROOT / "tests" / "data" / "kitchen_sink_convpool.yaml", ROOT / "architectures" /
                                  "r3d_18.yaml", ROOT / "tests" / "data" / "one_framework" / "torch_only_convpool.yaml"])
def test_the_schema_takes_the_new_vocabulary(path):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from cnncalc.schema import build

    errors = [e.message for e in jsonschema.Draft7Validator(build()).iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []
