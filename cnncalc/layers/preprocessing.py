"""Keras's input preprocessing layers inside a model: Normalization ((x − mean) / √variance with a
stored mean and variance per kept axis) and Rescaling (x · scale + offset).

Normalization keeps its statistics as non-trainable weights, mean and variance (one value per
position of the kept axes) and a scalar count, unless `mean` and `variance` are given as
constants. Per element: a subtract and a divide (with `invert`: a multiply and an add); per
statistic: a square root and a max with Keras's epsilon.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError
from .axes import to_torch
from .base import Layer, Result, Tensor, not_counted
from .count import count, plus, times
from .mapping import Arg, Call, pos
from .params import Param

NORMALIZATION_TORCH = '''class Normalization(nn.Module):
    """Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7), or its inverse.

    Without given values the statistics are buffers, as Keras keeps them as non-trainable weights
    (mean, variance and a count); given values are constants."""

    def __init__(self, shape, mean=None, variance=None, invert=False):
        super().__init__()
        self.shape, self.invert = list(shape), invert
        self.values = None if mean is None else (mean, variance)
        if mean is None:
            self.register_buffer("mean", torch.zeros(self.shape))
            self.register_buffer("variance", torch.ones(self.shape))
            self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.values is None:
            mean, variance = self.mean, self.variance
        else:
            mean, variance = (x.new_tensor(v).reshape(self.shape if len(v) > 1 else ())
                              for v in self.values)
        std = variance.sqrt().clamp(min=1e-7)
        return mean + x * std if self.invert else (x - mean) / std
'''

RESCALING_TORCH = '''class Rescaling(nn.Module):
    """Keras's Rescaling: x * scale + offset, per channel when given one value per channel."""

    def __init__(self, scale, offset=0.0):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (x.dim() - 2)  # one value, or one per channel
        scale, offset = (x.new_tensor(v).reshape(shape) for v in (self.scale, self.offset))
        return x * scale + offset
'''

TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")  # none counts Python arithmetic on tensors


def _per_channel(name: str, values: tuple[float, ...], x: Tensor) -> tuple[float, ...] | float:
    """One value, or one per channel."""
    if len(values) == 1:
        return values[0]
    if len(values) != x.c:
        raise LayerError(f"{name} has {len(values)} values for {x.c} channels; give one, or one per channel",
                         "shape-mismatch", key=name)
    return values


class Normalization(Layer):
    group = "normalization"
    name = "normalization"
    prefix = "normalization"
    doc = ("(x − mean) / √variance with the statistics stored per kept axis (Keras Normalization: mean, "
           "variance and count are non-trainable weights)")
    params = {
        "axis": Param("ints", -1, doc="axes with their own statistics: negative from the end, positive counting the "
                                      "batch axis as 0; [] for one mean and variance"),
        "mean": Param("numbers", None, doc="a constant mean (then no weights): one value or one per channel"),
        "variance": Param("numbers", None, doc="a constant variance, given with mean"),
        "invert": Param("bool", False, doc="undo the normalisation: mean + x · √variance"),
    }
    torch_helpers = {"Normalization": NORMALIZATION_TORCH}
    counting = not_counted(*TOOLS)

    @classmethod
    def kept(cls, values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, ...]:
        dims = x.dims(layout)
        nd = len(dims)
        out = []
        for a in values["axis"]:
            index = a if a < 0 else a - 1
            if a == 0 or not -nd <= index < nd:
                raise LayerError(f"axis {a} does not exist for a tensor of shape {x.text(layout)} (plus the batch "
                                 "axis 0)", "invalid-value", key="axis")
            out.append(index % nd)
        if len(set(out)) != len(out):
            raise LayerError(f"axis names an axis twice: {list(values['axis'])}", "invalid-value", key="axis")
        return tuple(sorted(out))

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        kept = cls.kept(values, x, layout)
        dims = x.dims(layout)
        stats = count(math.prod(dims[a] for a in kept), "statistics" if kept else "statistic")
        mean, variance = values["mean"], values["variance"]
        if (mean is None) != (variance is None):
            raise LayerError("give both mean and variance, or neither", "invalid-value",
                             key="variance" if variance is None else "mean")
        if mean is not None:
            for key in ("mean", "variance"):
                n = len(values[key])
                if n != 1 and (len(kept) != 1 or n != stats):
                    raise LayerError(f"{key} has {n} values; give one, or one per position of the kept axis ({int(stats)})",
                                     "shape-mismatch", key=key)
        frozen = plus(times(2, stats, label="(mean, variance)"), count(1, "count")) if mean is None else count(0)
        elements = count(x.numel, "elements")
        ops = {"mul" if values["invert"] else "div": elements, "add": elements, "pow": stats, "cmp": stats}
        return Result(x, non_trainable=frozen, ops=ops)

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        kept = {to_torch(a, x, site.layout) for a in cls.kept(values, x, site.layout)}
        dims = x.dims("channels_first")
        shape = tuple(dims[t - 1] if t in kept else 1 for t in range(1, len(dims) + 1))
        args = [pos("shape", shape)]
        if values["mean"] is not None:
            args += [Arg("mean", list(values["mean"])), Arg("variance", list(values["variance"]))]
        return Call("Normalization", [*args, Arg("invert", values["invert"], False)])

    @classmethod
    def keras(cls, site):
        values = site.values
        axis = values["axis"]
        args = [Arg("axis", axis[0] if len(axis) == 1 else tuple(axis), -1)]
        if values["mean"] is not None:  # Keras wants both of one shape
            n = max(len(values["mean"]), len(values["variance"]))
            args += [Arg(k, _one(values[k] * (n // len(values[k])))) for k in ("mean", "variance")]
        return [("", Call("layers.Normalization", [*args, Arg("invert", values["invert"], False)]))]


def _one(v: tuple[float, ...]) -> Any:
    return v[0] if len(v) == 1 else list(v)


class Rescaling(Layer):
    group = "normalization"
    name = "rescaling"
    prefix = "rescaling"
    doc = "x · scale + offset, by one value or one per channel (Keras Rescaling)"
    params = {
        "scale": Param("numbers", doc="multiplier: one value or one per channel"),
        "offset": Param("numbers", 0.0, doc="added after scaling: one value or one per channel"),
    }
    torch_helpers = {"Rescaling": RESCALING_TORCH}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        _per_channel("scale", values["scale"], x)
        _per_channel("offset", values["offset"], x)
        elements = count(x.numel, "elements")
        ops = {"mul": elements}
        if any(values["offset"]):  # x · s + 0 is not an addition
            ops["add"] = elements
        return Result(x, ops=ops)

    @classmethod
    def torch(cls, site):
        values = site.values
        return Call("Rescaling", [pos("scale", _one(values["scale"])), Arg("offset", _one(values["offset"]), 0.0)])

    @classmethod
    def keras(cls, site):
        values, x = site.values, site.x
        scale, offset = _one(values["scale"]), _one(values["offset"])
        if site.channels_first and x.spatial:  # Keras broadcasts a list along the last axis: shape it C x 1 x 1
            scale, offset = (_column(v, len(x.spatial)) for v in (scale, offset))
        return [("", Call("layers.Rescaling", [pos("scale", scale), Arg("offset", offset, 0.0)]))]


def _column(v: Any, nd: int) -> Any:
    """A per-channel list as C x 1 (x 1 ...) nested lists, to broadcast along the channels first."""
    if not isinstance(v, list):
        return v
    for _ in range(nd):
        v = [[e] for e in v]
    return v


LAYERS = [Normalization, Rescaling]
