"""Reshape every sample (Keras Reshape; torch's x.reshape(N, ...)): the target shape in the spec's
layout, one -1 allowed."""

from __future__ import annotations

import math

from ..errors import LayerError
from .base import Layer, ReceptiveStep, Result, Tensor
from .mapping import Call, pos
from .params import Param

RESHAPE_TORCH = '''class Reshape(nn.Module):
    """Reshape every sample to `shape` (channels first)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
'''


class Reshape(Layer):
    group = "dense and reshaping"
    name = "reshape"
    prefix = "reshape"
    doc = "reshape (target shape in the spec's layout, one -1 allowed)"
    params = {"shape": Param("shape", aliases=("target_shape",), doc="target shape in the spec's layout")}
    torch_helpers = {"Reshape": RESHAPE_TORCH}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        shape = list(values["shape"])
        known = math.prod(d for d in shape if d != -1)
        if -1 in shape:
            if x.numel % known:
                raise LayerError(f"cannot reshape {x.numel:,} values into {list(values['shape'])}", "shape-mismatch",
                                 key="shape")
            shape[shape.index(-1)] = x.numel // known
        if math.prod(shape) != x.numel:
            raise LayerError(f"cannot reshape {x.numel:,} values into {list(values['shape'])} "
                             f"({math.prod(shape):,} values)", "shape-mismatch", key="shape")
        if len(shape) > 4:
            raise LayerError("reshape supports at most 3 spatial dims", "invalid-value", key="shape")
        out = Tensor.from_dims(shape, layout)
        return Result(out, rf=None if out.spatial == x.spatial else ReceptiveStep.unknown())

    @classmethod
    def torch(cls, site):
        return Call("Reshape", [pos(f"d{i}", d) for i, d in enumerate(site.output.dims("channels_first"))])

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Reshape", [pos("target_shape", tuple(site.output.dims(site.layout)))]))]


LAYERS = [Reshape]
