"""Softmax along one axis: per element one exp and one divide, per normalised group n − 1 adds."""

from __future__ import annotations

from ..errors import LayerError
from .base import Layer, Result
from .count import count, minus
from .mapping import Arg, Call
from .params import Param


class Softmax(Layer):
    group = "activation"
    name = "softmax"
    prefix = "softmax"
    doc = "softmax (exp, sum, divide per element)"
    params = {"axis": Param("int", -1, aliases=("dim",),
                            doc="axis normalised over: negative from the end, positive counting the batch axis as 0")}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        dims = x.dims(layout)
        axis = values["axis"]
        # -1 is the last axis; 1.. count the batch dimension as 0, as Keras and torch.nn.Softmax(dim) do
        index = axis if axis < 0 else axis - 1
        if not -len(dims) <= index < len(dims) or axis == 0:
            raise LayerError(f"softmax axis {axis} does not exist for a tensor of shape "
                             f"{x.text(layout)} (plus the batch axis 0)", "invalid-value", key="axis")
        n = count(x.numel, "elements")
        n_groups = x.numel // dims[index]  # one normalisation (one sum) per group
        groups = count(n_groups, "group" if n_groups == 1 else "groups")
        return Result(x, ops={"exp": n, "add": minus(n, groups), "div": n})

    @classmethod
    def torch(cls, site):
        x, axis = site.x, site.values["axis"]
        if not x.flat and axis in (-1, len(x.spatial) + 1) and site.layout == "channels_last":
            axis = 1  # PyTorch's channel axis
        return Call("nn.Softmax", [Arg("dim", axis)])

    @classmethod
    def keras(cls, site):
        x, axis = site.x, site.values["axis"]
        if x.flat or (not site.channels_first and axis == -1):
            axis = -1
        return [("", Call("layers.Softmax", [Arg("axis", axis, -1)]))]


LAYERS = [Softmax]
