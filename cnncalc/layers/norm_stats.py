"""Normalisations that compute their statistics at run time: layer norm (torch.nn.LayerNorm, Keras
LayerNormalization), group norm (torch.nn.GroupNorm, Keras GroupNormalization) and instance norm
(torch.nn.InstanceNorm1d/2d/3d).

Each normalises G groups of n elements (E = G·n): the mean (n − 1 adds and a divide per group),
the variance (a subtract and a square per element, n − 1 adds and a divide per group),
1/√(variance + ε) (an add and a power per group), one multiply per element, then the learned
scale γ (a multiply) and shift β (an add) per element.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError, Unsupported
from .axes import channel_axes, to_spec, to_torch
from .base import Layer, ReceptiveStep, Result, Tensor
from .count import ZERO, Count, count, minus, plus, times
from .mapping import Arg, Call, pos
from .params import Param

LAYER_NORM_AXES_TORCH = '''class LayerNormAxes(nn.Module):
    """nn.LayerNorm over axes that are not the last ones (the channels of an N, C, H, W tensor)."""

    def __init__(self, axes, normalized_shape, **kwargs):
        super().__init__()
        self.axes = list(axes)
        self.norm = nn.LayerNorm(normalized_shape, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ends = list(range(x.dim() - len(self.axes), x.dim()))
        return self.norm(x.movedim(self.axes, ends)).movedim(ends, self.axes)
'''
LAYER_NORM_AXES_KERAS = '''class LayerNormAxes(keras.layers.Layer):
    """LayerNormalization over axes that are not the last ones (the channels of a channels-first
    tensor), with those axes moved to the end: Keras 3's torch backend hands any one axis, or a run
    of axes, to torch's layer_norm, which normalises only trailing ones."""

    def __init__(self, axes, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.axes = list(axes)
        self.epsilon, self.center, self.scale = epsilon, center, scale
        trailing = list(range(-len(self.axes), 0))
        self.norm = keras.layers.LayerNormalization(axis=trailing, epsilon=epsilon, center=center,
                                                    scale=scale)

    def build(self, input_shape):
        rest = [d for a, d in enumerate(input_shape) if a not in self.axes]
        self.norm.build(rest + [input_shape[a] for a in self.axes])

    def call(self, x):
        ends = list(range(len(x.shape) - len(self.axes), len(x.shape)))
        return ops.moveaxis(self.norm(ops.moveaxis(x, self.axes, ends)), ends, self.axes)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
'''


def statistics(x: Tensor, groups: int, scale: bool, shift: bool) -> dict[str, Count]:
    """The operations of normalising `x` in `groups` groups with run-time statistics."""
    elements = count(x.numel, "elements")
    g = count(groups, "groups" if groups != 1 else "group")
    n = count(x.numel // groups, "per group")
    sums = times(2, g, minus(n, 1))  # the mean's and the variance's sums
    return {"add": plus(sums, elements, g, count(x.numel, "elements (β)") if shift else ZERO),
            "mul": plus(elements, elements, count(x.numel, "elements (γ)") if scale else ZERO),
            "div": times(2, g), "pow": g}


def seen_whole(x: Tensor, spatial: bool) -> ReceptiveStep | None:
    """Statistics over the spatial axes make every output depend on the whole input."""
    return ReceptiveStep.whole() if spatial and x.spatial else None


def folded(x: Tensor) -> dict[str, Count]:
    """Normalising with stored statistics: one multiply and one add per element (as batch norm)."""
    n = count(x.numel, "elements")
    return {"mul": n, "add": n}


def affine_params(values: dict[str, Any], size: int | Count, what: str) -> tuple[Count, bool, bool]:
    """(trainable count, γ learned, β learned) of a normalisation with `size` γ and β values."""
    scale = bool(values["affine"] and values["scale"])
    shift = bool(values["affine"] and values["center"])
    parts = [label for label, on in (("γ", scale), ("β", shift)) if on]
    if not parts:
        return ZERO, False, False
    return times(len(parts), size, label=f"({', '.join(parts)})" + (f" {what}" if what else "")), scale, shift


def check_channels(name: str, key: str, given: int | None, x: Tensor) -> None:
    """A restated channel count (torch's num_features, num_channels) must be the input's."""
    if given is not None and given != x.c:
        raise LayerError(f"{key} {given}, but its input has {x.c} channels; set {key}: {x.c} or leave it out",
                         "shape-mismatch", key=key)


AFFINE = {
    "affine": Param("bool", True, aliases=("elementwise_affine",), doc="learn γ and β (each also needs scale/center)"),
    "scale": Param("bool", True, doc="learn γ (Keras scale)"),
    "center": Param("bool", True, aliases=("bias",), doc="learn β (Keras center; torch bias)"),
}


def _torch_affine(values: dict[str, Any]) -> tuple[bool, bool]:
    """(affine, bias) for torch, which has no β without γ."""
    scale = values["affine"] and values["scale"]
    shift = values["affine"] and values["center"]
    if shift and not scale:
        raise Unsupported("β without γ (PyTorch learns β only together with γ)")
    return scale, shift


class LayerNorm(Layer):
    group = "normalization"
    name = "layer_norm"
    aliases = ("layer_normalization",)
    prefix = "ln"
    doc = ("layer normalisation over the given axes of every sample (torch.nn.LayerNorm: the trailing "
           "normalized_shape; Keras LayerNormalization: axis)")
    params = {
        "axis": Param("ints", None, doc="normalised axes (Keras): negative from the end, positive counting the batch "
                                        "axis as 0; default -1"),
        "normalized_shape": Param("ints", None, doc="torch: the sizes of the trailing (channels-first) dims "
                                                    "normalised over; checked against the input"),
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        **AFFINE,
    }
    torch_helpers = {"LayerNormAxes": LAYER_NORM_AXES_TORCH}
    keras_helpers = {"LayerNormAxes": LAYER_NORM_AXES_KERAS}
    counting = {
        "fvcore": {"macs": {"in": 4, "affine_in": 1}},  # aten::layer_norm: 5 per element with γ, 4 without
        "thop": {"macs": {"in": 2, "affine_in": 2}},
        "torchinfo": {"macs": {"params": 1}},
        "ptflops": {"macs": {"in": 1}},  # the batch-norm hook reads `affine`, which LayerNorm does not have
        "calflops": {"macs": {}, "flops": {"in": 4, "affine_in": 1}},  # the patched F.layer_norm
    }

    @classmethod
    def axes(cls, values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, ...]:
        """The normalised axes as indices into the sample's dims in the spec's layout."""
        dims = x.dims(layout)
        nd = len(dims)
        if values["normalized_shape"] is not None:
            if values["axis"] is not None:
                raise LayerError("give axis (Keras) or normalized_shape (torch), not both", "invalid-value", key="axis")
            shape = tuple(values["normalized_shape"])
            torch_dims = x.dims("channels_first")
            if not shape or len(shape) > nd or torch_dims[nd - len(shape):] != shape:
                raise LayerError(f"normalized_shape {list(shape)}, but the input's last dims (channels first) are "
                                 f"{list(torch_dims[nd - len(shape):] or torch_dims)}; set it to the trailing dims of "
                                 f"{list(torch_dims)}", "shape-mismatch", key="normalized_shape")
            first = [to_spec(t, x, layout) for t in range(nd - len(shape), nd)]
            return tuple(sorted(first))
        axes = values["axis"] if values["axis"] is not None else (-1,)
        out = []
        for a in axes:
            index = a if a < 0 else a - 1
            if a == 0 or not -nd <= index < nd:
                raise LayerError(f"axis {a} does not exist for a tensor of shape {x.text(layout)} (plus the batch "
                                 "axis 0)", "invalid-value", key="axis")
            out.append(index % nd)
        if not out or len(set(out)) != len(out):
            raise LayerError(f"axis must name distinct axes, got {list(axes)}", "invalid-value", key="axis")
        return tuple(sorted(out))

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        axes = cls.axes(values, x, layout)
        dims = x.dims(layout)
        size = math.prod(dims[a] for a in axes)
        params, scale, shift = affine_params(values, count(size, "normalised elements"), "")
        channel = len(x.spatial) if layout == "channels_last" else 0
        return Result(x, params, ops=statistics(x, x.numel // size, scale, shift),
                      rf=seen_whole(x, any(a != channel for a in axes)))

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        scale, shift = _torch_affine(values)
        axes = cls.axes(values, x, site.layout)
        torch_axes = sorted(to_torch(a, x, site.layout) for a in axes)
        nd = len(x.dims(site.layout))
        dims = x.dims("channels_first")
        shape = [dims[t - 1] for t in torch_axes]
        shape_arg = shape[0] if len(shape) == 1 else tuple(shape)
        kwargs = [Arg("eps", values["eps"], 1e-5), Arg("elementwise_affine", scale, True),
                  Arg("bias", shift or not scale, True)]
        if torch_axes == list(range(nd - len(axes) + 1, nd + 1)):
            return Call("nn.LayerNorm", [pos("normalized_shape", shape_arg), *kwargs])
        return Call("LayerNormAxes", [pos("axes", tuple(torch_axes)), pos("normalized_shape", shape_arg), *kwargs])

    @classmethod
    def keras(cls, site):
        values = site.values
        axes = [a + 1 for a in cls.axes(values, site.x, site.layout)]
        n = len(site.x.dims(site.layout))
        affine = [Arg("center", bool(values["affine"] and values["center"]), True),
                  Arg("scale", bool(values["affine"] and values["scale"]), True)]
        if axes != list(range(n - len(axes) + 1, n + 1)):  # not the trailing axes (LayerNorm2d's channels)
            return [("", Call("LayerNormAxes", [pos("axes", tuple(axes)), Arg("epsilon", values["eps"]), *affine]))]
        axis = -1 if axes == [n] else (axes[0] if len(axes) == 1 else axes)
        return [("", Call("layers.LayerNormalization", [Arg("axis", axis, -1), Arg("epsilon", values["eps"]),
                                                          *affine]))]


class GroupNorm(Layer):
    group = "normalization"
    name = "group_norm"
    aliases = ("group_normalization",)
    prefix = "gn"
    doc = "group normalisation: channels in groups, statistics per sample and group (torch.nn.GroupNorm)"
    params = {
        "groups": Param("count", aliases=("num_groups",), doc="channel groups; must divide the channels"),
        "num_channels": Param("count", None, doc="torch: the input's channels; checked"),
        "axis": Param("int", None, doc="Keras: the channel axis (the only one accepted)"),
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        **AFFINE,
    }
    counting = {
        "fvcore": {"macs": {"in": 4, "affine_in": 1}},  # aten::group_norm: 5 per element with γ, 4 without
        "thop": {"macs": {}},  # thop has no hook for nn.GroupNorm: not counted
        "torchinfo": {"macs": {"params": 1}},
        "ptflops": {"macs": {"in": 1, "affine_in": 1}},
        "calflops": {"macs": {}, "flops": {"in": 4, "affine_in": 1}},
    }

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        check_channels(cls.name, "num_channels", values["num_channels"], x)
        check_axis(values, x, layout)
        groups = values["groups"]
        if x.c % groups:
            raise LayerError(f"groups {groups} must divide the channels ({x.c})", "invalid-value", key="groups")
        if x.numel == groups:
            raise LayerError(f"each of the {groups} groups holds a single value of {x.text(layout)}, whose variance "
                             "is 0 (torch refuses it); use fewer groups", "shape-mismatch", key="groups")
        params, scale, shift = affine_params(values, count(x.c, "channels"), "")
        return Result(x, params, ops=statistics(x, groups, scale, shift), rf=seen_whole(x, True))

    @classmethod
    def torch(cls, site):
        values = site.values
        scale, shift = _torch_affine(values)
        if scale and not shift:
            raise Unsupported("γ without β (PyTorch's GroupNorm learns both or neither)")
        return Call("nn.GroupNorm", [pos("num_groups", values["groups"]), pos("num_channels", site.x.c),
                                     Arg("eps", values["eps"], 1e-5), Arg("affine", scale, True)])

    @classmethod
    def keras(cls, site):
        values = site.values
        return [("", Call("layers.GroupNormalization", [
            Arg("groups", values["groups"]), Arg("axis", 1 if site.channels_first and not site.x.flat else -1, -1),
            Arg("epsilon", values["eps"]), Arg("center", bool(values["affine"] and values["center"]), True),
            Arg("scale", bool(values["affine"] and values["scale"]), True)]))]


def check_axis(values: dict[str, Any], x: Tensor, layout: str) -> None:
    axis = values.get("axis")
    if axis is not None and axis not in channel_axes(x, layout):
        raise LayerError(f"only the channel axis ({sorted(channel_axes(x, layout))} here) is supported, got axis {axis}",
                         "invalid-value", key="axis")


class InstanceNorm(Layer):
    group = "normalization"
    name = "instance_norm"
    aliases = ("instance_norm1d", "instance_norm2d", "instance_norm3d")
    prefix = "in"
    doc = ("instance normalisation: statistics per sample and channel (torch.nn.InstanceNorm1d/2d/3d; "
           "no γ, β by default)")
    params = {
        "num_features": Param("count", None, doc="torch: the input's channels; checked"),
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        "momentum": Param("float", 0.1),
        "affine": Param("bool", False, doc="learn γ and β"),
        "track_running_stats": Param("bool", False, doc="keep a running mean and variance (non-trainable), "
                                                        "used at inference"),
    }
    counting = {
        "fvcore": {"macs": {"in": 4, "affine_in": 1}},  # aten::instance_norm: 5 per element with γ, 4 without
        "thop": {"macs": {"in": 2, "affine_in": 2}},
        "torchinfo": {"macs": {"params": 1}},
        "ptflops": {"macs": {"in": 1, "affine_in": 1}},
        "calflops": {"macs": {}, "flops": {"in": 4, "affine_in": 1}},
    }

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if x.flat:
            raise LayerError(f"{cls.name} needs an input with spatial dims, got a flat vector of {x.c}",
                             "shape-mismatch")
        check_channels(cls.name, "num_features", values["num_features"], x)
        channels = count(x.c, "channels")
        params = times(2, channels, label="(γ, β)") if values["affine"] else ZERO
        if values["track_running_stats"]:
            return Result(x, params, times(2, channels, label="(running mean, variance)"), ops=folded(x))
        if x.numel == x.c:
            raise LayerError(f"each channel of {x.text(layout)} holds a single value, whose variance is 0 (torch "
                             "refuses it); keep running statistics or normalise a larger input", "shape-mismatch")
        return Result(x, params, ops=statistics(x, x.c, values["affine"], values["affine"]), rf=seen_whole(x, True))

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        if not 1 <= len(x.spatial) <= 3:
            raise Unsupported(f"instance norm over {len(x.spatial)} spatial dims")
        return Call(f"nn.InstanceNorm{len(x.spatial)}d", [
            pos("num_features", x.c), Arg("eps", values["eps"], 1e-5), Arg("momentum", values["momentum"], 0.1),
            Arg("affine", values["affine"], False), Arg("track_running_stats", values["track_running_stats"], False)])

    @classmethod
    def keras(cls, site):
        values = site.values
        if values["track_running_stats"]:
            raise Unsupported("track_running_stats (Keras normalises each instance with its own statistics only)")
        return [("", Call("layers.GroupNormalization", [
            Arg("groups", -1), Arg("axis", 1 if site.channels_first else -1, -1), Arg("epsilon", values["eps"]),
            Arg("center", values["affine"]), Arg("scale", values["affine"])]))]


LAYERS = [LayerNorm, GroupNorm, InstanceNorm]
