"""Concatenation along the channels (an Inception module's branches): no parameters, no arithmetic."""

from __future__ import annotations

from ..errors import LayerError
from .base import Layer, Result, Tensor, not_counted
from .count import plus
from .mapping import Arg, Call
from .params import Param

CONCAT_TORCH = '''class Concat(nn.Module):
    """Concatenation along the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)
'''


class Concat(Layer):
    group = "merge"
    name = "concat"
    aliases = ("concatenate",)
    prefix = "concat"
    family = "merge"
    doc = "concatenation along channels (Inception)"
    min_inputs, max_inputs = 2, None
    params = {"axis": Param("int", None, aliases=("dim",),
                            doc="the channel axis (default): -1 for channels_last, 1 for channels_first")}
    torch_helpers = {"Concat": CONCAT_TORCH}
    counting = not_counted("fvcore", "thop", "torchinfo", "ptflops", "calflops")  # a copy: no tool counts it

    @classmethod
    def rule(cls, values, inputs, layout):
        first = inputs[0]
        n = len(first.spatial) + 1
        # the channel axis, counted without or with the batch dimension
        channel_axes = {-1, n - 1, n} if layout == "channels_last" or first.flat else {0, 1, -n}
        if values["axis"] is not None and values["axis"] not in channel_axes:
            raise LayerError(f"concat is supported along the channel axis only ({sorted(channel_axes)} here), "
                             f"got axis {values['axis']}", "invalid-value", key="axis")
        for i, t in enumerate(inputs[1:], 1):
            if t.spatial != first.spatial:
                raise LayerError(f"concat needs the same spatial size on every input, got {first.text(layout)} "
                                 f"and {t.text(layout)}; fix the strides or padding of one branch",
                                 "shape-mismatch", key="inputs", inputs=(0, i))
        channels = plus(*(t.c for t in inputs))
        return Result(Tensor(int(channels), first.spatial), sizes={"channels": channels})

    @classmethod
    def torch(cls, site):
        return Call("Concat")

    @classmethod
    def keras(cls, site):
        return [("", Call("layers.Concatenate", [Arg("axis", 1 if site.channels_first and not site.x.flat else -1)]))]


LAYERS = [Concat]
