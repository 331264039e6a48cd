"""Global pooling: each channel reduced over every position (Keras GlobalAveragePooling2D /
GlobalMaxPooling2D; PyTorch AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1), then a flatten unless
`keepdims`)."""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError
from .base import Layer, ReceptiveStep, Result, Tensor
from .count import count, minus, times, volume
from .mapping import Arg, Call, pos, sequence
from .params import Param


class GlobalAvgPool2d(Layer):
    group = "pooling"
    name = "global_avg_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("global_avg_pool", "gap", "global_average_pooling2d")
    prefix = "gpool"
    family = "adaptive_avg_pool"  # the frameworks run it as AdaptiveAvgPool2d(1)
    doc = "global average pooling (Keras GlobalAveragePooling2D; torch AdaptiveAvgPool2d(1) + flatten)"
    params = {"keepdims": Param("bool", False, doc="keep 1x1 spatial dims")}
    reduce = "avg"
    torch_class, keras_class = "nn.AdaptiveAvgPool2d", "layers.GlobalAveragePooling2D"

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if x.flat:
            raise LayerError(f"{cls.name} needs a spatial input, got a flat vector of {x.c}", "shape-mismatch")
        out = Tensor(x.c, tuple(1 for _ in x.spatial)) if values["keepdims"] else Tensor(x.c)
        channels = count(x.c, "channels")
        per_channel = minus(volume(*x.spatial), 1)
        if cls.reduce == "max":
            ops = {"cmp": times(channels, per_channel)}
        else:
            ops = {"add": times(channels, per_channel), "div": channels}
        return Result(out, ops=ops, rf=ReceptiveStep.whole())

    @classmethod
    def torch(cls, site):
        pooled = Call(cls.torch_class, [pos("size", 1)])
        return pooled if site.values["keepdims"] else sequence(pooled, Call("nn.Flatten"))

    @classmethod
    def keras(cls, site):
        return [("", Call(cls.keras_class, [Arg("keepdims", site.values["keepdims"], False), *site.data_format()]))]


class GlobalMaxPool2d(GlobalAvgPool2d):
    name = "global_max_pool2d"
    aliases = ("global_max_pool", "global_max_pooling2d")
    family = "adaptive_max_pool"
    doc = "global max pooling (Keras GlobalMaxPooling2D; torch AdaptiveMaxPool2d(1) + flatten)"
    reduce = "max"
    torch_class, keras_class = "nn.AdaptiveMaxPool2d", "layers.GlobalMaxPooling2D"


LAYERS = [GlobalAvgPool2d, GlobalMaxPool2d]
