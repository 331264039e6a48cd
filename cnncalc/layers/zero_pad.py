"""Zero padding (Keras ZeroPadding2D, torch.nn.ZeroPad2d): each side grows by its padding."""

from __future__ import annotations

from ..errors import LayerError
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .mapping import Call, pos, torch_pad
from .params import Param


class ZeroPad2d(Layer):
    group = "dense and reshaping"
    name = "zero_pad2d"
    aliases = ("zero_padding2d", "pad2d")
    prefix = "pad"
    doc = ("zero padding (Keras ZeroPadding2D, torch.nn.ZeroPad2d; four sides are in the spec's order, top "
           "bottom left right, not ZeroPad2d's left right top bottom)")
    params = {"padding": Param("padding", doc="int, [ph, pw], [top, bottom, left, right] or "
                                              "[[top, bottom], [left, right]]")}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        h, w = need_spatial(x, 2, cls.name)
        if values["padding"] == "same":
            raise LayerError("zero_pad2d takes explicit padding, not 'same'", "invalid-value", key="padding")
        (t, b), (left, r) = values["padding"]
        return Result(Tensor(x.c, (h + t + b, w + left + r)), rf=ReceptiveStep((1, 1), (1, 1), (t, left)))

    @classmethod
    def torch(cls, site):
        return torch_pad(list(site.values["padding"]))

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.ZeroPadding2D", [pos("padding", tuple(site.values["padding"])), *site.data_format()]))]


LAYERS = [ZeroPad2d]
