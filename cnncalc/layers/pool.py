"""Windowed pooling in 1-D, 2-D and 3-D: max_pool and avg_pool (PyTorch MaxPool1d/2d/3d and
AvgPool1d/2d/3d, Keras MaxPooling1D/2D/3D and AveragePooling1D/2D/3D). Output size as a convolution's
(geometry.windows) with PyTorch's ceil_mode and its padding limit (at most half the kernel); a max
window costs K − 1 comparisons per output, an average window K − 1 additions and one division."""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import LayerError, Unsupported
from .base import NOT_COUNTED, Layer, ReceptiveStep, Result, Tensor, need_spatial
from .conv import keras_pad
from .count import minus, times, volume
from .geometry import DIM_NAMES, windows
from .mapping import Arg, Call, Site, pos, sequence, size, symmetric, torch_pad
from .params import Param

WINDOW = {
    "kernel": Param("size", aliases=("kernel_size", "pool_size"), doc="window size"),
    "stride": Param("size", None, aliases=("strides",), doc="step; defaults to the kernel"),
    "padding": Param("padding", 0, doc="int, one per dim, sides, a [begin, end] pair per dim, 'same' or 'valid'"),
    "ceil_mode": Param("bool", False, doc="PyTorch ceil_mode: round the output size up"),
}

CONSTANT_PADDING_KERAS = '''class ConstantPadding2D(keras.layers.Layer):
    """Pads 1 to 3 spatial dims with `value` (-inf: max pooling ignores it, as in PyTorch)."""

    def __init__(self, padding, value=0.0, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.padding, self.value, self.data_format = tuple(map(tuple, padding)), value, data_format

    def _pads(self):
        none = [(0, 0)]
        return none * 2 + list(self.padding) if self.data_format == "channels_first" else (
            none + list(self.padding) + none)

    def call(self, x):
        return ops.pad(x, self._pads(), constant_values=self.value)

    def compute_output_shape(self, input_shape):
        pads = self._pads()
        return tuple(None if d is None else d + sum(pads[i]) for i, d in enumerate(input_shape))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "value": self.value,
                "data_format": self.data_format}
'''
# tools that count no operation of a max pooling (measured: tests/test_conventions_oracle.py and
# tests/test_convpool_conventions.py); ptflops and calflops count the input elements
MAX_NOT_COUNTED = {tool: NOT_COUNTED for tool in ("fvcore", "thop", "torchinfo")}
AVG_NOT_COUNTED = {tool: NOT_COUNTED for tool in ("fvcore", "torchinfo")}  # thop counts one per output


def pool(name: str, nd: int, values: dict[str, Any], x: Tensor, kind: str) -> Result:
    sizes = need_spatial(x, nd, name)
    stride = values["stride"] or values["kernel"]
    dilation = values.get("dilation", (1,) * nd)
    if values["ceil_mode"] and values["padding"] == "same":
        raise LayerError("ceil_mode does not combine with padding 'same'", "invalid-value", key="ceil_mode")
    if kind == "avg" and nd == 3 and values["padding"] != "same":
        for dim, n, k in zip(DIM_NAMES[3], sizes, values["kernel"], strict=True):
            if n < k:  # avg_pool3d's own check, before any padding
                raise LayerError(f"kernel {k} is larger than the input {n} along {dim} (PyTorch's AvgPool3d refuses "
                                 "this even with padding); use a smaller kernel", "kernel-too-large", key="kernel")
    dims, warnings = windows(sizes, values["kernel"], stride, dilation, values["padding"], values["ceil_mode"], pooling=True)
    out = Tensor(x.c, tuple(d.out for d in dims))
    outputs = volume(*out.spatial, out.c, label="outputs")
    per_window = minus(volume(*values["kernel"]), 1)
    if kind == "max":
        ops = {"cmp": times(outputs, per_window)}
    else:
        ops = {"add": times(outputs, per_window), "div": outputs}
    return Result(out, ops=ops, windows=dims, warnings=warnings,
                  rf=ReceptiveStep(tuple(d.k_eff for d in dims), stride, tuple(d.pad_begin for d in dims)))


def _torch(site: Site, is_max: bool) -> Call:
    values = site.values
    nd = len(site.x.spatial)
    kernel, stride = values["kernel"], values["stride"] or values["kernel"]
    pads = site.padding(stride)
    pre = None
    if is_max:
        extra = [Arg("dilation", size(values["dilation"]), 1)]
    elif values["padding"] == "same":  # TensorFlow's SAME average ignores the padding
        extra = [Arg("count_include_pad", False)]
    else:
        extra = [Arg("count_include_pad", values["count_include_pad"], True)]
    fits = all(b <= (k // 2) for (b, _), k in zip(pads, kernel, strict=True))
    if not symmetric(pads) or not fits:
        if not is_max and (values["padding"] == "same" or not values["count_include_pad"]):
            raise Unsupported(f"avg_pool{nd}d with asymmetric padding {pads} that is left out of the average "
                              f"cannot be expressed in PyTorch (AvgPool{nd}d pads symmetrically)")
        # max pooling never picks the padding: pad with -inf; average pooling counts it: pad with 0
        pre, pads = torch_pad(pads, float("-inf") if is_max else 0.0), [(0, 0)] * nd
    func = f"nn.MaxPool{nd}d" if is_max else f"nn.AvgPool{nd}d"
    return sequence(pre, Call(func, [Arg("kernel_size", size(kernel)), Arg("stride", size(stride)),
                                     Arg("padding", size(b for b, _ in pads), 0), *extra,
                                     Arg("ceil_mode", values["ceil_mode"], False)]))


def _keras(site: Site, is_max: bool) -> list[tuple[str, Call]]:
    values, x = site.values, site.x
    nd = len(x.spatial)
    kernel, stride = values["kernel"], values["stride"] or values["kernel"]
    if is_max and max(values["dilation"]) > 1:
        raise Unsupported(f"dilation on max_pool{nd}d (Keras pooling has no dilation)")
    func = f"layers.MaxPooling{nd}D" if is_max else f"layers.AveragePooling{nd}D"
    common = [pos("pool_size", size(kernel)), Arg("strides", size(stride))]
    if values["padding"] == "same":
        return [("", Call(func, [*common, Arg("padding", "same"), *site.data_format()]))]
    pads = []
    for (b, e), i, k, s, o in zip(values["padding"], x.spatial, kernel, stride, site.output.spatial, strict=True):
        extra = max(0, (o - 1) * s + k - (i + b + e))  # ceil_mode's last, partial window
        pads.append((b, e + extra))
    out: list[tuple[str, Call]] = []
    if pads != list(values["padding"]) and not is_max:
        raise Unsupported(f"ceil_mode on avg_pool{nd}d (Keras has no ceil_mode, and padding would change the "
                          "averages)")
    if any(b or e for b, e in pads):
        if is_max:  # PyTorch's max pooling never picks the padding: pad with -inf
            out.append(("pad", Call("ConstantPadding2D", [pos("padding", tuple(pads)), Arg("value", float("-inf")),
                                                          *site.data_format()])))
        elif values["count_include_pad"]:
            out.append(keras_pad(site, pads))
        else:
            raise Unsupported(f"avg_pool{nd}d padding with count_include_pad: false (Keras pads only with SAME)")
    return out + [("", Call(func, [*common, *site.data_format()]))]


class MaxPool2d(Layer):
    group = "pooling"
    name = "max_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("maxpool", "max_pool", "maxpool2d", "MaxPool2d", "MaxPooling2D", "MaxPool2D",
                                          "max_pooling2d")
    prefix = "pool"
    family = "max_pool"
    doc = "max pooling (Keras MaxPooling2D, torch.nn.MaxPool2d)"
    params = {**WINDOW, "dilation": Param("size", 1, doc="PyTorch's dilation (Keras has none)")}
    keras_helpers = {"ConstantPadding2D": CONSTANT_PADDING_KERAS}
    counting = MAX_NOT_COUNTED

    @classmethod
    def rule(cls, values, inputs, layout):
        return pool(cls.name, cls.ndim, values, inputs[0], "max")

    @classmethod
    def torch(cls, site):
        return _torch(site, True)

    @classmethod
    def keras(cls, site):
        return _keras(site, True)


class MaxPool1d(MaxPool2d):
    name = "max_pool1d"
    aliases = ("maxpool1d", "MaxPool1d", "MaxPooling1D", "MaxPool1D", "max_pooling1d")
    doc = "1-D max pooling (Keras MaxPooling1D, torch.nn.MaxPool1d)"
    ndim = 1


class MaxPool3d(MaxPool2d):
    name = "max_pool3d"
    aliases = ("maxpool3d", "MaxPool3d", "MaxPooling3D", "MaxPool3D", "max_pooling3d")
    doc = "3-D max pooling (Keras MaxPooling3D, torch.nn.MaxPool3d)"
    ndim = 3


class AvgPool2d(Layer):
    group = "pooling"
    name = "avg_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("avgpool", "avg_pool", "avgpool2d", "AvgPool2d", "AveragePooling2D",
                                          "AvgPool2D", "average_pooling2d")
    prefix = "pool"
    family = "avg_pool"
    doc = "average pooling (Keras AveragePooling2D, torch.nn.AvgPool2d)"
    params = {**WINDOW, "count_include_pad": Param("bool", True, doc="divide by the full window (no shape effect)")}
    counting = AVG_NOT_COUNTED

    @classmethod
    def rule(cls, values, inputs, layout):
        return pool(cls.name, cls.ndim, values, inputs[0], "avg")

    @classmethod
    def torch(cls, site):
        return _torch(site, False)

    @classmethod
    def keras(cls, site):
        return _keras(site, False)


class AvgPool1d(AvgPool2d):
    name = "avg_pool1d"
    aliases = ("avgpool1d", "AvgPool1d", "AveragePooling1D", "AvgPool1D", "average_pooling1d")
    doc = "1-D average pooling (Keras AveragePooling1D, torch.nn.AvgPool1d)"
    ndim = 1


class AvgPool3d(AvgPool2d):
    name = "avg_pool3d"
    aliases = ("avgpool3d", "AvgPool3d", "AveragePooling3D", "AvgPool3D", "average_pooling3d")
    doc = "3-D average pooling (Keras AveragePooling3D, torch.nn.AvgPool3d)"
    ndim = 3


LAYERS = [MaxPool2d, AvgPool2d, MaxPool1d, MaxPool3d, AvgPool1d, AvgPool3d]
