"""Layers that move values without arithmetic: pixel shuffle and unshuffle (depth to space and
back), channel shuffle (ShuffleNet), permute and transpose, and a chunk of the channels.

No weights and no operations; outputs hold the input's values in another order (or a part of them).
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError
from .axes import channel_axes, to_spec, to_torch
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial, not_counted
from .count import count, times
from .mapping import Arg, Call, pos
from .params import Param

TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")  # moving values is not counted by any

PIXEL_SHUFFLE_KERAS = '''class PixelShuffle(keras.layers.Layer):
    """torch.nn.PixelShuffle (or PixelUnshuffle with inverse=True), in torch's channel order:
    channel c·r² + i·r + j holds pixel (i, j) of the r x r block of output channel c."""

    def __init__(self, factor, inverse=False, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.factor, self.inverse, self.data_format = factor, inverse, data_format

    def call(self, x):
        r = self.factor
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        _, h, w, c = x.shape
        if self.inverse:
            x = ops.reshape(x, (-1, h // r, r, w // r, r, c))
            x = ops.reshape(ops.transpose(x, (0, 1, 3, 5, 2, 4)), (-1, h // r, w // r, c * r * r))
        else:
            x = ops.reshape(x, (-1, h, w, c // (r * r), r, r))
            x = ops.reshape(ops.transpose(x, (0, 1, 4, 2, 5, 3)), (-1, h * r, w * r, c // (r * r)))
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 3, 1, 2))
        return x

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "inverse": self.inverse,
                "data_format": self.data_format}
'''

CHANNEL_SHUFFLE_KERAS = '''class ChannelShuffle(keras.layers.Layer):
    """torch.nn.ChannelShuffle: the channels in `groups` groups, then interleaved."""

    def __init__(self, groups, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.groups, self.axis = groups, axis

    def call(self, x):
        x = ops.moveaxis(x, self.axis, -1)
        shape = x.shape
        x = ops.reshape(x, (-1, *shape[1:-1], self.groups, shape[-1] // self.groups))
        x = ops.reshape(ops.swapaxes(x, -1, -2), (-1, *shape[1:]))
        return ops.moveaxis(x, -1, self.axis)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis}
'''

CHANNEL_SHUFFLE_TORCH = '''class ChannelShuffle(nn.Module):
    """The channels in `groups` groups, then interleaved (as torchvision's ShuffleNet; unlike
    nn.ChannelShuffle, this exports to ONNX)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        x = x.reshape(n, self.groups, c // self.groups, *x.shape[2:]).transpose(1, 2)
        return x.reshape(n, c, *x.shape[3:])
'''

PERMUTE_TORCH = '''class Permute(nn.Module):
    """The sample's axes in a new order: x.permute(0, *dims)."""

    def __init__(self, *dims: int):
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, *self.dims)
'''

CHUNK_TORCH = '''class Chunk(nn.Module):
    """One piece of the channels, x.chunk(chunks, dim=1)[index], sliced alone (an ONNX
    export then keeps each piece in the module that takes it)."""

    def __init__(self, chunks: int, index: int):
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = -(-x.shape[1] // self.chunks)  # torch.chunk's: ⌈C/chunks⌉, the last one smaller
        return x[:, self.index * size:(self.index + 1) * size]
'''

CHUNK_KERAS = '''class Chunk(keras.layers.Layer):
    """torch.chunk(x, chunks, dim)[index] along the channel `axis`: pieces of ceil(C / chunks)."""

    def __init__(self, chunks, index, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.chunks, self.index, self.axis = chunks, index, axis

    def call(self, x):
        size = -(-x.shape[self.axis] // self.chunks)
        index = [slice(None)] * len(x.shape)
        index[self.axis] = slice(self.index * size, (self.index + 1) * size)
        return x[tuple(index)]

    def get_config(self):
        config = {"chunks": self.chunks, "index": self.index, "axis": self.axis}
        return {**super().get_config(), **config}
'''


class PixelShuffle(Layer):
    group = "dense and reshaping"
    name = "pixel_shuffle"
    aliases = ("depth_to_space",)
    prefix = "shuffle"
    family = "rearrange"
    doc = ("channels into space: C·r² x H x W → C x H·r x W·r (torch.nn.PixelShuffle; torch's channel order, "
           "TensorFlow's depth_to_space has another)")
    params = {"factor": Param("count", aliases=("upscale_factor", "block_size"), doc="r")}
    keras_helpers = {"PixelShuffle": PIXEL_SHUFFLE_KERAS}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        h, w = need_spatial(x, 2, cls.name)
        r = values["factor"]
        if x.c % (r * r):
            raise LayerError(f"{cls.name} needs channels divisible by {r}² = {r * r}, got {x.c}", "shape-mismatch",
                             key="factor")
        return Result(Tensor(x.c // (r * r), (h * r, w * r)), sizes={"channels": count(x.c // (r * r))},
                      rf=ReceptiveStep.unknown())

    @classmethod
    def torch(cls, site):
        return Call("nn.PixelShuffle", [pos("upscale_factor", site.values["factor"])])

    @classmethod
    def keras(cls, site):
        return [("", Call("PixelShuffle", [pos("factor", site.values["factor"]), *_data_format(site)]))]


class PixelUnshuffle(Layer):
    group = "dense and reshaping"
    name = "pixel_unshuffle"
    aliases = ("space_to_depth",)
    prefix = "unshuffle"
    family = "rearrange"
    doc = "space into channels: C x H·r x W·r → C·r² x H x W (torch.nn.PixelUnshuffle; torch's channel order)"
    params = {"factor": Param("count", aliases=("downscale_factor", "block_size"), doc="r")}
    keras_helpers = {"PixelShuffle": PIXEL_SHUFFLE_KERAS}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        h, w = need_spatial(x, 2, cls.name)
        r = values["factor"]
        if h % r or w % r:
            raise LayerError(f"{cls.name} needs height and width divisible by {r}, got {h}x{w}", "shape-mismatch",
                             key="factor")
        return Result(Tensor(x.c * r * r, (h // r, w // r)), sizes={"channels": times(x.c, r, r)},
                      rf=ReceptiveStep.unknown())

    @classmethod
    def torch(cls, site):
        return Call("nn.PixelUnshuffle", [pos("downscale_factor", site.values["factor"])])

    @classmethod
    def keras(cls, site):
        return [("", Call("PixelShuffle", [pos("factor", site.values["factor"]), Arg("inverse", True),
                                           *_data_format(site)]))]


def _data_format(site: Any) -> list[Arg]:
    return [Arg("data_format", "channels_first")] if site.channels_first else []


class ChannelShuffle(Layer):
    group = "dense and reshaping"
    name = "channel_shuffle"
    prefix = "channel_shuffle"
    family = "rearrange"
    doc = "interleave the channels of `groups` groups (torch.nn.ChannelShuffle, ShuffleNet's channel_shuffle)"
    params = {"groups": Param("count", doc="channel groups; must divide the channels")}
    torch_helpers = {"ChannelShuffle": CHANNEL_SHUFFLE_TORCH}
    keras_helpers = {"ChannelShuffle": CHANNEL_SHUFFLE_KERAS}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if x.flat:
            raise LayerError(f"{cls.name} needs an input with spatial dims, got a flat vector of {x.c}",
                             "shape-mismatch")
        if x.c % values["groups"]:
            raise LayerError(f"groups {values['groups']} must divide the channels ({x.c})", "invalid-value",
                             key="groups")
        return Result(x)

    @classmethod
    def torch(cls, site):
        return Call("ChannelShuffle", [pos("groups", site.values["groups"])])

    @classmethod
    def keras(cls, site):
        return [("", Call("ChannelShuffle", [pos("groups", site.values["groups"]),
                                             Arg("axis", 1 if site.channels_first else -1, -1)]))]


def _permuted(x: Tensor, dims: tuple[int, ...], layout: str) -> Tensor:
    in_dims = x.dims(layout)
    return Tensor.from_dims(tuple(in_dims[d - 1] for d in dims), layout)


class Permute(Layer):
    group = "dense and reshaping"
    name = "permute"
    prefix = "permute"
    family = "rearrange"
    doc = ("the sample's axes in a new order, in the spec's layout (Keras Permute: 1-based, batch left out; "
           "torch's x.permute(0, ...) with the batch axis first is accepted too)")
    params = {"dims": Param("ints", doc="the new order of the axes 1..n (or 0, then 1..n)")}
    torch_helpers = {"Permute": PERMUTE_TORCH}
    counting = not_counted(*TOOLS)

    @classmethod
    def order(cls, values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, ...]:
        """The permutation of the axes 1..n (Keras's `dims`)."""
        n = len(x.dims(layout))
        dims = tuple(values["dims"])
        if len(dims) == n + 1 and dims[0] == 0:
            dims = dims[1:]
        if sorted(dims) != list(range(1, n + 1)):
            raise LayerError(f"dims {list(values['dims'])} is not an order of the axes 1..{n} of {x.text(layout)} "
                             f"(the batch axis 0 stays first)", "invalid-value", key="dims")
        return dims

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if x.flat:
            raise LayerError(f"{cls.name} needs at least two axes, got a flat vector of {x.c}", "shape-mismatch")
        dims = cls.order(values, x, layout)
        out = _permuted(x, dims, layout)
        moved = dims != tuple(range(1, len(dims) + 1))
        return Result(out, rf=ReceptiveStep.unknown() if moved else None)

    @classmethod
    def torch(cls, site):
        return Call("Permute", [pos(f"d{i}", d) for i, d in enumerate(torch_order(cls.order(site.values, site.x,
                                                                                          site.layout), site))])

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Permute", [pos("dims", cls.order(site.values, site.x, site.layout))]))]


def torch_order(dims: tuple[int, ...], site: Any) -> tuple[int, ...]:
    """A permutation of the spec's axes (1-based, the spec's layout) as torch's permute of the
    channels-first tensors it reads and writes (the batch axis 0 left out)."""
    x, out, layout = site.x, site.output, site.layout
    order = []
    for t in range(len(dims)):  # each output axis, channels first
        spec_out = to_spec(t, out, layout)
        spec_in = dims[spec_out] - 1
        order.append(to_torch(spec_in, x, layout))
    return tuple(order)


class Transpose(Permute):
    name = "transpose"
    prefix = "transpose"
    doc = "swap two axes of the sample (torch.transpose(x, dim0, dim1); the batch axis is 0, negative from the end)"
    params = {"dim0": Param("int", doc="an axis (batch = 0: not allowed)"), "dim1": Param("int", doc="the other axis")}

    @classmethod
    def order(cls, values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, ...]:
        n = len(x.dims(layout))
        swap = []
        for key in ("dim0", "dim1"):
            d = values[key]
            d = d + n + 1 if d < 0 else d
            if not 1 <= d <= n:
                raise LayerError(f"{key} {values[key]} is not an axis 1..{n} (or -{n}..-1) of {x.text(layout)}; the "
                                 "batch axis 0 cannot move", "invalid-value", key=key)
            swap.append(d)
        dims = list(range(1, n + 1))
        dims[swap[0] - 1], dims[swap[1] - 1] = dims[swap[1] - 1], dims[swap[0] - 1]
        return tuple(dims)


class Chunk(Layer):
    group = "dense and reshaping"
    name = "chunk"
    prefix = "chunk"
    family = "rearrange"
    doc = ("one of `chunks` pieces of the channels, as torch.chunk(x, chunks, dim=1)[index] (pieces of "
           "⌈C/chunks⌉, the last one smaller; ShuffleNet V2's split)")
    params = {
        "chunks": Param("count", doc="pieces to cut the channels into"),
        "index": Param("nonneg", doc="which piece, from 0"),
        "axis": Param("int", None, aliases=("dim",), doc="the channel axis (the only one accepted)"),
    }
    torch_helpers = {"Chunk": CHUNK_TORCH}
    keras_helpers = {"Chunk": CHUNK_KERAS}
    counting = not_counted(*TOOLS)

    @classmethod
    def piece(cls, values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, int]:
        """(start, stop) of the chunk's channels."""
        axis = values["axis"]
        if axis is not None and axis not in channel_axes(x, layout):
            raise LayerError(f"chunk is supported along the channel axis only ({sorted(channel_axes(x, layout))} "
                             f"here), got axis {axis}", "invalid-value", key="axis")
        size = -(-x.c // values["chunks"])  # torch.chunk: pieces of ⌈C/chunks⌉, so maybe fewer pieces
        pieces = -(-x.c // size)
        if values["index"] >= pieces:
            raise LayerError(f"index {values['index']}, but {x.c} channels in pieces of {size} make {pieces} "
                             f"piece{'s' if pieces > 1 else ''} (0..{pieces - 1})", "invalid-value", key="index")
        start = values["index"] * size
        return start, min(start + size, x.c)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        start, stop = cls.piece(values, x, layout)
        return Result(Tensor(stop - start, x.spatial), sizes={"channels": count(stop - start)})

    @classmethod
    def torch(cls, site):
        return Call("Chunk", [pos("chunks", site.values["chunks"]), pos("index", site.values["index"])])

    @classmethod
    def keras(cls, site):
        return [("", Call("Chunk", [pos("chunks", site.values["chunks"]), pos("index", site.values["index"]),
                                    Arg("axis", 1 if site.channels_first and not site.x.flat else -1, -1)]))]


LAYERS = [PixelShuffle, PixelUnshuffle, ChannelShuffle, Permute, Transpose, Chunk]
