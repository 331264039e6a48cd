"""Layer scale (Touvron et al. 2021, "Going deeper with image transformers"; ConvNeXt): a learned
scale per channel, y = γ · x, with γ initialised to a small value.

torchvision's ConvNeXt multiplies a block's output by `CNBlock.layer_scale`, a parameter of shape
C x 1 x 1 (`self.layer_scale * self.block(input)`); Keras's ConvNeXt has a `LayerScale` layer with
a γ of `projection_dim` values on the last axis. C parameters (the size of the scaled axis); one
multiply per element, which no tool counts: it is a Python `*` on tensors, not a module they know.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError
from .base import Layer, Result, Tensor, not_counted
from .count import count
from .mapping import Arg, Call, pos
from .params import Param

LAYER_SCALE_TORCH = '''class LayerScale(nn.Module):
    """A learned scale per channel, x · γ (torchvision's ConvNeXt CNBlock.layer_scale); `axis`
    holds the channels."""

    def __init__(self, channels: int, init_values: float = 1e-6, axis: int = 1):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init_values)))
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[self.axis] = -1
        return x * self.gamma.reshape(shape)
'''
LAYER_SCALE_KERAS = '''class LayerScale(keras.layers.Layer):
    """A learned scale per channel, x · γ (Keras's ConvNeXt LayerScale); `axis` holds the
    channels."""

    def __init__(self, init_values, projection_dim, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.init_values, self.projection_dim, self.axis = init_values, projection_dim, axis

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(self.projection_dim,), name="gamma",
                                     initializer=keras.initializers.Constant(self.init_values))

    def call(self, x):
        shape = [1] * len(x.shape)
        shape[self.axis] = -1
        return x * ops.reshape(self.gamma, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim, "axis": self.axis}
'''

TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")


class LayerScale(Layer):
    group = "normalization"
    name = "layer_scale"
    prefix = "layer_scale"
    doc = ("a learned scale per channel, γ · x (torchvision's ConvNeXt CNBlock.layer_scale, Keras ConvNeXt's "
           "LayerScale)")
    params = {
        "init_values": Param("float", 1e-6, aliases=("layer_scale",),
                             doc="γ's initial value (torchvision's layer_scale; no effect on the numbers)"),
        "projection_dim": Param("count", None, aliases=("channels",),
                                doc="Keras: the size of the scaled axis; checked"),
        "axis": Param("int", None, doc="the scaled axis: negative from the end, positive counting the batch axis as "
                                       "0 (default: the channels)"),
    }
    torch_helpers = {"LayerScale": LAYER_SCALE_TORCH}
    keras_helpers = {"LayerScale": LAYER_SCALE_KERAS}
    # A Python `*` of a parameter and a tensor (torchvision's CNBlock, and the exported module): fvcore
    # ignores aten::mul, thop and ptflops hook no such module (ptflops and calflops patch torch.mul and
    # Tensor.mul, which `*` does not call), and torchinfo counts only parameters named weight or bias.
    counting = not_counted(*TOOLS)

    @classmethod
    def index(cls, values: dict[str, Any], x: Tensor, layout: str) -> int:
        """The scaled axis as an index into the sample's dims in the spec's layout."""
        dims = x.dims(layout)
        axis = values["axis"]
        if axis is None:
            return len(dims) - 1 if layout == "channels_last" or x.flat else 0
        index = axis if axis < 0 else axis - 1
        if axis == 0 or not -len(dims) <= index < len(dims):
            raise LayerError(f"axis {axis} does not exist for a tensor of shape {x.text(layout)} (plus the batch "
                             "axis 0)", "invalid-value", key="axis")
        return index % len(dims)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        size = x.dims(layout)[cls.index(values, x, layout)]
        if values["projection_dim"] is not None and values["projection_dim"] != size:
            raise LayerError(f"projection_dim {values['projection_dim']}, but the scaled axis of {x.text(layout)} "
                             f"has {size}; set projection_dim: {size} or leave it out", "shape-mismatch",
                             key="projection_dim")
        return Result(x, count(size, "channels"), ops={"mul": count(x.numel, "elements")})

    @classmethod
    def torch(cls, site):
        x, layout = site.x, site.layout
        index = cls.index(site.values, x, layout)
        if layout == "channels_first" or x.flat:
            axis = index + 1
        else:  # the spec's channels-last axes in PyTorch's channels-first tensor
            axis = 1 if index == len(x.spatial) else index + 2
        return Call("LayerScale", [pos("channels", x.dims(layout)[index]),
                                   Arg("init_values", site.values["init_values"], 1e-6), Arg("axis", axis, 1)])

    @classmethod
    def keras(cls, site):
        x = site.x
        index = cls.index(site.values, x, site.layout)
        n = len(x.dims(site.layout))
        return [("", Call("LayerScale", [pos("init_values", site.values["init_values"]),
                                         pos("projection_dim", x.dims(site.layout)[index]),
                                         Arg("axis", -1 if index == n - 1 else index + 1, -1)]))]


LAYERS = [LayerScale]
