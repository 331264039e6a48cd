"""Grid oracle for convolution, pooling and padding in 1-D, 2-D and 3-D: single layers in real PyTorch
(meta device) against cnncalc, over sizes and settings.

For each configuration: the output shape, trainable parameters, buffers and multiply-accumulates
(torch's own FlopCounterMode, which counts 2 per conv multiply-accumulate and nothing for pooling)
are equal; where torch refuses the configuration, cnncalc refuses it too.
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402

SIZES_1D = [(n,) for n in (1, 2, 3, 4, 5, 7, 8, 13, 27, 64)]
SIZES_2D = [(1, 1), (1, 4), (3, 2), (4, 5), (7, 7), (13, 8)]
SIZES_3D = [(1, 1, 1), (1, 3, 3), (2, 5, 4), (3, 7, 7), (4, 8, 13), (8, 6, 9)]
SIZES = {1: SIZES_1D, 2: SIZES_2D, 3: SIZES_3D}


def ours(layer: str, c: int, sizes: tuple[int, ...]):
    """(output shape, trainable, non-trainable, MACs) channels first, or None when cnncalc refuses."""
    text = f"input: {[c, *sizes]}\nlayout: channels_first\nlayers:\n  - {layer}\n"
    try:
        r = cnncalc.analyse(cnncalc.loads(text, "t.yaml")).layers[0]
    except cnncalc.SpecError:
        return None
    return r.output_shape, r.trainable_params, r.non_trainable_params, r.ops.get("mac", 0)


def theirs(module: nn.Module, c: int, sizes: tuple[int, ...]):
    """The same from torch: its shape rules and checks on the meta device, its own flop counter."""
    module = module.to("meta")
    try:
        with FlopCounterMode(display=False) as flops:
            y = module(torch.zeros(1, c, *sizes, device="meta"))
    except (RuntimeError, ValueError):
        return None
    if 0 in y.shape:  # torch returns an empty tensor for a zero-size output; cnncalc calls it an error
        return None
    buffers = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), buffers, flops.get_total_flops() // 2


def agree(layer: str, module: nn.Module, c: int, nd: int, sizes=None) -> int:
    """Compare over the sizes of rank `nd`; returns how many sizes torch accepted (a grid must hit some)."""
    accepted = 0
    for s in sizes or SIZES[nd]:
        want = theirs(module, c, s)
        assert ours(layer, c, s) == want, (layer, s)
        accepted += want is not None
    return accepted


def spec(**values) -> str:
    return "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items()) + "}"


# ---------------------------------------------------------------- convolutions


@pytest.mark.parametrize("k,s,p,d", list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])))
def test_conv1d_grid(k, s, p, d):
    m = nn.Conv1d(4, 6, k, stride=s, padding=p, dilation=d, groups=2)
    agree(spec(type="Conv1d", in_channels=4, out_channels=6, kernel_size=k, stride=s, padding=p, dilation=d,
               groups=2), m, 4, 1)


@pytest.mark.parametrize("k,s,p,d,bias", list(itertools.product([1, 2, 3], [1, 2], [0, 1], [1, 2], [True, False])))
def test_conv3d_grid(k, s, p, d, bias):
    m = nn.Conv3d(4, 6, k, stride=s, padding=p, dilation=d, groups=2, bias=bias)
    agree(spec(type="conv3d", filters=6, kernel=k, stride=s, padding=p, dilation=d, groups=2, bias=bias), m, 4, 3)


@pytest.mark.parametrize("kernel,stride,padding", [((1, 3, 3), (1, 2, 2), (0, 1, 1)), ((3, 1, 1), (1, 1, 1), (1, 0, 0)),
                                                   ((3, 7, 7), (1, 2, 2), (1, 3, 3)), ((2, 3, 1), (2, 1, 3), (0, 1, 0))])
def test_conv3d_per_dim_sizes(kernel, stride, padding):
    """(2+1)-D and video stems: a different kernel, stride and padding per dim, in D, H, W order."""
    m = nn.Conv3d(3, 8, kernel, stride=stride, padding=padding, bias=False)
    assert agree(spec(type="nn.Conv3d", in_channels=3, out_channels=8, kernel_size=list(kernel),
                      stride=list(stride), padding=list(padding), bias=False), m, 3, 3) >= 3


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_padding_mode_limits_are_torchs(nd, mode, p):
    """reflect needs padding < input, circular ≤ input; replicate takes any: refused exactly where torch refuses."""
    m = getattr(nn, f"Conv{nd}d")(2, 3, 3, padding=p, padding_mode=mode)
    sizes = [(n,) * nd for n in (1, 2, 3, 4, 5)]
    assert agree(spec(type=f"conv{nd}d", filters=3, kernel=3, padding=p, padding_mode=mode), m, 2, nd, sizes) >= 1


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's note on speed
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("k,d", [(2, 1), (3, 1), (4, 1), (3, 2)])
def test_same_padding_with_every_mode(nd, mode, k, d):
    """cnncalc's SAME (TensorFlow's split, the extra pixel at the end) is torch's padding='same' at stride 1."""
    m = getattr(nn, f"Conv{nd}d")(2, 3, k, padding="same", dilation=d, padding_mode=mode)
    sizes = [(n,) * nd for n in (1, 2, 3, 4, 6)]
    agree(spec(type=f"conv{nd}d", filters=3, kernel=k, dilation=d, padding="same", padding_mode=mode), m, 2, nd, sizes)


def test_asymmetric_padding_with_a_mode_pads_each_side():
    """Explicit sides with a mode: PyTorch's F.pad of the mode, then an unpadded convolution."""
    pads = [[1, 0], [2, 1], [0, 3]]
    for mode in ("reflect", "replicate", "circular"):
        torch_pad = tuple(v for pair in reversed(pads) for v in pair)  # last dim first
        m = nn.Sequential(getattr(nn, {"reflect": "ReflectionPad3d", "replicate": "ReplicationPad3d",
                                       "circular": "CircularPad3d"}[mode])(torch_pad), nn.Conv3d(2, 3, 2))
        agree(spec(type="conv3d", filters=3, kernel=2, padding=pads, padding_mode=mode), m, 2, 3)


@pytest.mark.parametrize("k,s,p,op,d", [
    (k, s, p, op, d) for k, s, p, op, d in itertools.product([1, 2, 3], [1, 2, 3], [0, 1], [0, 1], [1, 2])
    if op < max(s, d)
])
@pytest.mark.parametrize("nd", [1, 3])
def test_conv_transpose_grid(nd, k, s, p, op, d):
    m = getattr(nn, f"ConvTranspose{nd}d")(4, 6, k, stride=s, padding=p, output_padding=op, dilation=d, groups=2)
    agree(spec(type=f"ConvTranspose{nd}d", in_channels=4, out_channels=6, kernel_size=k, stride=s, padding=p,
               output_padding=op, dilation=d, groups=2), m, 4, nd)


# ---------------------------------------------------------------- pooling


@pytest.mark.parametrize("k,s,p,d,ceil", list(itertools.product([1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2], [False, True])))
@pytest.mark.parametrize("nd", [1, 3])
def test_max_pool_grid(nd, k, s, p, d, ceil):
    m = getattr(nn, f"MaxPool{nd}d")(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    agree(spec(type=f"MaxPool{nd}d", kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil), m, 3, nd)


@pytest.mark.parametrize("k,s,p,ceil,inc", list(itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [False, True],
                                                                  [True, False])))
@pytest.mark.parametrize("nd", [1, 3])
def test_avg_pool_grid(nd, k, s, p, ceil, inc):
    m = getattr(nn, f"AvgPool{nd}d")(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=inc)
    agree(spec(type=f"AvgPool{nd}d", kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=inc),
          m, 3, nd)


def test_pool_stride_defaults_to_the_kernel_per_dim():
    m = nn.MaxPool3d((1, 2, 3))
    assert agree(spec(type="max_pool3d", kernel=[1, 2, 3]), m, 2, 3) >= 4


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kind", ["Avg", "Max"])
@pytest.mark.parametrize("out", [1, 2, 3, 5, 7])
def test_adaptive_pool_grid(nd, kind, out):
    m = getattr(nn, f"Adaptive{kind}Pool{nd}d")(out)
    agree(spec(type=f"Adaptive{kind}Pool{nd}d", output_size=out), m, 3, nd)


def test_adaptive_pool_per_dim_output_sizes():
    m = nn.AdaptiveMaxPool3d((1, 2, 7))
    assert agree(spec(type="adaptive_max_pool3d", output_size=[1, 2, 7]), m, 3, 3) == len(SIZES_3D)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pool_is_adaptive_pool_to_one(nd, kind, keepdims):
    pool = getattr(nn, f"Adaptive{kind.title()}Pool{nd}d")(1)
    m = pool if keepdims else nn.Sequential(pool, nn.Flatten())
    assert agree(spec(type=f"global_{kind}_pool{nd}d", keepdims=keepdims), m, 5, nd) == len(SIZES[nd])


# ---------------------------------------------------------------- padding layers

PAD_MODULES = {"zero": "ZeroPad", "reflection": "ReflectionPad", "replication": "ReplicationPad",
               "circular": "CircularPad", "constant": "ConstantPad"}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("word", list(PAD_MODULES))
@pytest.mark.parametrize("pads", [1, 2, 3, "asymmetric"])
def test_pad_layers_grid(nd, word, pads):
    if pads == "asymmetric":
        pairs = [[1, 3], [0, 2], [2, 0]][:nd]
        ours_pad, torch_pad = pairs, tuple(v for pair in reversed(pairs) for v in pair)
    else:
        ours_pad, torch_pad = pads, pads
    cls = getattr(nn, f"{PAD_MODULES[word]}{nd}d")
    m = cls(torch_pad, 0.5) if word == "constant" else cls(torch_pad)
    value = ", value: 0.5" if word == "constant" else ""
    sizes = [(n,) * nd for n in (1, 2, 3, 4)] + SIZES[nd]
    assert agree(f"{{type: {word}_pad{nd}d, padding: {ours_pad}{value}}}", m, 2, nd, sizes) >= 1


# ---------------------------------------------------------------- in_channels restates the input


@pytest.mark.parametrize("layer", ["{type: Conv3d, in_channels: 64, out_channels: 8, kernel_size: 3}",
                                   "{type: conv1d, in_channels: 64, filters: 8, kernel: 3}",
                                   "{type: ConvTranspose1d, in_channels: 64, out_channels: 8, kernel_size: 3}",
                                   "{type: depthwise_conv2d, in_channels: 64, kernel: 3}"])
def test_in_channels_is_checked_against_the_input(layer):
    nd = 3 if "3" in layer.split(",")[0] else 2 if "2d" in layer else 1
    assert ours(layer, 64, (9,) * nd) is not None
    with pytest.raises(cnncalc.SpecError) as err:
        cnncalc.analyse(cnncalc.loads(f"input: {[128, *(9,) * nd]}\nlayout: channels_first\nlayers:\n"
                                      f"  - {layer}\n", "net.yaml"))
    d = err.value.first
    assert d.message == "conv1: in_channels 64, but its input has 128 channels" or \
        d.message.endswith(": in_channels 64, but its input has 128 channels")
    assert (d.loc.line, d.loc.col) == (4, layer.index("64") + 5)  # at the value, not the layer
