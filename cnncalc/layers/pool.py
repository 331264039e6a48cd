"""Pooling: windowed max/avg, global and adaptive pooling."""

from __future__ import annotations

import math

from ..errors import LayerError
from .base import RF, LayerType, Out, Param, Tensor, fmt, need_spatial
from .geometry import grid, windows

_WINDOW = {
    "kernel": Param("size", aliases=("kernel_size", "pool_size"), doc="window size"),
    "stride": Param("size", None, aliases=("strides",), doc="step; defaults to the kernel"),
    "padding": Param("padding", 0, doc="int, pair, sides, 'same' or 'valid'"),
    "ceil_mode": Param("bool", False, doc="PyTorch ceil_mode: round the output size up"),
}


def _window(cls: type[LayerType], p: dict, x: Tensor, op: str, explain: bool) -> Out:
    sizes = need_spatial(x, 2, cls.name)
    stride = p["stride"] or p["kernel"]
    dilation = p.get("dilation", (1, 1))
    if p["ceil_mode"] and p["padding"] == "same":
        raise LayerError("ceil_mode does not combine with padding 'same'", "invalid-value", key="ceil_mode")
    if explain:
        dims, warnings = windows(sizes, p["kernel"], stride, dilation, p["padding"], p["ceil_mode"], pooling=True)
        spatial, begins = tuple([d.out for d in dims]), tuple([d.pad_begin for d in dims])
    else:
        spatial, begins, warnings = grid(sizes, p["kernel"], stride, dilation, p["padding"], p["ceil_mode"], True)
    out = Tensor(x.c, spatial)
    window = math.prod(p["kernel"])
    if op == "max":
        ops = {"cmp": out.numel * (window - 1)}
    else:
        ops = {"add": out.numel * (window - 1), "div": out.numel}
    lines = []
    if explain:
        lines = [line for d in dims for line in d.explain]
        lines.append("params = 0 (pooling has no weights)")
        cells, taps = "·".join(map(str, (*out.spatial, out.c))), "·".join(map(str, p["kernel"]))
        if op == "max":
            lines.append(f"comparisons = {cells} outputs · ({taps} − 1) = {fmt(ops['cmp'])}")
        else:
            lines.append(f"adds = {cells} outputs · ({taps} − 1) = {fmt(ops['add'])}, "
                         f"divides = {fmt(ops['div'])}")
    return Out(out, ops=ops, warnings=warnings, explain=lines,
               rf=RF(tuple(dl * (k - 1) + 1 for dl, k in zip(dilation, p["kernel"], strict=True)), stride,
                     begins))


class MaxPool2d(LayerType):
    name = "max_pool2d"
    aliases = ("maxpool", "max_pool", "maxpool2d")
    prefix = "pool"
    doc = "max pooling (Keras MaxPooling2D, torch.nn.MaxPool2d)"
    params = {**_WINDOW, "dilation": Param("size", 1, doc="PyTorch MaxPool2d dilation")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        return _window(cls, p, inputs[0], "max", explain)


class AvgPool2d(LayerType):
    name = "avg_pool2d"
    aliases = ("avgpool", "avg_pool", "avgpool2d")
    prefix = "pool"
    doc = "average pooling (Keras AveragePooling2D, torch.nn.AvgPool2d)"
    params = {**_WINDOW, "count_include_pad": Param("bool", True, doc="divide by the full window (no shape effect)")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        return _window(cls, p, inputs[0], "avg", explain)


class _Global(LayerType):
    prefix = "gpool"
    params = {"keepdims": Param("bool", False, doc="keep 1x1 spatial dims")}
    op = "avg"

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        if x.flat:
            raise LayerError(f"{cls.name} needs a spatial input, got a flat vector of {x.c}", "shape-mismatch")
        out = Tensor(x.c, tuple(1 for _ in x.spatial)) if p["keepdims"] else Tensor(x.c)
        n = math.prod(x.spatial)
        ops = {"cmp": x.c * (n - 1)} if cls.op == "max" else {"add": x.c * (n - 1), "div": x.c}
        return Out(out, ops=ops, explain=[f"each of {x.c} channels reduced over {fmt(n)} positions"] if explain else None,
                   rf=RF.whole())


class GlobalAvgPool2d(_Global):
    name = "global_avg_pool2d"
    aliases = ("global_avg_pool", "gap", "global_average_pooling2d")
    doc = "global average pooling (Keras GlobalAveragePooling2D; torch AdaptiveAvgPool2d(1) + flatten)"


class GlobalMaxPool2d(_Global):
    name = "global_max_pool2d"
    aliases = ("global_max_pool", "global_max_pooling2d")
    doc = "global max pooling (Keras GlobalMaxPooling2D)"
    op = "max"


def _adaptive_bins(size: int, out: int) -> list[int]:
    """PyTorch's adaptive windows: [floor(i·I/O), ceil((i+1)·I/O))."""
    return [-(-((i + 1) * size) // out) - (i * size) // out for i in range(out)]


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """Σ_{i<n} floor((a·i + b)/m) for a, b ≥ 0 in O(log) steps (the classic floor-sum recursion)."""
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


def _adaptive_cells(size: int, out: int) -> int:
    """Σ of the adaptive window sizes, = sum(_adaptive_bins(size, out)) without building the list
    (output_size may be up to MAX_DIM)."""
    return _floor_sum(out, out, size, size + out - 1) - _floor_sum(out, out, size, 0)


class AdaptiveAvgPool2d(LayerType):
    name = "adaptive_avg_pool2d"
    aliases = ("adaptive_avgpool",)
    prefix = "pool"
    doc = "adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d)"
    params = {"output_size": Param("size", doc="output height and width")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        sizes = need_spatial(x, 2, cls.name)
        oh, ow = p["output_size"]
        cells = _adaptive_cells(sizes[0], oh) * _adaptive_cells(sizes[1], ow)  # summed window sizes, one channel
        out = Tensor(x.c, (oh, ow))
        ops = {"add": x.c * (cells - oh * ow), "div": out.numel}
        if oh == 1 and ow == 1:
            rf = RF.whole()
        elif sizes[0] % oh == 0 and sizes[1] % ow == 0:
            kh, kw = sizes[0] // oh, sizes[1] // ow
            rf = RF((kh, kw), (kh, kw), (0, 0))
        else:
            rf = RF.unknown()  # uneven windows have no single (kernel, stride)
        lines = []
        if explain:
            if oh <= 16 and ow <= 16:
                bins = f"windows of {_adaptive_bins(sizes[0], oh)} rows x {_adaptive_bins(sizes[1], ow)} columns"
            else:
                bins = f"{fmt(cells)} window cells in all"
            lines.append(f"output {oh}x{ow} per channel; {bins}")
        return Out(out, ops=ops, rf=rf, explain=lines)


LAYERS = [MaxPool2d, AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d, AdaptiveAvgPool2d]
