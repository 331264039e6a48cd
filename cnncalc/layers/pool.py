"""Windowed pooling: max_pool2d and avg_pool2d (PyTorch MaxPool2d/AvgPool2d, Keras MaxPooling2D/
AveragePooling2D). Output size as a convolution's (geometry.windows) with PyTorch's ceil_mode and its
padding limit (at most half the kernel); a max window costs K − 1 comparisons per output, an average
window K − 1 additions and one division."""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, Unsupported
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .conv import keras_pad
from .count import minus, times, volume
from .geometry import windows
from .mapping import Arg, Call, Site, pos, sequence, size, symmetric, torch_pad
from .params import Param

WINDOW = {
    "kernel": Param("size", aliases=("kernel_size", "pool_size"), doc="window size"),
    "stride": Param("size", None, aliases=("strides",), doc="step; defaults to the kernel"),
    "padding": Param("padding", 0, doc="int, pair, sides, 'same' or 'valid'"),
    "ceil_mode": Param("bool", False, doc="PyTorch ceil_mode: round the output size up"),
}

CONSTANT_PADDING_KERAS = '''class ConstantPadding2D(keras.layers.Layer):
    """Pads height and width with `value` (-inf: max pooling ignores the padding, as in PyTorch)."""

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


def pool(name: str, values: dict[str, Any], x: Tensor, kind: str) -> Result:
    sizes = need_spatial(x, 2, name)
    stride = values["stride"] or values["kernel"]
    dilation = values.get("dilation", (1, 1))
    if values["ceil_mode"] and values["padding"] == "same":
        raise LayerError("ceil_mode does not combine with padding 'same'", "invalid-value", key="ceil_mode")
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
            raise Unsupported(f"avg_pool2d with asymmetric padding {pads} that is left out of the average "
                              "cannot be expressed in PyTorch (AvgPool2d pads symmetrically)")
        # max pooling never picks the padding: pad with -inf; average pooling counts it: pad with 0
        pre, pads = torch_pad(pads, float("-inf") if is_max else 0.0), [(0, 0)] * 2
    func = "nn.MaxPool2d" if is_max else "nn.AvgPool2d"
    return sequence(pre, Call(func, [Arg("kernel_size", size(kernel)), Arg("stride", size(stride)),
                                     Arg("padding", size(b for b, _ in pads), 0), *extra,
                                     Arg("ceil_mode", values["ceil_mode"], False)]))


def _keras(site: Site, is_max: bool) -> list[tuple[str, Call]]:
    values, x = site.values, site.x
    kernel, stride = values["kernel"], values["stride"] or values["kernel"]
    if is_max and max(values["dilation"]) > 1:
        raise Unsupported("dilation on max_pool2d (Keras pooling has no dilation)")
    func = "layers.MaxPooling2D" if is_max else "layers.AveragePooling2D"
    common = [pos("pool_size", size(kernel)), Arg("strides", size(stride))]
    if values["padding"] == "same":
        return [("", Call(func, [*common, Arg("padding", "same"), *site.data_format()]))]
    pads = []
    for (b, e), i, k, s, o in zip(values["padding"], x.spatial, kernel, stride, site.output.spatial, strict=True):
        extra = max(0, (o - 1) * s + k - (i + b + e))  # ceil_mode's last, partial window
        pads.append((b, e + extra))
    out: list[tuple[str, Call]] = []
    if pads != list(values["padding"]) and not is_max:
        raise Unsupported("ceil_mode on avg_pool2d (Keras has no ceil_mode, and padding would change the averages)")
    if any(b or e for b, e in pads):
        if is_max:  # PyTorch's max pooling never picks the padding: pad with -inf
            out.append(("pad", Call("ConstantPadding2D", [pos("padding", tuple(pads)), Arg("value", float("-inf")),
                                                          *site.data_format()])))
        elif values["count_include_pad"]:
            out.append(keras_pad(site, pads))
        else:
            raise Unsupported("avg_pool2d padding with count_include_pad: false (Keras pads only with SAME)")
    return out + [("", Call(func, [*common, *site.data_format()]))]


class MaxPool2d(Layer):
    group = "pooling"
    name = "max_pool2d"
    aliases = ("maxpool", "max_pool", "maxpool2d")
    prefix = "pool"
    family = "max_pool"
    doc = "max pooling (Keras MaxPooling2D, torch.nn.MaxPool2d)"
    params = {**WINDOW, "dilation": Param("size", 1, doc="PyTorch MaxPool2d dilation")}
    keras_helpers = {"ConstantPadding2D": CONSTANT_PADDING_KERAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        return pool(cls.name, values, inputs[0], "max")

    @classmethod
    def torch(cls, site):
        return _torch(site, True)

    @classmethod
    def keras(cls, site):
        return _keras(site, True)


class AvgPool2d(Layer):
    group = "pooling"
    name = "avg_pool2d"
    aliases = ("avgpool", "avg_pool", "avgpool2d")
    prefix = "pool"
    family = "avg_pool"
    doc = "average pooling (Keras AveragePooling2D, torch.nn.AvgPool2d)"
    params = {**WINDOW, "count_include_pad": Param("bool", True, doc="divide by the full window (no shape effect)")}

    @classmethod
    def rule(cls, values, inputs, layout):
        return pool(cls.name, values, inputs[0], "avg")

    @classmethod
    def torch(cls, site):
        return _torch(site, False)

    @classmethod
    def keras(cls, site):
        return _keras(site, False)


LAYERS = [MaxPool2d, AvgPool2d]
