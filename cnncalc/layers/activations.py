"""Elementwise activations: one operation per element (see docs/flops.md), shape unchanged.

Each row of the table is a layer type: its name, what it computes, its PyTorch module and its
Keras layer; a parameter maps to the frameworks' argument of the same meaning.
"""

from __future__ import annotations

from typing import Any

from .base import Layer, Result
from .count import count
from .mapping import Arg, Call, pos
from .params import Param


class Activation(Layer):
    """An elementwise activation; subclasses are made by `activation()` below."""

    group = "activation"
    family = "activation"
    torch_class: str = ""
    keras_class: str = ""
    keras_activation: str = ""  # layers.Activation("gelu") when there is no dedicated layer
    # spec parameter → (argument name, its default: left out of the code when equal; None: always written)
    torch_args: dict[str, tuple[str, Any]] = {}
    keras_args: dict[str, tuple[str, Any]] = {}
    keras_fixed: dict[str, Any] = {}  # e.g. ReLU6 is Keras ReLU(max_value=6.0)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        return Result(x, ops={"act": count(x.numel, "elements")})

    @classmethod
    def torch(cls, site):
        return Call(cls.torch_class, _args(cls.torch_args, site.values))

    @classmethod
    def keras(cls, site):
        if cls.keras_activation:
            return [("", Call("layers.Activation", [pos("activation", cls.keras_activation)]))]
        args = [Arg(k, v) for k, v in cls.keras_fixed.items()] + _args(cls.keras_args, site.values)
        return [("", Call(cls.keras_class, args))]


def _args(table: dict[str, tuple[str, Any]], values: dict[str, Any]) -> list[Arg]:
    return [Arg(arg, values[name]) if default is None else Arg(arg, values[name], default)
            for name, (arg, default) in table.items()]


def activation(name: str, doc: str, torch: str, keras: str, aliases: tuple[str, ...] = (),
               params: dict[str, Param] | None = None, **mapping: Any) -> type[Activation]:
    """One activation type: `keras` is a Keras layer class (`layers.ReLU`) or an activation name for
    `layers.Activation`; `mapping` gives torch_args, keras_args or keras_fixed."""
    fields: dict[str, Any] = {"name": name, "aliases": aliases, "prefix": name, "doc": doc, "params": params or {},
                              "torch_class": torch, **mapping}
    fields["keras_class" if keras.startswith("layers.") else "keras_activation"] = keras
    return type(name.title().replace("_", ""), (Activation,), fields)


LAYERS = [
    activation("relu", "rectified linear unit max(0, x)", "nn.ReLU", "layers.ReLU"),
    activation("relu6", "min(max(0, x), 6) (MobileNet)", "nn.ReLU6", "layers.ReLU", keras_fixed={"max_value": 6.0}),
    activation("leaky_relu", "leaky ReLU", "nn.LeakyReLU", "layers.LeakyReLU", ("leakyrelu",),
               {"negative_slope": Param("float", 0.01, aliases=("alpha",))},
               # Keras's own default slope is 0.3: always write it
               torch_args={"negative_slope": ("negative_slope", 0.01)},
               keras_args={"negative_slope": ("negative_slope", None)}),
    activation("elu", "exponential linear unit", "nn.ELU", "layers.ELU", (), {"alpha": Param("float", 1.0)},
               torch_args={"alpha": ("alpha", 1.0)}, keras_args={"alpha": ("alpha", 1.0)}),
    activation("gelu", "Gaussian error linear unit", "nn.GELU", "gelu"),
    activation("sigmoid", "logistic sigmoid", "nn.Sigmoid", "sigmoid"),
    activation("hardsigmoid", "piecewise-linear sigmoid", "nn.Hardsigmoid", "hard_sigmoid", ("hard_sigmoid",)),
    activation("tanh", "hyperbolic tangent", "nn.Tanh", "tanh"),
    activation("silu", "x·sigmoid(x)", "nn.SiLU", "silu", ("swish",)),
    activation("hardswish", "x·hardsigmoid(x) (MobileNetV3)", "nn.Hardswish", "hard_silu", ("hard_swish",)),
]
