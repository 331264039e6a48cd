"""Global pooling in 1-D, 2-D and 3-D: each channel reduced over every position (Keras
GlobalAveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D; PyTorch AdaptiveAvgPool/AdaptiveMaxPool
1d/2d/3d of size 1, then a flatten unless `keepdims`)."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import NOT_COUNTED, Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import count, minus, times, volume
from .mapping import Arg, Call, pos, sequence
from .params import Param

# fvcore counts aten::adaptive_avg_pool2d only; thop counts the average, not the maximum
# (measured: tests/test_conventions_oracle.py and tests/test_convpool_conventions.py)
AVG_NOT_COUNTED = {"torchinfo": NOT_COUNTED}
AVG_NOT_COUNTED_1D_3D = {tool: NOT_COUNTED for tool in ("torchinfo", "fvcore")}
MAX_NOT_COUNTED = {tool: NOT_COUNTED for tool in ("torchinfo", "fvcore", "thop")}


class GlobalAvgPool2d(Layer):
    group = "pooling"
    name = "global_avg_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("global_avg_pool", "gap", "global_average_pooling2d", "GlobalAveragePooling2D",
                                          "GlobalAvgPool2D")
    prefix = "gpool"
    family = "adaptive_avg_pool"  # the frameworks run it as AdaptiveAvgPool2d(1)
    doc = "global average pooling (Keras GlobalAveragePooling2D; torch AdaptiveAvgPool2d(1) + flatten)"
    params = {"keepdims": Param("bool", False, doc="keep the spatial dims, of size 1")}
    counting: ClassVar[dict[str, Any]] = AVG_NOT_COUNTED
    reduce = "avg"
    torch_class, keras_class = "nn.AdaptiveAvgPool{}d", "layers.GlobalAveragePooling{}D"

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, cls.ndim, cls.name)
        out = Tensor(x.c, tuple(1 for _ in sizes)) if values["keepdims"] else Tensor(x.c)
        channels = count(x.c, "channels")
        per_channel = minus(volume(*sizes), 1)
        if cls.reduce == "max":
            ops = {"cmp": times(channels, per_channel)}
        else:
            ops = {"add": times(channels, per_channel), "div": channels}
        return Result(out, ops=ops, rf=ReceptiveStep.whole())

    @classmethod
    def torch(cls, site):
        pooled = Call(cls.torch_class.format(cls.ndim), [pos("size", 1)])
        return pooled if site.values["keepdims"] else sequence(pooled, Call("nn.Flatten"))

    @classmethod
    def keras(cls, site):
        return [("", Call(cls.keras_class.format(cls.ndim), [Arg("keepdims", site.values["keepdims"], False),
                                                             *site.data_format()]))]


class GlobalAvgPool1d(GlobalAvgPool2d):
    name = "global_avg_pool1d"
    aliases = ("global_average_pooling1d", "GlobalAveragePooling1D", "GlobalAvgPool1D")
    doc = "global average pooling over a sequence (Keras GlobalAveragePooling1D; torch AdaptiveAvgPool1d(1) + flatten)"
    counting = AVG_NOT_COUNTED_1D_3D
    ndim = 1


class GlobalAvgPool3d(GlobalAvgPool2d):
    name = "global_avg_pool3d"
    aliases = ("global_average_pooling3d", "GlobalAveragePooling3D", "GlobalAvgPool3D")
    doc = "global average pooling over a volume (Keras GlobalAveragePooling3D; torch AdaptiveAvgPool3d(1) + flatten)"
    counting = AVG_NOT_COUNTED_1D_3D
    ndim = 3


class GlobalMaxPool2d(GlobalAvgPool2d):
    name = "global_max_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("global_max_pool", "global_max_pooling2d", "GlobalMaxPooling2D", "GlobalMaxPool2D")
    family = "adaptive_max_pool"
    doc = "global max pooling (Keras GlobalMaxPooling2D; torch AdaptiveMaxPool2d(1) + flatten)"
    counting = MAX_NOT_COUNTED
    reduce = "max"
    torch_class, keras_class = "nn.AdaptiveMaxPool{}d", "layers.GlobalMaxPooling{}D"


class GlobalMaxPool1d(GlobalMaxPool2d):
    name = "global_max_pool1d"
    aliases = ("global_max_pooling1d", "GlobalMaxPooling1D", "GlobalMaxPool1D")
    doc = "global max pooling over a sequence (Keras GlobalMaxPooling1D; torch AdaptiveMaxPool1d(1) + flatten)"
    ndim = 1


class GlobalMaxPool3d(GlobalMaxPool2d):
    name = "global_max_pool3d"
    aliases = ("global_max_pooling3d", "GlobalMaxPooling3D", "GlobalMaxPool3D")
    doc = "global max pooling over a volume (Keras GlobalMaxPooling3D; torch AdaptiveMaxPool3d(1) + flatten)"
    ndim = 3


LAYERS = [GlobalAvgPool2d, GlobalMaxPool2d, GlobalAvgPool1d, GlobalAvgPool3d, GlobalMaxPool1d, GlobalMaxPool3d]
