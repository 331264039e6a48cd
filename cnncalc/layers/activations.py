"""Elementwise activations: one operation per element (see docs/flops.md), shape unchanged.

Each row of the table is a layer type: its name, what it computes, its PyTorch module and its
Keras layer; a parameter maps to the frameworks' argument of the same meaning.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError
from .base import Layer, Result, Stage
from .count import count
from .mapping import Arg, Call, Site, pos
from .params import Param
from .tensor import Tensor

# Keras's `activation=` on a convolution or a dense layer: the layer type it names is applied to the
# layer's output, and counted as that type.
ACTIVATION = {"activation": Param("name", None, aliases=("act",),
                                  doc="an activation applied to the output, as Keras's activation= (relu, "
                                      "sigmoid, softmax, ...; linear: none)")}


class Activation(Layer):
    """An elementwise activation; subclasses are made by `activation()` below."""

    group = "activation"
    family = "activation"
    torch_class: str = ""
    keras_class: str = ""
    keras_activation: str = ""  # layers.Activation("gelu") when there is no dedicated layer
    # spec parameter → (argument name, its default: left out of the code when equal; None: always written)
    keras_name: str = ""  # the name in keras.activations, for `activation=` on another layer
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
    fields.setdefault("keras_name", keras if not keras.startswith("layers.") else name)
    return type(name.title().replace("_", ""), (Activation,), fields)


def with_activation(result: Result, values: dict[str, Any], layout: str) -> Result:
    """`result` with the stage of its layer's `activation` parameter, if it has one."""
    result.then = fused(values, result.shape, layout)
    return result


def fused(values: dict[str, Any], out: Tensor, layout: str) -> tuple[Stage, ...]:
    """The stage a layer's `activation` parameter adds to its output (none for linear or unset)."""
    name = values.get("activation")
    if name is None or name.lower() == "linear":
        return ()
    cls = activation_type(name)
    defaults = {k: p.default for k, p in cls.params.items()}
    return (Stage(cls, cls.rule(defaults, [out], layout).ops),)


def activation_type(name: str) -> type[Layer]:
    """The elementwise activation (or softmax) a layer's `activation` names; LayerError if none."""
    from . import all_types, lookup

    cls = lookup(name)
    if cls is None or not (issubclass(cls, Activation) or cls.name == "softmax"):
        names = ", ".join(n for n, c in all_types().items() if issubclass(c, Activation) or n == "softmax")
        raise LayerError(f"activation {name!r} is not an activation; use one of {names} or linear",
                         "invalid-value", key="activation")
    return cls


def fused_torch(values: dict[str, Any]) -> Call | None:
    """The PyTorch module of a layer's fused activation, to follow the layer in an nn.Sequential."""
    name = values.get("activation")
    if name is None or name.lower() == "linear":
        return None
    cls = activation_type(name)
    defaults = {k: p.default for k, p in cls.params.items()}
    return cls.torch(Site(defaults, [Tensor(1)], Tensor(1), "channels_last"))


def fused_keras(values: dict[str, Any]) -> list[Arg]:
    """Keras's `activation=` argument for a layer's fused activation."""
    name = values.get("activation")
    if name is None or name.lower() == "linear":
        return []
    cls = activation_type(name)
    return [Arg("activation", getattr(cls, "keras_name", "") or cls.name)]


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
