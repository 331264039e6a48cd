"""Softmax and log-softmax along one axis.

Softmax: per element one exp and one divide, per normalised group n − 1 adds. Log-softmax
x − log Σ exp(x): per element one exp and one subtraction, per group n − 1 adds and one log.
"""

from __future__ import annotations

from ..errors import LayerError
from .activations import function_call, uncounted
from .base import Layer, Result, Tensor
from .count import Count, count, minus, plus
from .mapping import Arg, Call, Site, pos
from .params import Param

AXIS = {"axis": Param("int", -1, aliases=("dim",),
                      doc="axis normalised over: negative from the end, positive counting the batch axis as 0")}


def groups(values: dict, x: Tensor, layout: str, what: str) -> tuple[Count, Count]:
    """(elements, normalised groups) of `x` for the checked `axis`; LayerError if it has no such axis."""
    dims = x.dims(layout)
    axis = values["axis"]
    # -1 is the last axis; 1.. count the batch dimension as 0, as Keras and torch.nn.Softmax(dim) do
    index = axis if axis < 0 else axis - 1
    if not -len(dims) <= index < len(dims) or axis == 0:
        raise LayerError(f"{what} axis {axis} does not exist for a tensor of shape "
                         f"{x.text(layout)} (plus the batch axis 0)", "invalid-value", key="axis")
    n = count(x.numel, "elements")
    n_groups = x.numel // dims[index]  # one normalisation (one sum) per group
    return n, count(n_groups, "group" if n_groups == 1 else "groups")


def torch_dim(site: Site) -> int:
    """The spec's axis as a dim of PyTorch's channels-first tensor (a channels-last spec's H, W, C are
    PyTorch's dims 2, 3, 1)."""
    x, axis = site.x, site.values["axis"]
    if x.flat or site.layout == "channels_first":
        return axis
    rank = len(x.spatial) + 1
    index = axis % rank if axis < 0 else axis - 1  # 0-based, without the batch
    return 1 if index == rank - 1 else index + 2


def keras_axis(site: Site) -> int:
    x, axis = site.x, site.values["axis"]
    if x.flat or (not site.channels_first and axis == -1):
        return -1
    return axis


class Softmax(Layer):
    group = "activation"
    name = "softmax"
    prefix = "softmax"
    doc = "softmax (exp, sum, divide per element)"
    params = AXIS
    keras_name = "softmax"  # Keras's activation= on another layer
    counting = uncounted("nn.Softmax", ("thop", "ptflops", "calflops"))

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        n, g = groups(values, x, layout, cls.name)
        return Result(x, ops={"exp": n, "add": minus(n, g), "div": n})

    @classmethod
    def torch(cls, site):
        return Call("nn.Softmax", [Arg("dim", torch_dim(site))])

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Softmax", [Arg("axis", keras_axis(site), -1)]))]


class LogSoftmax(Layer):
    group = "activation"
    name = "log_softmax"
    prefix = "log_softmax"
    doc = "log of softmax, x − log Σ exp(x) (exp and subtract per element, a log per group)"
    params = AXIS
    keras_name = "log_softmax"
    counting = uncounted("nn.LogSoftmax")

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        n, g = groups(values, x, layout, cls.name)
        # the per-group log is counted with the exponentials: both are one transcendental function each
        return Result(x, ops={"exp": plus(count(n, "exps"), count(g, "logs")),
                              "add": plus(minus(n, g, label="sum adds"), count(n, "subtractions"))})

    @classmethod
    def torch(cls, site):
        return Call("nn.LogSoftmax", [Arg("dim", torch_dim(site))])

    @classmethod
    def keras(cls, site):
        axis = keras_axis(site)
        if axis == -1:
            return [("", Call("layers.Activation", [pos("activation", "log_softmax")]))]
        return [("", function_call("log_softmax", {"axis": axis}))]


LAYERS = [Softmax, LogSoftmax]
