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
    # every dropout is the identity at inference, whichever elements it drops in training
    aliases = ("dropout1d", "dropout2d", "dropout3d", "spatial_dropout1d", "spatial_dropout2d", "spatial_dropout3d",
               "alpha_dropout", "feature_alpha_dropout")
    prefix = "dropout"
    doc = "dropout: the identity at inference (no parameters, shape unchanged; also Dropout2d, SpatialDropout2D, ...)"
    params = {"rate": Param("rate", 0.5, aliases=("p",), doc="drop probability"),
              "inplace": Param("bool", False, doc="torch: overwrite the input (no effect on the numbers)"),
              "seed": Param("int", None, doc="Keras: random seed (no effect on the numbers)")}

    @classmethod
    def torch(cls, site):
        return Call("nn.Dropout", [Arg("p", site.values["rate"], 0.5)])

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Dropout", [pos("rate", site.values["rate"])]))]


LAYERS = [Identity, Dropout]
