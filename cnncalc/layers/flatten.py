"""Flatten to a vector (Keras Flatten, torch.flatten(x, 1) / nn.Flatten)."""

from __future__ import annotations

from .base import Layer, ReceptiveStep, Result, Tensor
from .count import volume
from .mapping import Call


class Flatten(Layer):
    group = "dense and reshaping"
    name = "flatten"
    prefix = "flatten"
    doc = "flatten to a vector (Keras Flatten, torch.flatten(x, 1))"

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        features = volume(*x.spatial, x.c)
        return Result(Tensor(x.numel), sizes={"features": features} if x.spatial else {},
                      rf=ReceptiveStep.whole() if x.spatial else None)

    @classmethod
    def torch(cls, site):
        return Call("nn.Flatten")

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Flatten"))]


LAYERS = [Flatten]
