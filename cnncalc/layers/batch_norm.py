"""Batch normalisation (torch.nn.BatchNorm1d/2d, Keras BatchNormalization): γ and β trainable, the
moving mean and variance non-trainable. At inference the normalise-and-scale folds into one multiply
and one add per element."""

from __future__ import annotations

from .base import Layer, Result
from .count import ZERO, count, times
from .mapping import Arg, Call, pos
from .params import Param


class BatchNorm(Layer):
    group = "normalization"
    name = "batch_norm"
    aliases = ("batchnorm", "bn", "batch_normalization", "batchnorm2d")
    prefix = "bn"
    doc = "batch normalisation: γ, β trainable; moving mean and variance non-trainable"
    params = {
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        "momentum": Param("float", 0.1),
        "affine": Param("bool", True, doc="learn γ and β (Keras center/scale)"),
    }

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        n = count(x.numel, "elements")
        return Result(x, times(2, x.c, label="(γ, β)") if values["affine"] else ZERO,
                      times(2, x.c, label="(moving mean, variance)"), ops={"mul": n, "add": n})

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        return Call(f"nn.BatchNorm{max(len(x.spatial), 1)}d", [
            pos("num_features", x.c), Arg("eps", values["eps"], 1e-5), Arg("momentum", values["momentum"], 0.1),
            Arg("affine", values["affine"], True)])

    @classmethod
    def keras(cls, site):
        values = site.values
        axis = 1 if site.channels_first and not site.x.flat else -1
        return [("", Call("layers.BatchNormalization", [
            Arg("axis", axis, -1), Arg("epsilon", values["eps"]), Arg("momentum", round(1 - values["momentum"], 10)),
            Arg("center", values["affine"], True), Arg("scale", values["affine"], True)]))]


LAYERS = [BatchNorm]
