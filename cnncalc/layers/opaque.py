"""An operation cnncalc cannot express, kept by `cnncalc import --allow-unknown` with the output shape its
source declares. It is counted as nothing: no parameters, no operations; the analysis warns so at
every use, so that no total that leaves it out goes unnoticed."""

from __future__ import annotations

import math

from ..errors import LayerError, Unsupported
from .base import Layer, ReceptiveStep, Result, Tensor
from .params import Param


class Opaque(Layer):
    group = "other"
    name = "opaque"
    prefix = "opaque"
    doc = "an imported operation cnncalc cannot express: the source's output shape, counted as zero"
    params = {"shape": Param("shape", doc="the output shape the source declares, in the spec's layout")}
    min_inputs, max_inputs = 1, None
    warning_rule = "opaque-layer"

    @classmethod
    def rule(cls, values, inputs, layout):
        shape = values["shape"]
        if -1 in shape:
            raise LayerError("opaque layers take the exact output shape, without -1", "invalid-value", key="shape")
        out = Tensor.from_dims(shape, layout)
        if math.prod(shape) < 1:
            raise LayerError(f"shape {list(shape)} is empty", "invalid-value", key="shape")
        return Result(out, rf=ReceptiveStep.unknown(),
                      warnings=("opaque layer: an operation cnncalc cannot express; its parameters and operations "
                                "are counted as 0, so every total leaves it out",))

    @classmethod
    def torch(cls, site):
        raise Unsupported("an opaque layer stands for an operation cnncalc does not know; it has no code")

    @classmethod
    def keras(cls, site):
        raise Unsupported("an opaque layer stands for an operation cnncalc does not know; it has no code")


LAYERS = [Opaque]
