"""Local response normalisation across channels (AlexNet's NORM, torch.nn.LocalResponseNorm):
x / (k + α/size · Σ x² over `size` neighbouring channels)^β. Per element: `size` squares summed,
then ·α, +k, a power and one divide."""

from __future__ import annotations

from .base import Layer, Result, not_counted
from .count import count, plus, times
from .mapping import Arg, Call, pos
from .params import Param

LRN_KERAS = '''class LocalResponseNorm(keras.layers.Layer):
    """PyTorch's LocalResponseNorm: x / (k + alpha/size * (sum of x² over `size` channels))^beta."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=1.0, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k, self.axis = size, alpha, beta, k, axis

    def call(self, x):
        sq = ops.moveaxis(ops.square(x), self.axis, -1)
        c = sq.shape[-1]
        sq = ops.pad(sq, [(0, 0)] * (len(sq.shape) - 1) + [(self.size // 2, (self.size - 1) // 2)])
        window = sum(sq[..., i:i + c] for i in range(self.size))
        div = ops.power(self.k + self.alpha / self.size * window, self.beta)
        return x / ops.moveaxis(div, -1, self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta,
                "k": self.k, "axis": self.axis}
'''


class LocalResponseNorm(Layer):
    group = "normalization"
    name = "local_response_norm"
    aliases = ("lrn", "norm")
    prefix = "norm"
    family = "lrn"
    doc = "local response normalisation across channels (AlexNet's NORM, torch.nn.LocalResponseNorm)"
    params = {
        # not TensorFlow's depth_radius: that is a half-width (size 2·r + 1) with an alpha not divided by size
        "size": Param("count", 5, doc="channels in the window"),
        "alpha": Param("float", 1e-4),
        "beta": Param("float", 0.75),
        "k": Param("float", 1.0, aliases=("bias",)),
    }
    keras_helpers = {"LocalResponseNorm": LRN_KERAS}
    # fvcore has no handle for the aten ops F.local_response_norm runs, thop no hook for the module,
    # torchinfo no weights to count: AlexNet's totals in these tools leave LRN out.
    counting = not_counted("fvcore", "thop", "torchinfo")

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        n, s = count(x.numel, "elements"), values["size"]
        return Result(x, ops={"mul": times(n, plus(s, 1)), "add": times(n, s), "pow": n, "div": n})

    @classmethod
    def torch(cls, site):
        values = site.values
        return Call("nn.LocalResponseNorm", [pos("size", values["size"]), Arg("alpha", values["alpha"], 1e-4),
                                             Arg("beta", values["beta"], 0.75), Arg("k", values["k"], 1.0)])

    @classmethod
    def keras(cls, site):
        values = site.values
        return [("", Call("LocalResponseNorm", [Arg("size", values["size"]), Arg("alpha", values["alpha"]),
                                                Arg("beta", values["beta"]), Arg("k", values["k"]),
                                                Arg("axis", 1 if site.channels_first else -1)]))]


LAYERS = [LocalResponseNorm]
