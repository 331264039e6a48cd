"""Export of the resizing, rearranging, normalisation and merge layers: the PyTorch and Keras code
compute the same values (the helpers written for what a framework lacks included), and what a
framework cannot express is an error naming it."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")

import cnncalc  # noqa: E402
from cnncalc.export import export  # noqa: E402
from cnncalc.export.verify import load_module, verify  # noqa: E402

# No weights anywhere: both exports must give the same numbers for the same input.
WEIGHTLESS = """input: {shape}
layout: {layout}
layers:
  - {{type: upsample, name: up, scale_factor: 2}}
  - {{type: Upsample, name: bilinear, size: [30, 20], mode: bilinear}}
  - {{type: UpSampling2D, name: bicubic, size: [1, 2], interpolation: bicubic}}
  - {{type: interpolate, name: exact, scale_factor: 1.5, mode: nearest-exact}}
  - {{type: crop2d, name: crop, cropping: [[11, 10], [20, 16]]}}
  - {{type: pixel_unshuffle, name: s2d, factor: 2}}
  - {{type: channel_shuffle, name: shuffle, groups: 4}}
  - {{type: chunk, name: odd_chunk, chunks: 3, index: 2}}
  - {{type: chunk, name: half, chunks: 2, index: 1, inputs: [shuffle]}}
  - {{type: pixel_shuffle, name: d2s, factor: 2}}
  - {{type: max_pool2d, name: pool, kernel: 4, stride: 2}}
  - {{type: crop_or_pad, name: grow, inputs: [pool, d2s]}}
  - {{type: crop_or_pad, name: cut, inputs: [d2s, pool]}}
  - {{type: crop_or_pad, name: odd, inputs: [odd_chunk, bicubic]}}
  - {{type: crop_or_pad, name: same, inputs: [cut, cut]}}
  - {{type: permute, name: swap, dims: [2, 1, 3]}}
  - {{type: transpose, name: back, dim0: 1, dim1: 2}}
  - {{type: rescaling, name: scale, scale: [1, 2, 3, 4], offset: 0.5}}
  - {{type: normalization, name: norm, axis: {channel}, mean: 0.25, variance: [1, 4, 9, 16]}}
  - {{type: subtract, name: diff, inputs: [norm, cut]}}
  - {{type: maximum, name: hi, inputs: [diff, cut, norm]}}
  - {{type: minimum, name: lo, inputs: [diff, cut]}}
  - {{type: average, name: mean, inputs: [hi, lo, diff]}}
  - {{type: UpSampling2D, name: up2, size: 3}}
  - {{type: crop_or_pad, name: back_to_grow, inputs: [up2, grow]}}
  - {{type: crop_or_pad, name: odd_fit, inputs: [odd, grow]}}
  - {{type: concat, name: all, inputs: [back_to_grow, grow, odd_fit]}}
"""


def run_both(text: str, layout: str):
    a = cnncalc.analyse(cnncalc.loads(text))
    shape = a.input_shape
    x = np.random.default_rng(1).normal(size=(2, *shape)).astype("float32")
    k = keras.ops.convert_to_numpy(load_module(export(a, "keras").code, "k").build_model()(x))
    e = export(a, "pytorch")
    model = getattr(load_module(e.code, "t"), e.builder)().eval()
    channels_last = layout == "channels_last" and len(shape) > 1
    xt = torch.from_numpy(np.moveaxis(x, -1, 1) if channels_last else x)
    with torch.no_grad():
        t = model(xt).numpy()
    return a, k, np.moveaxis(t, 1, -1) if channels_last else t


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_weightless_layers_compute_the_same_in_both_exports(layout):
    shape, channel = ([12, 12, 8], -1) if layout == "channels_last" else ([8, 12, 12], 1)
    text = WEIGHTLESS.format(shape=shape, layout=layout, channel=channel)
    a, k, t = run_both(text, layout)
    assert a.layer("odd").output_shape in ((30, 40, 10), (10, 30, 40)) and a.layer("cut").tensor.spatial == (11, 11)
    assert k.shape == t.shape == (2, *a.output_shape)
    np.testing.assert_allclose(k, t, rtol=1e-5, atol=1e-5)


def test_crop_or_pad_centres_with_the_odd_row_at_the_end():
    """TensorFlow's resize_with_crop_or_pad: crop offset ⌊(n − m)/2⌋, pad before ⌊(m − n)/2⌋."""
    text = ("input: [1, 7, 8]\nlayout: channels_first\nlayers:\n"
            "  - {type: max_pool2d, name: small, kernel: 2, stride: 2}\n"
            "  - {type: crop_or_pad, name: cut, inputs: [input, small]}\n"
            "  - {type: crop_or_pad, name: grow, inputs: [small, input]}\n"
            "  - {type: concat, name: both, inputs: [grow, input]}\n")
    a, k, t = run_both(text, "channels_first")
    np.testing.assert_allclose(k, t)
    # the real check: numbers placed by hand
    a = cnncalc.analyse(cnncalc.loads(text.replace("grow, input]", "cut, small]")))
    x = np.arange(56, dtype="float32").reshape(1, 1, 7, 8)
    e = export(a, "pytorch")
    model = getattr(load_module(e.code, "t"), e.builder)()
    out = model(torch.from_numpy(x)).numpy()[0, 0]  # [cut (3x4 of 7x8: rows 2..4, cols 2..5), small]
    np.testing.assert_array_equal(out, x[0, 0, 2:5, 2:6])
    grow = cnncalc.analyse(cnncalc.loads(text))
    e = export(grow, "pytorch")
    model = getattr(load_module(e.code, "g"), e.builder)()
    padded = model(torch.from_numpy(x)).numpy()[0, 0]  # 3x4 pooled, padded to 7x8: 2 rows above, 2 below
    assert padded[:2].sum() == 0 and padded[5:].sum() == 0 and padded[:, :2].sum() == 0 and padded[:, 6:].sum() == 0
    np.testing.assert_array_equal(padded[2:5, 2:6], x[0, 0, 1::2, 1::2][:3, :4])


def test_channels_first_spec_verifies_in_both_frameworks():
    text = ("input: [8, 12, 12]\nlayout: channels_first\nlayers:\n"
            "  - {type: Rescaling, name: r, scale: [1, 2, 3, 4, 5, 6, 7, 8]}\n"
            "  - {type: Normalization, name: n, axis: 1}\n"
            "  - {type: UpSampling2D, name: up, size: 2, interpolation: bilinear}\n"
            "  - {type: Cropping2D, name: c, cropping: [1, 2]}\n"
            "  - {type: layer_norm, name: ln, normalized_shape: [22, 20]}\n"
            "  - {type: group_norm, name: gn, groups: 4}\n"
            "  - {type: instance_norm, name: inorm, affine: true}\n"
            "  - {type: batch_norm, name: bn, num_features: 8, momentum: 0.01, eps: 0.001}\n"
            "  - {type: pixel_unshuffle, name: s2d, factor: 2}\n"
            "  - {type: chunk, name: part, chunks: 4, index: 3}\n"
            "  - {type: upsample, name: size, size: [3, 17], mode: bicubic}\n"
            "  - {type: UpSampling3D, name: not_3d, inputs: [input]}\n"
            "  - {type: flatten, name: f, inputs: [size]}\n")
    bad = cnncalc.loads(text)
    with pytest.raises(cnncalc.SpecError, match="upsampling3d needs an input with 3 spatial dims"):
        cnncalc.analyse(bad)
    a = cnncalc.analyse(cnncalc.loads(text.replace("  - {type: UpSampling3D, name: not_3d, inputs: [input]}\n", "")))
    for framework in ("torch", "keras"):
        report = verify(a, framework)
        assert report.mismatches == [] and len(report.rows) == len(a.layers), framework


@pytest.mark.parametrize("layer,message", [
    ("{type: UpsamplingBilinear2d, scale_factor: 2}", "align_corners=True"),
    ("{type: upsample, scale_factor: 2, mode: bilinear, align_corners: true}", "align_corners=True"),
    ("{type: upsample, scale_factor: 1.5}", "torch's 'nearest' at a non-integer ratio"),
    ("{type: batch_norm, track_running_stats: false}", "track_running_stats=False"),
    ("{type: instance_norm, track_running_stats: true}", "track_running_stats"),
])
def test_what_keras_cannot_express_is_an_error_and_torch_verifies_it(layer, message):
    a = cnncalc.analyse(cnncalc.loads(f"input: [6, 6, 4]\nlayers:\n  - {layer}\n"))
    with pytest.raises(cnncalc.SpecError) as e:
        export(a, "keras")
    d = e.value.diagnostics[0]
    assert message in d.message and d.rule == "export-unsupported" and (d.loc.line, d.loc.col) == (3, 5)
    assert verify(a, "torch").mismatches == []


@pytest.mark.parametrize("layer,message", [
    ("{type: layer_norm, scale: false}", "β without γ"),
    ("{type: group_norm, groups: 2, center: false}", "γ without β"),
    ("{type: batch_norm, scale: false}", "γ without β or β without γ"),
])
def test_what_torch_cannot_express_is_an_error_and_keras_verifies_it(layer, message):
    a = cnncalc.analyse(cnncalc.loads(f"input: [6, 6, 4]\nlayers:\n  - {layer}\n"))
    with pytest.raises(cnncalc.SpecError, match=message):
        export(a, "pytorch")
    assert verify(a, "keras").mismatches == []
