"""Adaptive pooling to a fixed output size in 1-D, 2-D and 3-D (torch.nn.AdaptiveAvgPool1d/2d/3d and
AdaptiveMaxPool1d/2d/3d, Keras AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D).

Output cell i of a dim of size I pooled to O reads rows [⌊i·I/O⌋, ⌈(i+1)·I/O⌉): windows of uneven
size when O does not divide I. Each output of an average costs (window − 1) additions and one
division; of a maximum, (window − 1) comparisons.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .base import NOT_COUNTED, Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import count, minus, times, volume
from .mapping import Arg, Call, pos, size
from .params import Param

# fvcore counts aten::adaptive_avg_pool2d only; thop counts the average, not the maximum
# (measured: tests/test_conventions_oracle.py and tests/test_convpool_conventions.py)
AVG_NOT_COUNTED = {"torchinfo": NOT_COUNTED}
AVG_NOT_COUNTED_1D_3D = {tool: NOT_COUNTED for tool in ("torchinfo", "fvcore")}
MAX_NOT_COUNTED = {tool: NOT_COUNTED for tool in ("torchinfo", "fvcore", "thop")}


def adaptive_bins(size: int, out: int) -> list[int]:
    """PyTorch's adaptive window sizes along one dim: [⌊i·I/O⌋, ⌈(i+1)·I/O⌉)."""
    return [-(-((i + 1) * size) // out) - (i * size) // out for i in range(out)]


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """Σ_{i<n} ⌊(a·i + b)/m⌋ for a, b ≥ 0 in O(log) steps (the classic floor-sum recursion)."""
    total = 0
    while n:
        if a >= m:
            total += (n - 1) * n // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            break
        n, b, m, a = y_max // m, y_max % m, a, m
    return total


def adaptive_cells(size: int, out: int) -> int:
    """The sum of the adaptive window sizes along one dim, = sum(adaptive_bins(size, out)) without
    building the list (an output size may be up to 2**24)."""
    return _floor_sum(out, out, size, size + out - 1) - _floor_sum(out, out, size, 0)


class AdaptiveAvgPool2d(Layer):
    group = "pooling"
    name = "adaptive_avg_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("adaptive_avgpool", "AdaptiveAvgPool2d", "AdaptiveAveragePooling2D")
    prefix = "pool"
    family = "adaptive_avg_pool"
    doc = "adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d, Keras AdaptiveAveragePooling2D)"
    params = {"output_size": Param("size", doc="output size along each spatial dim")}
    counting: ClassVar[dict[str, Any]] = AVG_NOT_COUNTED
    reduce = "avg"
    torch_class, keras_class = "nn.AdaptiveAvgPool{}d", "layers.AdaptiveAveragePooling{}D"
    keras_window, keras_global = "layers.AveragePooling{}D", "layers.GlobalAveragePooling{}D"

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, cls.ndim, cls.name)
        outs = values["output_size"]
        out = Tensor(x.c, outs)
        # every output reads its window: the window sizes summed over one channel's outputs
        cells = volume(*(adaptive_cells(n, o) for n, o in zip(sizes, outs, strict=True)), label="window cells")
        outputs = volume(*outs, label="outputs")
        per_window = times(count(x.c, "channels"), minus(cells, outputs))
        ops = {"cmp": per_window} if cls.reduce == "max" else {"add": per_window, "div": volume(*outs, x.c)}
        if math.prod(outs) == 1:
            rf = ReceptiveStep.whole()
        elif all(n % o == 0 for n, o in zip(sizes, outs, strict=True)):
            kernel = tuple(n // o for n, o in zip(sizes, outs, strict=True))
            rf = ReceptiveStep(kernel, kernel, (0,) * cls.ndim)
        else:
            rf = ReceptiveStep.unknown()  # uneven windows have no single (kernel, stride)
        return Result(out, ops=ops, rf=rf)

    @classmethod
    def torch(cls, site):
        return Call(cls.torch_class.format(cls.ndim), [pos("output_size", size(site.values["output_size"]))])

    @classmethod
    def keras(cls, site):
        sizes, outs, nd = site.x.spatial, site.values["output_size"], cls.ndim
        if math.prod(outs) == 1:
            return [("", Call(cls.keras_global.format(nd), [Arg("keepdims", True), *site.data_format()]))]
        if all(n % o == 0 for n, o in zip(sizes, outs, strict=True)):
            window = size(n // o for n, o in zip(sizes, outs, strict=True))
            return [("", Call(cls.keras_window.format(nd), [pos("pool_size", window), *site.data_format()]))]
        return [("", Call(cls.keras_class.format(nd), [pos("output_size", size(outs)), *site.data_format()]))]


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    name = "adaptive_avg_pool1d"
    aliases = ("AdaptiveAvgPool1d", "AdaptiveAveragePooling1D")
    doc = "adaptive average pooling to a fixed length (torch.nn.AdaptiveAvgPool1d, Keras AdaptiveAveragePooling1D)"
    counting = AVG_NOT_COUNTED_1D_3D
    ndim = 1


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    name = "adaptive_avg_pool3d"
    aliases = ("AdaptiveAvgPool3d", "AdaptiveAveragePooling3D")
    doc = "adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool3d, Keras AdaptiveAveragePooling3D)"
    counting = AVG_NOT_COUNTED_1D_3D
    ndim = 3


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    name = "adaptive_max_pool2d"
    aliases: ClassVar[tuple[str, ...]] = ("adaptive_maxpool", "AdaptiveMaxPool2d", "AdaptiveMaxPooling2D")
    family = "adaptive_max_pool"
    doc = "adaptive max pooling to a fixed output size (torch.nn.AdaptiveMaxPool2d, Keras AdaptiveMaxPooling2D)"
    counting = MAX_NOT_COUNTED
    reduce = "max"
    torch_class, keras_class = "nn.AdaptiveMaxPool{}d", "layers.AdaptiveMaxPooling{}D"
    keras_window, keras_global = "layers.MaxPooling{}D", "layers.GlobalMaxPooling{}D"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    name = "adaptive_max_pool1d"
    aliases = ("AdaptiveMaxPool1d", "AdaptiveMaxPooling1D")
    doc = "adaptive max pooling to a fixed length (torch.nn.AdaptiveMaxPool1d, Keras AdaptiveMaxPooling1D)"
    ndim = 1


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    name = "adaptive_max_pool3d"
    aliases = ("AdaptiveMaxPool3d", "AdaptiveMaxPooling3D")
    doc = "adaptive max pooling to a fixed output size (torch.nn.AdaptiveMaxPool3d, Keras AdaptiveMaxPooling3D)"
    ndim = 3


LAYERS = [AdaptiveAvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
          AdaptiveMaxPool3d]
