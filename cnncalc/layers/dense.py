"""Fully connected layer (Keras Dense, torch.nn.Linear): params = in·out + out, MACs = in·out."""

from __future__ import annotations

from ..errors import LayerError
from .activations import ACTIVATION, fused_keras, fused_torch, with_activation
from .base import Layer, ReceptiveStep, Result, Tensor
from .count import plus, times
from .mapping import Arg, Call, pos, sequence
from .params import Param


class Dense(Layer):
    group = "dense and reshaping"
    name = "dense"
    aliases = ("linear", "fc", "fully_connected")
    prefix = "fc"
    doc = "fully connected layer (Keras Dense, torch.nn.Linear)"
    params = {
        "units": Param("count", aliases=("out_features",), doc="output features"),
        "bias": Param("bool", True, aliases=("use_bias",)),
        **ACTIVATION,
    }

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if not x.flat:
            raise LayerError(f"dense needs a flat input but gets a spatial tensor of {x.numel:,} values; "
                             "add a `flatten` (or global pooling) layer before it", "dense-needs-flat")
        units = values["units"]
        weights = times(x.c, units)
        return with_activation(Result(Tensor(units), plus(weights, units if values["bias"] else 0),
                                      ops={"mac": weights, "bias": plus(units if values["bias"] else 0)},
                                      rf=ReceptiveStep.whole()), values, layout)

    @classmethod
    def torch(cls, site):
        return sequence(Call("nn.Linear", [pos("in_features", site.x.c), pos("out_features", site.values["units"]),
                                           Arg("bias", site.values["bias"], True)]), fused_torch(site.values))

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Dense", [pos("units", site.values["units"]), Arg("use_bias", site.values["bias"], True),
                                           *fused_keras(site.values)]))]


LAYERS = [Dense]
