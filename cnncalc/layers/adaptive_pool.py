"""Adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).

Output cell i of a dim of size I pooled to O reads rows [⌊i·I/O⌋, ⌈(i+1)·I/O⌉): windows of uneven
size when O does not divide I. Each output costs (window − 1) additions and one division.
"""

from __future__ import annotations

from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import count, minus, times, volume
from .mapping import Arg, Call, pos, size
from .params import Param


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
    aliases = ("adaptive_avgpool",)
    prefix = "pool"
    family = "adaptive_avg_pool"
    doc = "adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d)"
    params = {"output_size": Param("size", doc="output height and width")}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, 2, cls.name)
        oh, ow = values["output_size"]
        out = Tensor(x.c, (oh, ow))
        # every output reads its window: the window sizes summed over one channel's outputs
        cells = volume(adaptive_cells(sizes[0], oh), adaptive_cells(sizes[1], ow), label="window cells")
        outputs = volume(oh, ow, label="outputs")
        ops = {"add": times(count(x.c, "channels"), minus(cells, outputs)), "div": volume(oh, ow, x.c)}
        if oh == 1 and ow == 1:
            rf = ReceptiveStep.whole()
        elif sizes[0] % oh == 0 and sizes[1] % ow == 0:
            kh, kw = sizes[0] // oh, sizes[1] // ow
            rf = ReceptiveStep((kh, kw), (kh, kw), (0, 0))
        else:
            rf = ReceptiveStep.unknown()  # uneven windows have no single (kernel, stride)
        return Result(out, ops=ops, rf=rf)

    @classmethod
    def torch(cls, site):
        return Call("nn.AdaptiveAvgPool2d", [pos("output_size", size(site.values["output_size"]))])

    @classmethod
    def keras(cls, site):
        (h, w), (oh, ow) = site.x.spatial, site.values["output_size"]
        if (oh, ow) == (1, 1):
            return [("", Call("layers.GlobalAveragePooling2D", [Arg("keepdims", True), *site.data_format()]))]
        if h % oh == 0 and w % ow == 0:
            return [("", Call("layers.AveragePooling2D", [pos("pool_size", size((h // oh, w // ow))),
                                                          *site.data_format()]))]
        return [("", Call("layers.AdaptiveAveragePooling2D", [pos("output_size", size((oh, ow))),
                                                              *site.data_format()]))]


LAYERS = [AdaptiveAvgPool2d]
