"""Resizing and rearranging layers against real PyTorch (meta device) and Keras, over grids.

For every configuration, the framework's output shape and weights must equal cnncalc's; where the
framework refuses the configuration, cnncalc must refuse it too (a located error, never a shape).
"""

from __future__ import annotations

import itertools
import math
import os

import pytest

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")

import cnncalc  # noqa: E402
from cnncalc.explain import layer_lines  # noqa: E402

SIZES = [1, 2, 3, 5, 6, 7, 8, 13, 16]
TORCH_ERRORS = (RuntimeError, ValueError, NotImplementedError, TypeError, IndexError)


def ours(layer: str, shape: tuple[int, ...], layout: str = "channels_first"):
    """(output shape, trainable, non-trainable) of the spec's last layer, or None if cnncalc refuses it."""
    first = ""
    if len(shape) > 3:  # a volume: specs take at most 3 input dims, so it comes from a reshape
        first, shape = f"  - {{type: reshape, shape: {list(shape)}}}\n", (math.prod(shape),)
    try:
        a = cnncalc.analyse(cnncalc.loads(f"input: {list(shape)}\nlayout: {layout}\nlayers:\n{first}  - {layer}\n"))
    except cnncalc.SpecError:
        return None
    last = a.layers[-1]
    return last.output_shape, last.trainable_params, last.non_trainable_params


def theirs(make, shape: tuple[int, ...]):
    """The same for a torch module on the meta device (channels-first shape), None if torch refuses."""
    try:
        module = make().to("meta").eval()  # inference, as cnncalc counts
        y = module(torch.zeros(1, *shape, device="meta"))
    except TORCH_ERRORS:
        return None
    if 0 in y.shape:
        return None
    buffers = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), buffers


def spec_value(v) -> str:
    return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(list(v) if isinstance(v, tuple)
                                                                                   else v)


# ---------------------------------------------------------------- upsample / interpolate

SCALES = [0.5, 1, 1.5, 2, 2.5, 3, 0.3, 1.7, 7 / 3, (2, 3), (0.5, 1.25)]


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"])
@pytest.mark.parametrize("align", [None, True, False])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_upsample_scale_factor_grid(mode, align, nd):
    sizes, scales = (SIZES[:6] if nd == 3 else SIZES), SCALES
    if mode == "bicubic":  # torch's bicubic is slow even on the meta device; its shapes are bilinear's
        sizes, scales = [1, 5], [0.5, 1.5, 7 / 3, (0.5, 1.25)]
    for scale, n in itertools.product(scales, sizes):
        if isinstance(scale, tuple) and nd != 2:
            continue
        shape = (3, *[n + d for d in range(nd)])

        def make(scale=scale):
            return torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=align)

        layer = f"{{type: upsample, scale_factor: {spec_value(scale)}, mode: {mode}, align_corners: {spec_value(align)}}}"
        if align is None:
            layer = layer.replace(", align_corners: null", "")
        assert ours(layer, shape) == theirs(make, shape), (scale, shape)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "trilinear", "linear"])
def test_upsample_size_grid(mode):
    for out, n in itertools.product([1, 2, 4, 7, (3, 9), (9, 3), (2, 3, 4)], [1, 5] if mode == "bicubic" else SIZES):
        for nd in (1, 2, 3):
            shape = (2, *[n] * nd)
            layer = f"{{type: Upsample, size: {spec_value(out)}, mode: {mode}}}"
            assert ours(layer, shape) == theirs(lambda out=out: torch.nn.Upsample(size=out, mode=mode), shape), \
                (out, shape)


def test_upsample_refuses_what_torch_refuses_with_a_located_error():
    cases = [("{type: upsample, scale_factor: 2, size: 4}", "scale_factor", lambda: torch.nn.Upsample(4, 2)),
             ("{type: upsample, scale_factor: 2, align_corners: false}", "align_corners",
              lambda: torch.nn.Upsample(scale_factor=2, align_corners=False)),
             ("{type: upsample, mode: bilinear}", None, lambda: torch.nn.Upsample(mode="bilinear")),
             ("{type: upsample, scale_factor: 0.1}", "scale_factor", lambda: torch.nn.Upsample(scale_factor=0.1)),
             ("{type: upsample, scale_factor: 2, mode: trilinear}", "mode",
              lambda: torch.nn.Upsample(scale_factor=2, mode="trilinear"))]
    for layer, key, make in cases:
        assert theirs(make, (3, 5, 6)) is None
        with pytest.raises(cnncalc.SpecError) as e:
            cnncalc.analyse(cnncalc.loads(f"input: [3, 5, 6]\nlayout: channels_first\nlayers:\n  - {layer}\n"))
        d = e.value.diagnostics[0]
        # at the value of the parameter at fault, else at the layer
        column = 5 + (layer.index(f"{key}: ") + len(key) + 2 if key else 0)
        assert (d.loc.line, d.loc.col) == (4, column), (d.format(), key)


def test_upsampling_bilinear2d_is_aligned_bilinear():
    for scale in (2, 3, 1.5):
        shape = (3, 5, 7)
        assert ours(f"{{type: UpsamplingBilinear2d, scale_factor: {scale}}}", shape) == \
            theirs(lambda scale=scale: torch.nn.UpsamplingBilinear2d(scale_factor=scale), shape)


def test_upsample_explain_writes_the_taps():
    a = cnncalc.analyse(cnncalc.loads("input: [3, 5, 6]\nlayout: channels_first\nlayers:\n"
                                      "  - {type: upsample, scale_factor: 2, mode: bilinear}\n"))
    lines = layer_lines(a.layers[0])
    assert "multiplies = 360 outputs · 4 = 1,440" in lines and "adds = 360 outputs · 3 = 1,080" in lines


# ---------------------------------------------------------------- Keras UpSampling1D/2D/3D

keras = pytest.importorskip("keras")


def keras_layer(layer, shape):
    """Output shape (without batch), trainable and non-trainable weights of one Keras layer, or None."""
    try:
        out = layer(keras.Input(shape=shape))
    except (ValueError, TypeError):
        return None
    if any(d is not None and d <= 0 for d in out.shape[1:]):
        return None
    count = lambda ws: sum(int(w.numpy().size) for w in ws)  # noqa: E731
    return tuple(out.shape[1:]), count(layer.trainable_weights), count(layer.non_trainable_weights)


@pytest.mark.parametrize("factor", [1, 2, 3, (2, 3), (1, 4)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_upsampling2d_matches_keras_and_torch(factor, interpolation, layout):
    for n in (1, 4, 7):
        shape = (n, n + 2, 3) if layout == "channels_last" else (3, n, n + 2)
        layer = f"{{type: UpSampling2D, size: {spec_value(factor)}, interpolation: {interpolation}}}"
        want = keras_layer(keras.layers.UpSampling2D(factor, data_format=layout, interpolation=interpolation), shape)
        assert ours(layer, shape, layout) == want
    chw = (3, 4, 6)
    mode = {"nearest": "nearest"}.get(interpolation, interpolation)
    assert ours(layer, chw) == theirs(lambda: torch.nn.Upsample(scale_factor=factor, mode=mode), chw)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_resizing_matches_keras_and_torch(interpolation):
    torch_mode = {"nearest": "nearest-exact"}.get(interpolation, interpolation)
    for (h, w), n in itertools.product([(1, 1), (3, 17), (20, 8), (5, 5)], [1, 4, 9]):
        layer = f"{{type: Resizing, height: {h}, width: {w}, interpolation: {interpolation}}}"
        for layout, shape in (("channels_last", (n, n + 3, 2)), ("channels_first", (2, n, n + 3))):
            want = keras_layer(keras.layers.Resizing(h, w, interpolation=interpolation, data_format=layout), shape)
            assert ours(layer, shape, layout) == want
        chw = (2, n, n + 3)
        assert ours(layer, chw) == theirs(lambda h=h, w=w: torch.nn.Upsample(size=(h, w), mode=torch_mode), chw)
    assert ours("{type: resizing, height: 4, width: 4}", (5, 3), "channels_last") is None  # images only


def test_upsampling1d_and_3d_match_keras():
    for size in (1, 2, 3):
        assert ours(f"{{type: UpSampling1D, size: {size}}}", (7, 4), "channels_last") == \
            keras_layer(keras.layers.UpSampling1D(size), (7, 4))
    for size in (2, (1, 2, 3)):
        assert ours(f"{{type: UpSampling3D, size: {spec_value(size)}}}", (3, 4, 5, 2), "channels_last") == \
            keras_layer(keras.layers.UpSampling3D(size), (3, 4, 5, 2))
    assert ours("{type: UpSampling3D}", (4, 5, 2), "channels_last") is None  # a 2-D input


# ---------------------------------------------------------------- pixel shuffle, channel shuffle

@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_pixel_shuffle_and_unshuffle_grid(r):
    for c, n in itertools.product([1, 2, 4, 8, 9, 16, 18, 32], SIZES):
        shape = (c, n, n + 1)
        assert ours(f"{{type: PixelShuffle, upscale_factor: {r}}}", shape) == \
            theirs(lambda: torch.nn.PixelShuffle(r), shape), shape
        assert ours(f"{{type: space_to_depth, block_size: {r}}}", shape) == \
            theirs(lambda: torch.nn.PixelUnshuffle(r), shape), shape


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 8])
def test_channel_shuffle_grid(groups):
    for c, n in itertools.product([1, 2, 3, 4, 6, 8, 12, 116], [1, 5]):
        for shape in [(c, n), (c, n, n + 1), (c, 2, n, 3)]:
            assert ours(f"{{type: ChannelShuffle, groups: {groups}}}", shape) == \
                theirs(lambda: torch.nn.ChannelShuffle(groups), shape), shape
    assert ours("{type: channel_shuffle, groups: 2}", (4,)) is None  # torch needs at least 3 dims


# ---------------------------------------------------------------- permute, transpose, chunk

class Permute(torch.nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(0, *self.dims)


def test_permute_every_order_equals_torch_channels_first():
    for nd in (2, 3, 4):
        shape = (2, 3, 5, 7)[:nd]
        for dims in itertools.permutations(range(1, nd + 1)):
            assert ours(f"{{type: permute, dims: {list(dims)}}}", shape) == theirs(lambda d=dims: Permute(*d), shape)
            assert ours(f"{{type: permute, dims: {[0, *dims]}}}", shape) == theirs(lambda d=dims: Permute(*d), shape)
    for bad in ([1, 1, 2], [1, 2], [0, 1, 2], [2, 3, 4], [1, 2, 3, 4]):
        assert ours(f"{{type: permute, dims: {bad}}}", (2, 3, 5)) is None


def test_permute_matches_keras_in_channels_last():
    for dims in itertools.permutations((1, 2, 3)):
        assert ours(f"{{type: Permute, dims: {list(dims)}}}", (4, 5, 3), "channels_last") == \
            keras_layer(keras.layers.Permute(dims), (4, 5, 3))


def test_transpose_equals_torch_transpose():
    class T(torch.nn.Module):
        def __init__(self, a, b):
            super().__init__()
            self.a, self.b = a, b

        def forward(self, x):
            return x.transpose(self.a, self.b)

    shape = (2, 3, 5)
    for a, b in itertools.product([1, 2, 3, -1, -2, -3], repeat=2):
        assert ours(f"{{type: transpose, dim0: {a}, dim1: {b}}}", shape) == theirs(lambda a=a, b=b: T(a, b), shape)
    assert ours("{type: transpose, dim0: 0, dim1: 1}", shape) is None  # the batch axis stays
    assert ours("{type: transpose, dim0: 4, dim1: 1}", shape) is None and theirs(lambda: T(4, 1), shape) is None


def test_chunk_grid_equals_torch_chunk():
    class C(torch.nn.Module):
        def __init__(self, chunks, index):
            super().__init__()
            self.chunks, self.index = chunks, index

        def forward(self, x):
            return x.chunk(self.chunks, dim=1)[self.index]

    for c, chunks, index in itertools.product(range(1, 12), range(1, 7), range(0, 7)):
        shape = (c, 3, 4)
        assert ours(f"{{type: chunk, chunks: {chunks}, index: {index}}}", shape) == \
            (theirs(lambda chunks=chunks, index=index: C(chunks, index), shape) if index < len(torch.zeros(c).chunk(chunks)) else None), \
            (c, chunks, index)


# ---------------------------------------------------------------- cropping

@pytest.mark.parametrize("cropping", [0, 1, 2, (1, 2), ((0, 3), (2, 1)), ((4, 4), (0, 0)), ((1, 1), (3, 4))])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_cropping2d_matches_keras(cropping, layout):
    for n in (1, 3, 5, 8):
        shape = (n, n + 1, 2) if layout == "channels_last" else (2, n, n + 1)
        want = keras_layer(keras.layers.Cropping2D(cropping, data_format=layout), shape)
        got = ours(f"{{type: Cropping2D, cropping: {spec_value(cropping)}}}".replace("(", "[").replace(")", "]"),
                   shape, layout)
        assert got == want, (shape, cropping)


def test_cropping1d_and_3d_match_keras():
    for cropping, n in itertools.product([0, 1, (2, 1), (0, 5)], [1, 3, 6, 9]):
        assert ours(f"{{type: Cropping1D, cropping: {spec_value(cropping)}}}", (n, 3), "channels_last") == \
            keras_layer(keras.layers.Cropping1D(cropping), (n, 3)), (n, cropping)
    for cropping in (1, (1, 0, 2), ((1, 0), (0, 2), (2, 2))):
        text = str(list(cropping) if isinstance(cropping, tuple) else cropping).replace("(", "[").replace(")", "]")
        assert ours(f"{{type: Cropping3D, cropping: {text}}}", (4, 5, 6, 2), "channels_last") == \
            keras_layer(keras.layers.Cropping3D(cropping), (4, 5, 6, 2))


def test_crop_or_pad_takes_the_size_of_its_second_input():
    text = ("input: [3, 20, 20]\nlayout: channels_first\nlayers:\n"
            "  - {type: conv2d, name: big, filters: 4, kernel: 1}\n"
            "  - {type: max_pool2d, name: small, kernel: 3, stride: 3, inputs: [input]}\n"
            "  - {type: crop_or_pad, name: cut, inputs: [big, small]}\n"
            "  - {type: crop_or_pad, name: grow, inputs: [small, big]}\n"
            "  - {type: concat, name: cat, inputs: [cut, small]}\n"
            "  - {type: concat, name: cat2, inputs: [grow, big]}\n")
    a = cnncalc.analyse(cnncalc.loads(text))
    assert a.layer("cut").output_shape == (4, 6, 6) and a.layer("grow").output_shape == (3, 20, 20)
    # values pass through from the first input only: its receptive field, shifted by the crop
    from cnncalc.receptive import receptive_fields

    rf = receptive_fields(a)
    assert rf["cut"].size == (1, 1) and rf["cut"].start == (7, 7)
    assert rf["grow"].size == (3, 3) and rf["grow"].start == (1 - 7 * 3, 1 - 7 * 3)
    with pytest.raises(cnncalc.SpecError, match="crop_or_pad takes exactly 2 inputs"):
        cnncalc.analyse(cnncalc.loads(text.replace("inputs: [big, small]}", "inputs: [big]}")))
