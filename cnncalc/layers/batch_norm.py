"""Batch normalisation (torch.nn.BatchNorm1d/2d/3d, Keras BatchNormalization): γ and β trainable, the
moving mean and variance non-trainable. At inference the normalise-and-scale folds into one multiply
and one add per element; without running statistics (torch's track_running_stats=False) the batch's
own statistics are computed, as instance norm does for one sample."""

from __future__ import annotations

from typing import Any

from ..errors import Unsupported
from .base import Layer, Result
from .count import times
from .mapping import Arg, Call, pos
from .norm_stats import affine_params, check_axis, check_channels, folded, seen_whole, statistics
from .params import Param


def _stats_rule(stored: int, computed: int) -> Any:
    """A tool's count per input element, ×2 with γ (stored statistics), or 4 and 5 (computed ones)."""
    def rule(c: Any) -> int:
        n = c.term("in")
        if c.params.get("track_running_stats", True):
            return n * stored * (2 if c.trainable else 1)
        return n * (computed + (1 if c.trainable else 0))
    rule.__doc__ = (f"{stored}·in (x2 with γ, β) with running statistics; {computed}·in (+1·in with γ) with the "
                    "batch's own (aten::batch_norm in training mode)")
    return rule


class BatchNorm(Layer):
    group = "normalization"
    name = "batch_norm"
    aliases = ("batchnorm", "bn", "batch_normalization", "batchnorm1d", "batchnorm2d", "batchnorm3d",
               "sync_batch_norm")
    prefix = "bn"
    doc = "batch normalisation: γ, β trainable; moving mean and variance non-trainable"
    params = {
        "num_features": Param("count", None, doc="torch: the input's channels; checked"),
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        "momentum": Param("float", 0.1, doc="torch's (Keras's momentum is 1 − this)"),
        "affine": Param("bool", True, doc="learn γ and β (each also needs scale/center)"),
        "scale": Param("bool", True, doc="learn γ (Keras scale)"),
        "center": Param("bool", True, doc="learn β (Keras center)"),
        "track_running_stats": Param("bool", True, doc="keep the moving mean and variance (non-trainable); without "
                                                       "them the batch's statistics are used"),
        "axis": Param("int", None, doc="Keras: the channel axis (the only one accepted)"),
    }
    counting = {"fvcore": {"macs": _stats_rule(1, 4)}, "calflops": {"flops": _stats_rule(1, 4)}}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        check_channels(cls.name, "num_features", values["num_features"], x)
        check_axis(values, x, layout)
        params, scale, shift = affine_params(values, x.c, "")
        if not values["track_running_stats"]:
            return Result(x, params, ops=statistics(x, x.c, scale, shift), rf=seen_whole(x, True))
        return Result(x, params, times(2, x.c, label="(moving mean, variance)"), ops=folded(x))

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        scale = values["affine"] and values["scale"]
        if scale != (values["affine"] and values["center"]):
            raise Unsupported("γ without β or β without γ (PyTorch's BatchNorm learns both or neither)")
        return Call(f"nn.BatchNorm{max(len(x.spatial), 1)}d", [
            pos("num_features", x.c), Arg("eps", values["eps"], 1e-5), Arg("momentum", values["momentum"], 0.1),
            Arg("affine", scale, True), Arg("track_running_stats", values["track_running_stats"], True)])

    @classmethod
    def keras(cls, site):
        values = site.values
        if not values["track_running_stats"]:
            raise Unsupported("track_running_stats=False (Keras always keeps the moving mean and variance)")
        axis = 1 if site.channels_first and not site.x.flat else -1
        return [("", Call("layers.BatchNormalization", [
            Arg("axis", axis, -1), Arg("epsilon", values["eps"]), Arg("momentum", round(1 - values["momentum"], 10)),
            Arg("center", bool(values["affine"] and values["center"]), True),
            Arg("scale", bool(values["affine"] and values["scale"]), True)]))]


LAYERS = [BatchNorm]
