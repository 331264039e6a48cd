"""Layers that pass their input through at inference: identity and dropout."""

from __future__ import annotations

from .base import Layer, Result
from .mapping import Arg, Call, pos
from .params import Param


class Identity(Layer):
    group = "dense and reshaping"
    name = "identity"
    prefix = "identity"
    doc = "passes its input through"

    @classmethod
    def rule(cls, values, inputs, layout):
        return Result(inputs[0])

    @classmethod
    def torch(cls, site):
        return Call("nn.Identity")

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Identity"))]


class Dropout(Identity):
    name = "dropout"
    prefix = "dropout"
    doc = "dropout (no parameters, shape unchanged)"
    params = {"rate": Param("rate", 0.5, aliases=("p",), doc="drop probability")}

    @classmethod
    def torch(cls, site):
        return Call("nn.Dropout", [Arg("p", site.values["rate"], 0.5)])

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Dropout", [pos("rate", site.values["rate"])]))]


LAYERS = [Identity, Dropout]
