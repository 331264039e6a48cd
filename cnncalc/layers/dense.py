"""Fully connected layer (Keras Dense, torch.nn.Linear) on the last axis: params = in·out + out,
MACs = positions·in·out.

Like both frameworks, a dense layer maps the last axis of its input, in the spec's layout, and
applies the same weights at every position of the other axes: a 7x7x512 channels_last tensor
gives 7x7xunits (ConvNeXt's pointwise layers, a transformer's MLP). A classifier over the whole
tensor needs a `flatten` (or global pooling) first; when a network's output is a per-position
map of such a dense layer over an image, cnncalc warns that the flatten may be missing.
"""

from __future__ import annotations

from ..errors import LayerError
from .activations import ACTIVATION, fused_keras, fused_torch, with_activation
from .base import Layer, ReceptiveStep, Result, Tensor
from .count import plus, times, volume
from .mapping import Arg, Call, pos, sequence
from .params import Param

CHANNELS_LAST_LINEAR_TORCH = '''class ChannelsLastLinear(nn.Module):
    """nn.Linear on the channel axis of (N, C, ...): Keras's Dense on channels-last data."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x.movedim(1, -1))
        return y.movedim(y.dim() - 1, 1)  # from -1, torch's ONNX export is an invalid Transpose
'''


def features(x: Tensor, layout: str) -> int:
    """The size of the last axis of `x` in the spec's layout: what nn.Linear and Keras Dense map."""
    return x.c if x.flat or layout == "channels_last" else x.spatial[-1]


def with_features(x: Tensor, layout: str, n: int) -> Tensor:
    """`x` with its last axis (in the spec's layout) of size `n`."""
    if x.flat or layout == "channels_last":
        return Tensor(n, x.spatial)
    return Tensor(x.c, (*x.spatial[:-1], n))


def positions(x: Tensor, layout: str) -> tuple[int, ...]:
    """The sizes of every axis but the last (in the spec's layout): where the same weights apply."""
    return x.dims(layout)[:-1]


class Dense(Layer):
    group = "dense and reshaping"
    name = "dense"
    aliases = ("linear", "fc", "fully_connected", "lazy_linear")
    prefix = "fc"
    doc = "fully connected layer on the last axis (Keras Dense, torch.nn.Linear)"
    params = {
        "units": Param("count", aliases=("out_features",), doc="output features"),
        "bias": Param("bool", True, aliases=("use_bias",)),
        "in_features": Param("count", None, doc="input features (PyTorch): checked against the input's last axis"),
        **ACTIVATION,
    }
    torch_helpers = {"ChannelsLastLinear": CHANNELS_LAST_LINEAR_TORCH}
    # torchinfo counts a Linear's weights and bias once per sample, however many positions it maps
    counting = {"torchinfo": {"macs": {"params": 1}}}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        n_in, units = features(x, layout), values["units"]
        if values["in_features"] is not None and values["in_features"] != n_in:
            raise LayerError(f"in_features {values['in_features']}, but its input has {n_in} features"
                             + ("" if x.flat else f" on its last axis ({x.text(layout)})"),
                             "shape-mismatch", key="in_features")
        bias = units if values["bias"] else 0
        weights = times(n_in, units)
        at = positions(x, layout)
        if at:  # the same weights at every position of the other axes
            where = volume(*at, label="positions")
            ops = {"mac": times(where, n_in, units), "bias": times(where, bias) if bias else plus(0)}
            rf = None if layout == "channels_last" else ReceptiveStep.unknown()
        else:
            ops, rf = {"mac": weights, "bias": plus(bias)}, ReceptiveStep.whole()
        return with_activation(Result(with_features(x, layout, units), plus(weights, bias), ops=ops, rf=rf),
                               values, layout)

    @classmethod
    def output_warning(cls, values, inputs, output, layout):
        x = inputs[0]
        if len(x.spatial) >= 2:
            return (f"the network's output {output.text(layout)} is this dense layer applied at each "
                    f"position of its {x.text(layout)} input (as nn.Linear and Keras Dense do); for a classifier "
                    "over the whole tensor, add a `flatten` (or global pooling) layer before it", "dense-needs-flat")
        return None

    @classmethod
    def torch(cls, site):
        x, values = site.x, site.values
        linear = "ChannelsLastLinear" if site.layout == "channels_last" and not x.flat else "nn.Linear"
        return sequence(Call(linear, [pos("in_features", features(x, site.layout)), pos("out_features", values["units"]),
                                      Arg("bias", values["bias"], True)]), fused_torch(values))

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Dense", [pos("units", site.values["units"]), Arg("use_bias", site.values["bias"], True),
                                           *fused_keras(site.values)]))]


LAYERS = [Dense]
