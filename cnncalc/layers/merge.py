"""Merges of several branches: add (ResNet), concat (Inception), multiply (SENet)."""

from __future__ import annotations

from ..errors import LayerError
from .base import LayerType, Out, Param, Tensor


def _show(t: Tensor, layout: str) -> str:
    return t.text(layout)


class Add(LayerType):
    name = "add"
    prefix = "add"
    doc = "elementwise sum of inputs of identical shape (ResNet shortcut)"
    min_inputs, max_inputs = 2, None

    @classmethod
    def infer(cls, p, inputs, explain=False):
        first = inputs[0]
        lay = p["__layout__"]
        for t in inputs[1:]:
            if t != first:
                what = "channels" if t.spatial == first.spatial else "shapes"
                raise LayerError(f"add needs inputs of one shape, got {_show(first, lay)} and {_show(t, lay)} "
                                 f"({what} differ); add a 1x1 conv (projection) on the shortcut",
                                 "shape-mismatch", key="inputs")
        return Out(first, ops={"add": first.numel * (len(inputs) - 1)})


class Concat(LayerType):
    name = "concat"
    aliases = ("concatenate",)
    prefix = "concat"
    doc = "concatenation along channels (Inception)"
    min_inputs, max_inputs = 2, None
    params = {"axis": Param("int", None, aliases=("dim",),
                            doc="the channel axis (default): -1 for channels_last, 1 for channels_first")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        lay = p["__layout__"]
        first = inputs[0]
        n = len(first.spatial) + 1
        # the channel axis, counted without or with the batch dimension
        channel_axes = {-1, n - 1, n} if lay == "channels_last" or first.flat else {0, 1, -n}
        if p["axis"] is not None and p["axis"] not in channel_axes:
            raise LayerError(f"concat is supported along the channel axis only ({sorted(channel_axes)} here), "
                             f"got axis {p['axis']}", "invalid-value", key="axis")
        for t in inputs[1:]:
            if t.spatial != first.spatial:
                raise LayerError(f"concat needs the same spatial size on every input, got {_show(first, lay)} "
                                 f"and {_show(t, lay)}; fix the strides or padding of one branch",
                                 "shape-mismatch", key="inputs")
        channels = sum(t.c for t in inputs)
        return Out(Tensor(channels, first.spatial),
                   explain=[f"channels = {' + '.join(str(t.c) for t in inputs)} = {channels}"] if explain else None)


class Multiply(LayerType):
    name = "multiply"
    aliases = ("mul",)
    prefix = "mul"
    doc = "elementwise product; a [C] or 1x1xC input scales a HxWxC one channel-wise (SENet)"
    min_inputs, max_inputs = 2, None

    @classmethod
    def infer(cls, p, inputs, explain=False):
        lay = p["__layout__"]
        big = max(inputs, key=lambda t: t.numel)
        for t in inputs:
            if t == big:
                continue
            scale = t.c == big.c and all(s == 1 for s in t.spatial)
            if not scale:
                raise LayerError(f"multiply needs equal shapes or a per-channel scale, got {_show(big, lay)} and "
                                 f"{_show(t, lay)}", "shape-mismatch", key="inputs")
        return Out(big, ops={"mul": big.numel * (len(inputs) - 1)})


LAYERS = [Add, Concat, Multiply]
