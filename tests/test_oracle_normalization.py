"""Normalisation layers against real PyTorch (meta device) and Keras: layer, group and instance norm,
batch norm's arguments, Keras Normalization and Rescaling; also the elementwise merges.

Trainable and non-trainable counts come from the frameworks' own weights and buffers; a restated
channel count that disagrees with the input is a located error naming both numbers.
"""

from __future__ import annotations

import itertools
import os

import pytest

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from test_oracle_resize_rearrange import keras_layer, ours, spec_value, theirs  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.explain import layer_lines  # noqa: E402

SHAPES = [(4,), (6, 5), (4, 3, 5), (8, 2, 3), (2, 3, 4, 5)]  # channels first


# ---------------------------------------------------------------- layer norm

def trailing(shape):
    return [list(shape[k:]) for k in range(len(shape))] + [[3], [5, 5], list(shape) + [1]]


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_normalized_shape_grid(affine, bias):
    for shape in SHAPES:
        for ns in trailing(shape):
            layer = f"{{type: LayerNorm, normalized_shape: {ns}, elementwise_affine: {spec_value(affine)}, " \
                    f"bias: {spec_value(bias)}}}"
            want = theirs(lambda ns=ns: torch.nn.LayerNorm(ns, elementwise_affine=affine, bias=bias), shape)
            assert ours(layer, shape) == want, (shape, ns)


def test_layer_norm_normalized_shape_mismatch_is_located():
    with pytest.raises(cnncalc.SpecError) as e:
        cnncalc.analyse(cnncalc.loads("input: [8, 8, 64]\nlayers:\n  - {type: layer_norm, name: ln, "
                                      "normalized_shape: 64}\n"))
    d = e.value.diagnostics[0]
    assert (d.loc.line, d.loc.col) == (3, len("  - {type: layer_norm, name: ln, normalized_shape: ") + 1)
    assert d.message.startswith("ln: normalized_shape [64], but the input's last dims (channels first) are [8]")


@pytest.mark.parametrize("axis", [-1, -2, 1, 2, 3, [1, 2, 3], [-1, -2], [1, 3]])
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_layer_norm_axis_matches_keras(axis, center, scale):
    for shape in [(5, 6, 4), (7, 3), (12,)]:
        if any(abs(a) > len(shape) for a in (axis if isinstance(axis, list) else [axis])):
            assert ours(f"{{type: layer_norm, axis: {axis}}}", shape, "channels_last") is None
            continue
        layer = f"{{type: LayerNormalization, axis: {axis}, center: {spec_value(center)}, scale: {spec_value(scale)}}}"
        want = keras_layer(keras.layers.LayerNormalization(axis=axis, center=center, scale=scale), shape)
        assert ours(layer, shape, "channels_last") == want, (shape, axis)


def test_layer_norm_over_channels_of_a_channels_last_spec_exports_to_torch():
    """axis -1 of an H x W x C spec is torch's dim 1: the export moves it last around nn.LayerNorm."""
    from cnncalc.export import export
    from cnncalc.export.verify import load_module, verify

    a = cnncalc.analyse(cnncalc.loads("input: [5, 6, 4]\nlayers:\n  - {type: layer_norm, name: ln}\n"))
    assert verify(a, "torch").mismatches == []
    e = export(a, "pytorch")
    assert "LayerNormAxes((1,), 4)" in e.code
    model = getattr(load_module(e.code, "ln"), e.builder)()
    x = torch.randn(2, 4, 5, 6)
    ref = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (4,)).permute(0, 3, 1, 2)
    torch.testing.assert_close(model(x), ref)


@pytest.mark.parametrize("layout,dims,axis,moved", [
    ("channels_first", (4, 5, 6), 1, (1,)),          # ConvNeXt's LayerNorm2d: the channels of N, C, H, W
    ("channels_first", (4, 5, 6), [1, 2], (1, 2)),  # a run of axes that is not the trailing one
    ("channels_last", (5, 6, 4), [1, 3], (2, 1)),   # H and C of N, H, W, C: torch's dims 2 and 1
])
def test_layer_norm_over_axes_that_are_not_the_last_exports_to_keras(layout, dims, axis, moved):
    """Keras 3's torch backend hands any run of axes to torch's layer_norm, which normalises trailing ones
    only: the export moves the axes last around LayerNormalization, and computes torch's values."""
    import numpy as np

    from cnncalc.export import export
    from cnncalc.export.verify import load_module, verify

    a = cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n"
                                      f"  - {{type: layer_norm, name: ln, axis: {axis}}}\n"))
    assert verify(a, "keras").mismatches == []
    e = export(a, "keras")
    assert "LayerNormAxes(" in e.code
    model = getattr(load_module(e.code, "ln_keras"), e.builder)()
    g = torch.Generator().manual_seed(0)
    chw = (4, 5, 6)  # torch's layout of the sample
    shape = [chw[t - 1] for t in sorted(moved)]
    gamma, beta = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    # Keras's γ, β have the normalised axes in the spec's order (H before C in N, H, W, C)
    spec_order = sorted(range(len(shape)), key=lambda i: sorted(moved)[i] if layout == "channels_first"
                        else (3 if sorted(moved)[i] == 1 else sorted(moved)[i] - 1))
    model.get_layer("ln").set_weights([gamma.permute(spec_order).numpy(), beta.permute(spec_order).numpy()])
    x = torch.randn(2, *chw, generator=g)
    ends = list(range(4 - len(moved), 4))
    want = torch.nn.functional.layer_norm(x.movedim(sorted(moved), ends), shape, gamma, beta, 1e-5)
    want = want.movedim(ends, sorted(moved))
    got = keras.ops.convert_to_numpy(model(x.numpy() if layout == "channels_first" else x.permute(0, 2, 3, 1).numpy()))
    got = got if layout == "channels_first" else got.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- group norm, instance norm, batch norm

def test_group_norm_grid_equals_torch():
    for c, g in itertools.product([1, 2, 3, 4, 6, 8, 32], [1, 2, 3, 4, 8, 32]):
        for shape in [(c,), (c, 5), (c, 3, 4)]:
            for affine in (True, False):
                want = theirs(lambda c=c, g=g, affine=affine: torch.nn.GroupNorm(g, c, affine=affine), shape)
                assert ours(f"{{type: GroupNorm, num_groups: {g}, affine: {spec_value(affine)}}}", shape) == want, \
                    (c, g, shape)


@pytest.mark.parametrize("groups", [1, 2, 4, -1])
def test_group_norm_matches_keras(groups):
    want = keras_layer(keras.layers.GroupNormalization(groups=groups), (5, 6, 8))
    layer = "{type: instance_norm, affine: true}" if groups == -1 else f"{{type: GroupNormalization, groups: {groups}}}"
    assert ours(layer, (5, 6, 8), "channels_last") == want


def test_restated_channel_counts_are_checked():
    cases = [("{type: GroupNorm, num_groups: 2, num_channels: 6}", "num_channels 6, but its input has 4 channels"),
             ("{type: InstanceNorm2d, num_features: 3}", "num_features 3, but its input has 4 channels"),
             ("{type: BatchNorm2d, name: bn2, num_features: 64}", "bn2: num_features 64, but its input has 4 "
                                                                  "channels"),
             ("{type: group_norm, groups: 3}", "groups 3 must divide the channels (4)")]
    for layer, message in cases:
        with pytest.raises(cnncalc.SpecError) as e:
            cnncalc.analyse(cnncalc.loads(f"input: [4, 5, 6]\nlayout: channels_first\nlayers:\n  - {layer}\n"))
        d = e.value.diagnostics[0]
        key = message.split()[0] if ":" not in message.split()[0] else message.split()[1]
        assert message in d.message and d.loc.col == 5 + layer.index(f"{key}: ") + len(key) + 2, d.format()
    assert ours("{type: BatchNorm2d, num_features: 4}", (4, 5, 6)) == ((4, 5, 6), 8, 8)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_instance_norm_equals_torch(affine, track):
    for shape in [(4, 7), (4, 1), (4, 5, 6), (4, 1, 1), (3, 2, 3, 4)]:
        cls = getattr(torch.nn, f"InstanceNorm{len(shape) - 1}d")
        layer = f"{{type: InstanceNorm{len(shape) - 1}d, affine: {spec_value(affine)}, " \
                f"track_running_stats: {spec_value(track)}}}"
        assert ours(layer, shape) == theirs(lambda cls=cls, c=shape[0]: cls(c, affine=affine, track_running_stats=track),
                                            shape)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_arguments_equal_torch(affine, track):
    for shape in [(6,), (4, 7), (4, 5, 6), (3, 2, 3, 4)]:
        if shape == (6,) and not track:
            continue  # batch statistics of a batch of one value per channel: torch refuses at batch size 1 only
        cls = getattr(torch.nn, f"BatchNorm{max(len(shape) - 1, 1)}d")
        layer = f"{{type: {cls.__name__}, num_features: {shape[0]}, affine: {spec_value(affine)}, " \
                f"track_running_stats: {spec_value(track)}}}"
        assert ours(layer, shape) == theirs(lambda cls=cls, c=shape[0]: cls(c, affine=affine, track_running_stats=track),
                                            shape)


@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batch_norm_center_scale_match_keras(center, scale):
    want = keras_layer(keras.layers.BatchNormalization(center=center, scale=scale), (5, 6, 8))
    assert ours(f"{{type: BatchNormalization, center: {spec_value(center)}, scale: {spec_value(scale)}}}",
                (5, 6, 8), "channels_last") == want


def test_statistics_are_explained():
    a = cnncalc.analyse(cnncalc.loads("input: [4, 5, 6]\nlayout: channels_first\nlayers:\n"
                                      "  - {type: group_norm, groups: 2}\n"))
    lines = layer_lines(a.layers[0])
    assert "params = 2 · 4 channels (γ, β) = 8" in lines
    assert "adds = 2 · 2 groups · (60 per group − 1) + 120 elements + 2 groups + 120 elements (β) = 478" in lines


# ---------------------------------------------------------------- Keras Normalization and Rescaling

@pytest.mark.parametrize("axis", [-1, 1, 2, -2, [1, 2], [], [1, 2, 3]])
def test_normalization_weights_match_keras(axis):
    for shape in [(5, 6, 3), (7, 4)]:
        n = len(shape)
        axes = axis if isinstance(axis, list) else [axis]
        if any(not -n <= (a if a < 0 else a - 1) < n for a in axes):
            assert ours(f"{{type: Normalization, axis: {axis}}}", shape, "channels_last") is None
            continue
        want = keras_layer(keras.layers.Normalization(axis=tuple(axis) if isinstance(axis, list) else axis), shape)
        assert ours(f"{{type: Normalization, axis: {axis}}}", shape, "channels_last") == want, (shape, axis)


def test_normalization_with_given_statistics_has_no_weights():
    for mean, var in [(0.5, 2.0), ([0.1, 0.2, 0.3], [1.0, 2.0, 3.0])]:
        want = keras_layer(keras.layers.Normalization(mean=mean, variance=var), (5, 6, 3))
        assert want[1:] == (0, 0)
        assert ours(f"{{type: Normalization, mean: {mean}, variance: {var}}}", (5, 6, 3), "channels_last") == want
    assert ours("{type: Normalization, mean: [1, 2], variance: [1, 2]}", (5, 6, 3), "channels_last") is None
    assert ours("{type: Normalization, mean: 1}", (5, 6, 3), "channels_last") is None


def test_rescaling_matches_keras():
    for scale, offset in [(1 / 255, 0.0), ([1.0, 2.0, 3.0], 0.5), (2.0, [0.0, 1.0, 2.0])]:
        want = keras_layer(keras.layers.Rescaling(scale, offset), (5, 6, 3))
        assert ours(f"{{type: Rescaling, scale: {scale}, offset: {offset}}}", (5, 6, 3), "channels_last") == want
    assert ours("{type: rescaling, scale: [1, 2]}", (5, 6, 3), "channels_last") is None


def test_preprocessing_values_agree_between_the_exports():
    """The exported PyTorch helpers compute what Keras's Normalization and Rescaling do."""
    import numpy as np

    from cnncalc.export import export
    from cnncalc.export.verify import load_module

    for layout, shape in (("channels_last", (5, 6, 3)), ("channels_first", (3, 5, 6))):
        axis = -1 if layout == "channels_last" else 1
        text = (f"input: {list(shape)}\nlayout: {layout}\nlayers:\n"
                "  - {type: rescaling, name: r, scale: [0.5, 2, 3], offset: 1}\n"
                f"  - {{type: normalization, name: n, axis: {axis}, mean: [0.1, 0.2, 0.3], variance: [4, 9, 16]}}\n"
                "  - {type: subtract, name: d, inputs: [r, n]}\n")
        a = cnncalc.analyse(cnncalc.loads(text))
        x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
        k = keras.ops.convert_to_numpy(load_module(export(a, "keras").code, "k").build_model()(x))
        e = export(a, "pytorch")
        model = getattr(load_module(e.code, "t"), e.builder)()
        xt = torch.from_numpy(x if layout == "channels_first" else x.transpose(0, 3, 1, 2))
        t = model(xt).detach().numpy()
        t = t if layout == "channels_first" else t.transpose(0, 2, 3, 1)
        np.testing.assert_allclose(k, t, rtol=1e-5, atol=1e-6)
        r = x * np.array([0.5, 2, 3]).reshape((1, 1, 1, 3) if layout == "channels_last" else (1, 3, 1, 1)) + 1
        np.testing.assert_allclose(t, r - (r - np.array([0.1, 0.2, 0.3]).reshape(
            (1, 1, 1, 3) if layout == "channels_last" else (1, 3, 1, 1))) / np.array([2, 3, 4]).reshape(
            (1, 1, 1, 3) if layout == "channels_last" else (1, 3, 1, 1)), rtol=1e-5, atol=1e-5)
        # invert undoes it, in both frameworks
        back = cnncalc.analyse(cnncalc.loads(text.replace(
            "{type: subtract, name: d, inputs: [r, n]}",
            f"{{type: normalization, name: back, axis: {axis}, mean: [0.1, 0.2, 0.3], variance: [4, 9, 16], "
            "invert: true}")))
        k = keras.ops.convert_to_numpy(load_module(export(back, "keras").code, "k").build_model()(x))
        np.testing.assert_allclose(k, r, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- merges

MERGES = {"subtract": keras.layers.Subtract, "maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum,
          "average": keras.layers.Average}


@pytest.mark.parametrize("name", list(MERGES))
@pytest.mark.parametrize("n", [2, 3])
def test_merges_match_keras(name, n):
    shape = (5, 6, 4)
    inputs = [keras.Input(shape=shape) for _ in range(n)]
    try:
        want = tuple(MERGES[name]()(inputs).shape[1:])
    except ValueError:  # Subtract takes exactly two inputs
        want = None
    text = (f"input: {list(shape)}\nlayers:\n  - {{type: identity, name: a}}\n  - {{type: relu, name: b, inputs: "
            f"[input]}}\n  - {{type: {MERGES[name].__name__}, name: m, inputs: {['a', 'b', 'input'][:n]}}}\n")
    try:
        got = cnncalc.analyse(cnncalc.loads(text)).layer("m").output_shape
    except cnncalc.SpecError:
        got = None
    assert got == want


def test_merges_refuse_different_shapes_and_count_their_operations():
    text = "input: [4, 5, 6]\nlayout: channels_first\nlayers:\n  - {{type: {t}, inputs: [input, {other}]}}\n"
    pool = "  - {type: max_pool2d, name: p, kernel: 2, inputs: [input]}\n"
    for t in MERGES:
        with pytest.raises(cnncalc.SpecError, match=f"{t} needs inputs of one shape, got 4x5x6 and 4x2x3"):
            cnncalc.analyse(cnncalc.loads(text.format(t=t, other="p") + pool))
    ops = {t: cnncalc.analyse(cnncalc.loads(text.format(t=t, other="input"))).layers[0].ops for t in MERGES}
    assert ops == {"subtract": {"add": 120}, "maximum": {"cmp": 120}, "minimum": {"cmp": 120},
                   "average": {"add": 120, "div": 120}}


def test_statistics_over_space_make_the_receptive_field_global():
    from cnncalc.receptive import receptive_fields

    layers = {"{type: layer_norm}": "local",                       # the channels of each position
              "{type: layer_norm, axis: [1, 2, 3]}": "global",     # every position's statistics
              "{type: group_norm, groups: 2}": "global",
              "instance_norm": "global",
              "{type: instance_norm, track_running_stats: true}": "local",   # stored statistics
              "{type: batch_norm, track_running_stats: false}": "global",
              "batch_norm": "local", "normalization": "local", "{type: rescaling, scale: 2}": "local"}
    for layer, kind in layers.items():
        a = cnncalc.analyse(cnncalc.loads(f"input: [9, 9, 4]\nlayers:\n  - {{type: conv2d, name: c, filters: 4, "
                                          f"kernel: 3}}\n  - {layer}\n"))
        rf = receptive_fields(a)[a.layers[-1].name]
        assert rf.kind == kind, layer
        if kind == "local":
            assert rf.size == (3, 3)


@pytest.mark.parametrize("layer,line", [
    ("normalization", "divides = 480 elements"),
    ("normalization", "non-trainable = 2 · 4 statistics (mean, variance) + 1 count = 9"),
    ("{type: normalization, invert: true}", "multiplies = 480 elements"),
    ("{type: rescaling, scale: 2, offset: 1}", "adds = 480 elements"),
    ("{type: layer_norm, bias: false}", "params = 1 · 4 normalised elements (γ) = 4"),
    ("{type: instance_norm, affine: true}", "divides = 2 · 4 groups = 8"),
    ("{type: instance_norm, track_running_stats: true}", "non-trainable = 2 · 4 channels (running mean, variance) = 8"),
    ("{type: average, inputs: [input, input, input]}", "adds = (3 inputs − 1) · 480 elements = 960"),
    ("{type: maximum, inputs: [input, input]}", "comparisons = (2 inputs − 1) · 480 elements = 480"),
    ("{type: upsample, size: [3, 5], mode: bicubic}", "multiplies = 60 outputs · 16 = 960"),
])
def test_explain_derives_each_count(layer, line):
    a = cnncalc.analyse(cnncalc.loads(f"input: [10, 12, 4]\nlayers:\n  - {layer}\n"))
    assert line in layer_lines(a.layers[-1])
