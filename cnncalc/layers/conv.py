"""Convolutions: conv2d, conv1d, depthwise, separable, transposed."""

from __future__ import annotations

import math

from ..errors import LayerError
from .base import RF, LayerType, Out, Param, Tensor, fmt, need_spatial
from .geometry import DIM_NAMES, grid, windows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_COMMON = {
    "kernel": Param("size", aliases=("kernel_size",), doc="window size"),
    "stride": Param("size", 1, aliases=("strides",), doc="step between windows"),
    "padding": Param("padding", 0, doc="int, pair, sides, 'same' or 'valid'"),
    "dilation": Param("size", 1, aliases=("dilation_rate",), doc="spacing between kernel taps"),
}
_FILTERS = {"filters": Param("count", aliases=("out_channels",), doc="number of filters (output channels)")}
_GROUPS = {"groups": Param("count", 1, doc="grouped convolution: channels are split into this many groups")}
_BIAS = {"bias": Param("bias", True, aliases=("use_bias",), doc="true, false or per_position")}


def _kdesc(kernel: tuple[int, ...]) -> str:
    return "·".join(map(str, kernel))


_ONES = {1: (1,), 2: (1, 1)}


def _conv(cls: type[LayerType], p: dict[str, Any], x: Tensor, explain: bool = False) -> Out:
    nd = cls.ndim
    sizes = x.spatial
    if len(sizes) != nd:
        need_spatial(x, nd, cls.name)  # raises, worded
    c_in, c_out, groups = x.c, p["filters"], p["groups"]
    if c_in % groups or c_out % groups:
        what, c = ("input channels", c_in) if c_in % groups else ("filters", c_out)
        raise LayerError(f"groups {groups} must divide the {what} ({c})", "invalid-value", key="groups")
    kernel, stride, dilation = p["kernel"], p["stride"], p["dilation"]
    if explain:
        dims, warnings = windows(sizes, kernel, stride, dilation, p["padding"])
        spatial, begins = tuple([d.out for d in dims]), tuple([d.pad_begin for d in dims])
    else:
        spatial, begins, warnings = grid(sizes, kernel, stride, dilation, p["padding"])
    k = math.prod(kernel)
    per_group = c_in // groups
    weights = c_out * per_group * k
    bias = p["bias"]
    positions = math.prod(spatial)
    biases = c_out * positions if bias == "per_position" else c_out if bias else 0
    macs = positions * c_out * per_group * k
    lines = []
    if explain:
        lines = [line for d in dims for line in d.explain]
        per_filter = f"{_kdesc(kernel)}·{per_group}"
        if bias == "per_position":
            lines.append(f"params = {c_out} · {per_filter} + {fmt(biases)} per-position biases = "
                         f"{fmt(weights + biases)}")
        elif biases:
            lines.append(f"params = {c_out} · ({per_filter} + 1) = {fmt(weights + biases)}")
        else:
            lines.append(f"params = {c_out} · {per_filter} = {fmt(weights)} (no bias)")
        lines.append(f"MACs = {'·'.join(map(str, (*spatial, c_out)))} · {per_filter} = {fmt(macs)}")
    k_eff = kernel if dilation == _ONES[nd] else tuple([dl * (kk - 1) + 1 for dl, kk in zip(dilation, kernel,
                                                                                                strict=True)])
    return Out(Tensor(c_out, spatial), weights + biases, 0, {"mac": macs, "bias": positions * c_out if biases else 0},
               warnings, lines, RF(k_eff, stride, begins))


class Conv2d(LayerType):
    name = "conv2d"
    aliases = ("conv",)
    prefix = "conv"
    doc = "2-D convolution (Keras Conv2D, torch.nn.Conv2d)"
    params = {**_FILTERS, **_COMMON, **_GROUPS, **_BIAS}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        return _conv(cls, p, inputs[0], explain)


class Conv1d(LayerType):
    name = "conv1d"
    prefix = "conv"
    doc = "1-D convolution over a sequence (Keras Conv1D, torch.nn.Conv1d)"
    params = {**_FILTERS, **_COMMON, **_GROUPS, **_BIAS}
    ndim = 1

    @classmethod
    def infer(cls, p, inputs, explain=False):
        return _conv(cls, p, inputs[0], explain)


class DepthwiseConv2d(LayerType):
    name = "depthwise_conv2d"
    aliases = ("depthwise",)
    prefix = "dwconv"
    doc = "depthwise convolution: one filter per input channel (Keras DepthwiseConv2D)"
    params = {**_COMMON, "depth_multiplier": Param("count", 1, doc="filters per input channel"), **_BIAS}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        q = dict(p, filters=x.c * p["depth_multiplier"], groups=x.c)
        return _conv(cls, q, x, explain)


class SeparableConv2d(LayerType):
    name = "separable_conv2d"
    aliases = ("separable",)
    prefix = "sepconv"
    doc = "depthwise then pointwise 1x1 convolution with one bias (Keras SeparableConv2D)"
    params = {**_FILTERS, **_COMMON, "depth_multiplier": Param("count", 1), **_BIAS}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        mid = x.c * p["depth_multiplier"]
        dw = _conv(cls, dict(p, filters=mid, groups=x.c, bias=False), x, explain)
        pw = _conv(cls, dict(p, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)),
                             groups=1), Tensor(mid, dw.shape.spatial), explain)
        out = Out(pw.shape, dw.trainable + pw.trainable,
                  ops={"mac": dw.ops["mac"] + pw.ops["mac"], "bias": pw.ops["bias"]},
                  warnings=dw.warnings, rf=dw.rf)
        out.explain = ["depthwise: " + e for e in dw.explain] + ["pointwise: " + e for e in pw.explain[-2:]]
        return out


class ConvTranspose2d(LayerType):
    name = "conv_transpose2d"
    aliases = ("deconv2d", "conv2d_transpose")
    prefix = "deconv"
    doc = "transposed convolution (torch.nn.ConvTranspose2d, Keras Conv2DTranspose)"
    params = {**_FILTERS, **_COMMON, "padding": Param("tpadding", 0, doc="int, pair, sides, 'same' or 'valid' (Keras)"),
              "output_padding": Param("size0", 0), **_GROUPS, **_BIAS}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        sizes = need_spatial(x, 2, cls.name)
        c_in, c_out, g = x.c, p["filters"], p["groups"]
        for what, c in (("input channels", c_in), ("filters", c_out)):
            if c % g:
                raise LayerError(f"groups {g} must divide the {what} ({c})", "invalid-value", key="groups")
        if p["bias"] == "per_position":
            raise LayerError("per_position bias is not supported on conv_transpose2d", "invalid-value", key="bias")
        spatial = []
        lines: list[str] = []
        for i, dim in enumerate(DIM_NAMES[2]):
            size, k, s, d, op = sizes[i], p["kernel"][i], p["stride"][i], p["dilation"][i], p["output_padding"][i]
            k_eff = d * (k - 1) + 1
            if op >= max(s, d):
                raise LayerError(f"output_padding {op} must be smaller than stride or dilation", "invalid-value",
                                 key="output_padding")
            if op and isinstance(p["padding"], str):
                raise LayerError(f"output_padding does not combine with padding '{p['padding']}' (Keras fixes the "
                                 "output size for it); use integer padding", "invalid-value", key="output_padding")
            if p["padding"] == "same":
                o = size * s  # Keras: the forward SAME conv of the output gives the input back
                if explain:
                    lines.append(f"{dim}_out = {size}·{s} = {o} (SAME)")
            elif p["padding"] == "valid":
                o = size * s + max(k_eff - s, 0)  # Keras deconv_output_length; torch's padding 0 differs if K < S
                if explain:
                    lines.append(f"{dim}_out = {size}·{s} + max({k_eff} − {s}, 0) = {o} (VALID)")
            else:
                pb, pe = p["padding"][i]
                o = (size - 1) * s - pb - pe + k_eff + op
                if explain:
                    lines.append(f"{dim}_out = ({size} − 1)·{s} − {pb + pe} + {k_eff} + {op} = {o}")
            if o < 1:
                raise LayerError(f"output size along {dim} would be {o}; reduce padding", "nonpositive-size",
                                 key="padding")
            spatial.append(o)
        k = math.prod(p["kernel"])
        weights = c_in * (c_out // g) * k
        biases = c_out if p["bias"] else 0
        out = Tensor(c_out, tuple(spatial))
        macs = x.numel * (c_out // g) * k  # every input value meets every tap it scatters to
        if explain:
            lines.append(f"params = {c_in} · {c_out // g} · {_kdesc(p['kernel'])}"
                         f"{' + ' + str(c_out) if biases else ''} = {fmt(weights + biases)}")
            lines.append(f"MACs = {fmt(x.numel)} inputs · {c_out // g}·{_kdesc(p['kernel'])} = {fmt(macs)}")
        # a fractional stride does not fit the (kernel, stride, pad) recurrence
        return Out(out, weights + biases, ops={"mac": macs, "bias": out.numel if biases else 0}, explain=lines,
                   rf=RF.unknown())


LAYERS = [Conv2d, Conv1d, DepthwiseConv2d, SeparableConv2d, ConvTranspose2d]
