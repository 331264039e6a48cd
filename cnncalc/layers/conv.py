"""Convolutions: conv1d, conv2d, conv3d, and the depthwise and separable 2-D convolutions.

Output size per spatial dim from geometry.windows; params = C_out · (K·C_in/groups + 1);
MACs = (output positions · C_out) · (K · C_in/groups), the bias adds not counted as MACs.
The padding's mode (PyTorch padding_mode: zeros, reflect, replicate, circular) changes what the
border holds, not a number: the limits on it are PyTorch's (pad.check_mode).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import LayerError, Unsupported
from .activations import ACTIVATION, fused_keras, fused_torch, with_activation
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import ZERO, count, plus, times, volume
from .geometry import windows
from .mapping import Arg, Call, Site, pos, sequence, size, symmetric
from .pad import PADDING_MODE, check_mode, torch_pad
from .params import Param

PADDING_DOC = "int, one per dim, sides, a [begin, end] pair per dim, 'same' or 'valid'"
KERNEL = {
    "kernel": Param("size", aliases=("kernel_size",), doc="window size"),
    "stride": Param("size", 1, aliases=("strides",), doc="step between windows"),
    "padding": Param("padding", 0, doc=PADDING_DOC),
    "dilation": Param("size", 1, aliases=("dilation_rate",), doc="spacing between kernel taps"),
}
IN_CHANNELS = {"in_channels": Param("count", None, doc="PyTorch's in_channels: checked against the input's channels")}
FILTERS = {"filters": Param("count", aliases=("out_channels",), doc="number of filters (output channels)"),
           **IN_CHANNELS}
GROUPS = {"groups": Param("count", 1, doc="grouped convolution: channels are split into this many groups")}
BIAS = {"bias": Param("bias", True, aliases=("use_bias",), doc="true, false or per_position"), **ACTIVATION}

PER_POSITION_TORCH = '''class PerPositionBias(nn.Module):
    """A learned bias for every output position and channel (AlphaGo's last layer)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(*shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias
'''
PER_POSITION_KERAS = '''class PerPositionBias(keras.layers.Layer):
    """A learned bias for every output position and channel (AlphaGo's last layer)."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="bias")

    def call(self, x):
        return x + self.bias
'''


def check_in_channels(values: dict[str, Any], x: Tensor) -> None:
    """`in_channels` restates the input's channels: a located error when it does not."""
    given = values.get("in_channels")
    if given is not None and given != x.c:
        raise LayerError(f"in_channels {given}, but its input has {x.c} channels", "shape-mismatch",
                         key="in_channels")


def convolve(name: str, nd: int, values: dict[str, Any], x: Tensor, filters: int, groups: int, bias: Any) -> Result:
    """The shape and counts of a (grouped) convolution of `x` with `filters` filters."""
    sizes = need_spatial(x, nd, name)
    check_in_channels(values, x)
    c_in = x.c
    if c_in % groups or filters % groups:
        what, c = ("input channels", c_in) if c_in % groups else ("filters", filters)
        raise LayerError(f"groups {groups} must divide the {what} ({c})", "invalid-value", key="groups")
    kernel, stride, dilation = values["kernel"], values["stride"], values["dilation"]
    dims, warnings = windows(sizes, kernel, stride, dilation, values["padding"])
    check_mode(values.get("padding_mode", "zeros"), [(d.pad_begin, d.pad_end) for d in dims], sizes)
    spatial = tuple(d.out for d in dims)
    per_filter = volume(*kernel, c_in // groups)
    outputs = volume(*spatial, filters)
    if bias == "per_position":
        params = plus(times(filters, per_filter), volume(filters, *spatial, label="per-position biases"))
    elif bias:
        params = times(filters, plus(per_filter, 1))
    else:
        params = times(filters, per_filter)
    return Result(Tensor(filters, spatial), params,
                  ops={"mac": times(outputs, per_filter), "bias": outputs if bias else ZERO},
                  windows=dims, warnings=warnings,
                  rf=ReceptiveStep(tuple(d.k_eff for d in dims), stride, tuple(d.pad_begin for d in dims)))


def conv_pads(site: Site) -> list[tuple[int, int]]:
    """Per-dim (begin, end) padding: SAME resolved for this input, causal as all at the start."""
    values = site.values
    if values["padding"] == "causal":
        return [(d * (k - 1), 0) for k, d in zip(values["kernel"], values["dilation"], strict=True)]
    return site.padding()


def _torch_conv(site: Site, c_out: int, groups: int) -> Call:
    values, x = site.values, site.x
    nd = len(x.spatial)
    pads = conv_pads(site)
    mode = values.get("padding_mode", "zeros")
    pre = None
    if not symmetric(pads):  # PyTorch pads symmetrically: SAME's extra pixel becomes an explicit pad
        pre, pads = torch_pad(mode, pads), [(0, 0)] * nd
    padded = any(b for b, _ in pads)
    conv = Call(f"nn.Conv{nd}d", [pos("in_channels", x.c), pos("out_channels", c_out), *_torch_window(values, pads),
                                  Arg("groups", groups, 1), Arg("bias", values["bias"] is True, True),
                                  *([Arg("padding_mode", mode, "zeros")] if padded else [])])
    return sequence(pre, conv, _position_bias(site), fused_torch(values))


def _torch_window(values: dict[str, Any], pads: list[tuple[int, int]]) -> list[Arg]:
    return [Arg("kernel_size", size(values["kernel"])), Arg("stride", size(values["stride"]), 1),
            Arg("padding", size(b for b, _ in pads), 0), Arg("dilation", size(values["dilation"]), 1)]


def _position_bias(site: Site) -> Call | None:
    if site.values["bias"] != "per_position":
        return None
    o = site.output
    return Call("PerPositionBias", [pos(f"d{i}", d) for i, d in enumerate((o.c, *o.spatial))])


def _keras_conv(site: Site, conv: str, first: list[Arg], extra: list[Arg]) -> list[tuple[str, Call]]:
    """Keras convolution pieces: an explicit ZeroPadding first unless SAME, causal or none, a
    PerPositionBias after when asked for."""
    values = site.values
    if max(values["stride"]) > 1 and max(values["dilation"]) > 1:
        raise Unsupported("stride > 1 together with dilation > 1 (Keras convolutions refuse it)")
    out: list[tuple[str, Call]] = []
    pads = conv_pads(site)
    mode = values.get("padding_mode", "zeros")
    if mode != "zeros" and any(b or e for b, e in pads):
        raise Unsupported(f"padding_mode {mode} (Keras convolutions pad with zeros only)")
    padding = values["padding"] if values["padding"] in ("same", "causal") else "valid"
    if padding == "valid" and any(b or e for b, e in pads):
        out.append(keras_pad(site, pads))
    per_position = values["bias"] == "per_position"
    activation = fused_keras(values)
    args = [*first, pos("kernel_size", size(values["kernel"])), Arg("strides", size(values["stride"]), 1),
            Arg("padding", padding, "valid"), *site.data_format(), Arg("dilation_rate", size(values["dilation"]), 1),
            *extra, Arg("use_bias", values["bias"] is True, True), *([] if per_position else activation)]
    out.append(("conv" if per_position else "", Call(conv, args)))
    if per_position:  # the activation follows the per-position bias
        out.append(("bias" if activation else "", Call("PerPositionBias")))
        if activation:
            out.append(("", Call("layers.Activation", [pos("activation", activation[0].value)])))
    return out


def keras_pad(site: Site, pads: list[tuple[int, int]]) -> tuple[str, Call]:
    """An explicit zero padding before a Keras layer, as the piece with role `pad`."""
    if len(pads) == 1:
        return "pad", Call("layers.ZeroPadding1D", [pos("padding", pads[0]), *site.data_format()])
    return "pad", Call(f"layers.ZeroPadding{len(pads)}D", [pos("padding", tuple(pads)), *site.data_format()])


class Conv2d(Layer):
    group = "convolution"
    name = "conv2d"
    aliases: ClassVar[tuple[str, ...]] = ("conv", "Conv2d", "Conv2D", "Convolution2D")
    prefix = "conv"
    family = "conv"
    doc = "2-D convolution (Keras Conv2D, torch.nn.Conv2d)"
    params = {**FILTERS, **KERNEL, **PADDING_MODE, **GROUPS, **BIAS}
    torch_helpers = {"PerPositionBias": PER_POSITION_TORCH}
    keras_helpers = {"PerPositionBias": PER_POSITION_KERAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        return with_activation(convolve(cls.name, cls.ndim, values, inputs[0], values["filters"], values["groups"],
                                        values["bias"]), values, layout)

    @classmethod
    def torch(cls, site):
        return _torch_conv(site, site.values["filters"], site.values["groups"])

    @classmethod
    def keras(cls, site):
        return _keras_conv(site, f"layers.Conv{cls.ndim}D", [pos("filters", site.values["filters"])],
                           [Arg("groups", site.values["groups"], 1)])


class Conv1d(Conv2d):
    name = "conv1d"
    aliases = ("Conv1d", "Conv1D", "Convolution1D")
    doc = "1-D convolution over a sequence (Keras Conv1D, torch.nn.Conv1d)"
    ndim = 1
    params = {**FILTERS, **KERNEL, "padding": Param("padding", 0, choices=("causal",), doc=f"{PADDING_DOC} or "
                                                    "'causal' (Keras: all the padding before the sequence)"),
              **PADDING_MODE, **GROUPS, **BIAS}


class Conv3d(Conv2d):
    name = "conv3d"
    aliases = ("Conv3d", "Conv3D", "Convolution3D")
    doc = "3-D convolution over a volume or video (Keras Conv3D, torch.nn.Conv3d)"
    ndim = 3


class DepthwiseConv2d(Layer):
    group = "convolution"
    name = "depthwise_conv2d"
    aliases = ("depthwise", "DepthwiseConv2D")
    prefix = "dwconv"
    family = "conv"
    doc = "depthwise convolution: one filter per input channel (Keras DepthwiseConv2D)"
    params = {**IN_CHANNELS, **KERNEL, **PADDING_MODE,
              "depth_multiplier": Param("count", 1, doc="filters per input channel"), **BIAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        return with_activation(convolve(cls.name, 2, values, x, x.c * values["depth_multiplier"], x.c,
                                        values["bias"]), values, layout)

    @classmethod
    def torch(cls, site):
        return _torch_conv(site, site.x.c * site.values["depth_multiplier"], site.x.c)

    @classmethod
    def keras(cls, site):
        return _keras_conv(site, "layers.DepthwiseConv2D", [],
                           [Arg("depth_multiplier", site.values["depth_multiplier"], 1)])


class SeparableConv2d(Layer):
    group = "convolution"
    name = "separable_conv2d"
    aliases = ("separable", "SeparableConv2D", "SeparableConvolution2D")
    prefix = "sepconv"
    family = "conv"
    doc = "depthwise then pointwise 1x1 convolution with one bias (Keras SeparableConv2D)"
    params = {**FILTERS, **KERNEL, **PADDING_MODE, "depth_multiplier": Param("count", 1), **BIAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        mid = x.c * values["depth_multiplier"]
        dw = convolve(cls.name, 2, values, x, mid, x.c, False)
        pointwise = dict(values, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)),
                         in_channels=None)
        pw = convolve(cls.name, 2, pointwise, Tensor(mid, dw.shape.spatial), values["filters"], 1, values["bias"])
        return with_activation(Result(
            pw.shape, plus(count(dw.params, "depthwise"), count(pw.params, "pointwise")),
            ops={"mac": plus(count(dw.ops["mac"], "depthwise"), count(pw.ops["mac"], "pointwise")),
                 "bias": pw.ops["bias"]},
            windows=dw.windows, warnings=dw.warnings, rf=dw.rf), values, layout)

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        pads = site.padding()
        mode = values["padding_mode"]
        pre = None
        if not symmetric(pads):
            pre, pads = torch_pad(mode, pads), [(0, 0)] * 2
        mid = x.c * values["depth_multiplier"]
        dw = Call("nn.Conv2d", [pos("in_channels", x.c), pos("out_channels", mid), *_torch_window(values, pads),
                                Arg("groups", x.c), Arg("bias", False),
                                *([Arg("padding_mode", mode, "zeros")] if any(b for b, _ in pads) else [])])
        pw = Call("nn.Conv2d", [pos("in_channels", mid), pos("out_channels", values["filters"]), Arg("kernel_size", 1),
                                Arg("bias", values["bias"] is True, True)])
        return sequence(pre, dw, pw, _position_bias(site), fused_torch(values))

    @classmethod
    def keras(cls, site):
        return _keras_conv(site, "layers.SeparableConv2D", [pos("filters", site.values["filters"])],
                           [Arg("depth_multiplier", site.values["depth_multiplier"], 1)])


LAYERS = [Conv2d, Conv1d, Conv3d, DepthwiseConv2d, SeparableConv2d]
