"""Elementwise activations: one operation per element (see docs/flops.md), shape unchanged.

Each row of the table is a layer type: its name, what it computes, its PyTorch module and its
Keras layer or `keras.activations` function; a parameter maps to the frameworks' argument of the
same meaning. Where a tool preset counts nothing for an activation, the type says so (`Uncounted`),
as measured with each tool on the PyTorch module (tests/test_conventions_oracle_activations.py).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError, Unsupported
from .base import Layer, Result, Stage, Uncounted
from .count import count, volume
from .mapping import Arg, Call, Site, pos
from .params import Param
from .tensor import Tensor

# Keras's `activation=` on a convolution or a dense layer: the layer type it names is applied to the
# layer's output, and counted as that type.
ACTIVATION = {"activation": Param("name", None, aliases=("act",),
                                  doc="an activation applied to the output, as Keras's activation= (relu, "
                                      "sigmoid, softmax, ...; linear: none)")}

INPLACE = {"inplace": Param("bool", False, doc="PyTorch's inplace= (changes no count)")}

# The tool presets of cnncalc.conventions, which count what a real tool reports.
TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")


def uncounted(torch_class: str, counted_by: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """`Layer.counting` for the tool presets that count nothing for `torch_class` (every tool but
    `counted_by`, whose rule is in conventions.py's tables or the type's own `counting`)."""
    why = {"fvcore": f"fvcore counts no operation of {torch_class}",
           "thop": f"thop counts nothing for {torch_class}",
           "torchinfo": f"torchinfo counts weights used per output, and {torch_class} has none",
           "ptflops": f"ptflops neither hooks {torch_class} nor patches the function it calls",
           "calflops": f"calflops patches no function {torch_class} calls"}
    # calflops's MACs are conv/dense only by definition; the FLOPs are what it would count
    return {tool: {"flops" if tool == "calflops" else "macs": Uncounted(why[tool])}
            for tool in TOOLS if tool not in counted_by}


ACTIVATION_FUNCTION_KERAS = '''class ActivationFunction(keras.layers.Layer):
    """keras.activations.<function> with arguments, which layers.Activation cannot pass on."""

    def __init__(self, function, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.arguments = function, dict(arguments or {})

    def call(self, x):
        return getattr(keras.activations, self.function)(x, **self.arguments)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "function": self.function, "arguments": self.arguments}
'''


class Activation(Layer):
    """An elementwise activation; subclasses are made by `activation()` below."""

    group = "activation"
    family = "activation"
    torch_class: str = ""
    keras_class: str = ""  # a Keras layer (layers.ReLU), else the function `keras_name` is applied
    # spec parameter → (argument name, its default: left out of the code when equal; None: always written)
    torch_args: dict[str, tuple[str, Any]] = {}
    keras_args: dict[str, tuple[str, Any]] = {}
    keras_fixed: dict[str, Any] = {}  # e.g. ReLU6 is Keras ReLU(max_value=6.0)
    # spec parameter → (the only value Keras computes, what to say otherwise)
    keras_only: dict[str, tuple[Any, str]] = {}
    keras_helpers = {"ActivationFunction": ACTIVATION_FUNCTION_KERAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        return Result(x, ops={"act": count(x.numel, "elements")})

    @classmethod
    def torch(cls, site):
        return Call(cls.torch_class, _args(cls.torch_args, site.values))

    @classmethod
    def keras(cls, site):
        for pname, (only, why) in cls.keras_only.items():
            if site.values[pname] != only:
                raise Unsupported(f"{pname} {site.values[pname]!r}: {why}")
        args = _args(cls.keras_args, site.values)
        if cls.keras_class:
            return [("", Call(cls.keras_class, [Arg(k, v) for k, v in cls.keras_fixed.items()] + args))]
        if any(a.value != a.default for a in args):
            return [("", function_call(cls.keras_name, {a.name: a.value for a in args}))]
        return [("", Call("layers.Activation", [pos("activation", cls.keras_name)]))]


def function_call(function: str, arguments: dict[str, Any]) -> Call:
    """cnncalc's Keras layer ActivationFunction: keras.activations.<function>(x, **arguments), the
    arguments one dict so that its config (and a saved .keras archive) keeps them apart from the layer's own."""
    return Call("ActivationFunction", [pos("function", function), Arg("arguments", arguments)])


def _args(table: dict[str, tuple[str, Any]], values: dict[str, Any]) -> list[Arg]:
    return [Arg(arg, values[name]) if default is None else Arg(arg, values[name], default)
            for name, (arg, default) in table.items()]


def activation(name: str, doc: str, torch: str, keras: str, aliases: tuple[str, ...] = (),
               params: dict[str, Param] | None = None, inplace: bool = False, counted_by: tuple[str, ...] = (),
               base: type[Activation] = Activation, **mapping: Any) -> type[Activation]:
    """One activation type: `keras` is a Keras layer class (`layers.ReLU`) or a function of
    keras.activations; `inplace`: PyTorch's module takes inplace=; `counted_by`: the tool presets
    that count it (by the rule for its name in conventions.py); `mapping` gives torch_args,
    keras_args, keras_fixed or keras_only."""
    params = {**(params or {}), **(INPLACE if inplace else {})}
    fields: dict[str, Any] = {"name": name, "aliases": aliases, "prefix": name, "doc": doc, "params": params,
                              "torch_class": torch, "counting": uncounted(torch, counted_by), **mapping}
    if inplace:
        fields["torch_args"] = {**mapping.get("torch_args", {}), "inplace": ("inplace", False)}
    if keras.startswith("layers."):
        fields["keras_class"] = keras
        fields.setdefault("keras_name", name)
    else:
        fields["keras_name"] = keras
    return type(name.title().replace("_", ""), (base,), fields)


class GeluMapping(Activation):
    """GELU: Keras's gelu takes approximate=True for PyTorch's approximate="tanh"."""

    @classmethod
    def keras(cls, site):
        if site.values["approximate"] == "tanh":
            return [("", function_call("gelu", {"approximate": True}))]
        return [("", Call("layers.Activation", [pos("activation", "gelu")]))]


class PRelu(Activation):
    """PReLU: max(0, x) + a·min(0, x) with learned slopes a.

    PyTorch learns one slope (its default) or one per channel (num_parameters); Keras one per element
    of the input unless `shared_axes` share them. cnncalc follows PyTorch's default: one slope."""

    name = "prelu"
    prefix = "prelu"
    doc = ("ReLU with learned negative slopes: one (PyTorch's default), one per channel (num_parameters = "
           "channels) or, as Keras, one per element of the axes not in shared_axes")
    torch_class = "nn.PReLU"
    keras_class = "layers.PReLU"
    params = {
        "num_parameters": Param("count", None, doc="PyTorch: 1 or the number of channels (default 1)"),
        "shared_axes": Param("axes", None, doc="Keras: the axes sharing one slope, batch axis 0 "
                                               "([] learns one slope per element, Keras's default)"),
        "init": Param("float", 0.25, doc="the slopes' initial value (PyTorch)"),
    }
    counting = {**uncounted("nn.PReLU", ("torchinfo", "ptflops", "thop", "calflops")),
                "torchinfo": {"macs": {"params": 1}},  # a non-conv module: its weights once per sample
                "ptflops": {"macs": {"out": 2}},  # hooked as nn.PReLU and patched as F.prelu
                "thop": {"macs": {"out": 1}},
                "calflops": {"flops": {"out": 1}}}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        dims = x.dims(layout)
        shared = _shared_axes(values, x, layout)
        slopes = volume(*(d for axis, d in enumerate(dims, 1) if axis not in shared), label="slopes")
        return Result(x, slopes, ops={"act": count(x.numel, "elements")})

    @classmethod
    def torch(cls, site):
        n = math.prod(d for axis, d in enumerate(site.x.dims(site.layout), 1)
                      if axis not in _shared_axes(site.values, site.x, site.layout))
        if n not in (1, site.x.c):
            raise Unsupported(f"PyTorch's PReLU learns one slope or one per channel, not {n:,}")
        return Call("nn.PReLU", [Arg("num_parameters", n, 1), Arg("init", site.values["init"], 0.25)])

    @classmethod
    def keras(cls, site):
        shared = _shared_axes(site.values, site.x, site.layout)
        return [("", Call("layers.PReLU", [Arg("alpha_initializer", Call("keras.initializers.Constant",
                                                                         [pos("value", site.values["init"])])),
                                           Arg("shared_axes", list(shared), [])]))]


def _shared_axes(values: dict[str, Any], x: Tensor, layout: str) -> tuple[int, ...]:
    """The axes (batch = 0) that share one slope, from either framework's argument; checked."""
    rank = len(x.dims(layout))
    every = tuple(range(1, rank + 1))
    if values["num_parameters"] is not None and values["shared_axes"] is not None:
        raise LayerError("give num_parameters (PyTorch) or shared_axes (Keras), not both", "invalid-value",
                         key="shared_axes")
    if values["shared_axes"] is not None:
        wrong = [a for a in values["shared_axes"] if a > rank]
        if wrong:
            raise LayerError(f"shared_axes {list(values['shared_axes'])}: the input {x.text(layout)} has axes "
                             f"1 to {rank} (0 is the batch)", "invalid-value", key="shared_axes")
        return values["shared_axes"]
    n = values["num_parameters"] or 1
    if n == 1:
        return every
    if n != x.c:
        raise LayerError(f"num_parameters {n}, but its input has {x.c} channels; use 1 or {x.c}",
                         "shape-mismatch", key="num_parameters")
    channel = rank if layout == "channels_last" or x.flat else 1
    return tuple(a for a in every if a != channel)


ALPHA = {"alpha": Param("float", 1.0)}
SHRINK = {"lambd": Param("float", 0.5, aliases=("threshold",), doc="λ: the half-width of the zeroed band")}

LAYERS = [
    activation("relu", "rectified linear unit max(0, x)", "nn.ReLU", "layers.ReLU", inplace=True,
               counted_by=("ptflops", "calflops")),
    activation("relu6", "min(max(0, x), 6) (MobileNet)", "nn.ReLU6", "layers.ReLU", inplace=True,
               counted_by=("ptflops",), keras_fixed={"max_value": 6.0}),
    activation("leaky_relu", "leaky ReLU", "nn.LeakyReLU", "layers.LeakyReLU", ("leakyrelu",),
               {"negative_slope": Param("float", 0.01, aliases=("alpha",))}, inplace=True,
               counted_by=("ptflops", "calflops"),
               # Keras's own default slope is 0.3: always write it
               torch_args={"negative_slope": ("negative_slope", 0.01)},
               keras_args={"negative_slope": ("negative_slope", None)}),
    PRelu,
    activation("elu", "exponential linear unit", "nn.ELU", "layers.ELU", (), ALPHA, inplace=True,
               counted_by=("ptflops", "calflops"),
               torch_args={"alpha": ("alpha", 1.0)}, keras_args={"alpha": ("alpha", 1.0)}),
    activation("selu", "scaled exponential linear unit (self-normalising)", "nn.SELU", "selu", inplace=True),
    activation("celu", "continuously differentiable ELU", "nn.CELU", "celu", (), ALPHA, inplace=True,
               torch_args={"alpha": ("alpha", 1.0)}, keras_args={"alpha": ("alpha", 1.0)}),
    activation("gelu", "Gaussian error linear unit", "nn.GELU", "gelu", (),
               {"approximate": Param("choice", "none", choices=("none", "tanh"),
                                     doc="none (the erf form) or tanh (the tanh approximation)")},
               counted_by=("ptflops", "calflops"), base=GeluMapping, torch_args={"approximate": ("approximate", "none")}),
    activation("sigmoid", "logistic sigmoid", "nn.Sigmoid", "sigmoid"),
    activation("hardsigmoid", "piecewise-linear sigmoid relu6(x + 3)/6", "nn.Hardsigmoid", "hard_sigmoid",
               ("hard_sigmoid",), inplace=True),
    activation("log_sigmoid", "log(sigmoid(x))", "nn.LogSigmoid", "log_sigmoid"),
    activation("tanh", "hyperbolic tangent", "nn.Tanh", "tanh"),
    activation("hardtanh", "clip to [min_val, max_val]", "nn.Hardtanh", "hard_tanh", (),
               {"min_val": Param("float", -1.0), "max_val": Param("float", 1.0)}, inplace=True,
               torch_args={"min_val": ("min_val", -1.0), "max_val": ("max_val", 1.0)},
               keras_only={"min_val": (-1.0, "Keras's hard_tanh clips to [-1, 1] only"),
                           "max_val": (1.0, "Keras's hard_tanh clips to [-1, 1] only")}),
    activation("silu", "x·sigmoid(x)", "nn.SiLU", "silu", ("swish",), inplace=True,
               counted_by=("ptflops", "calflops")),
    activation("hardswish", "x·hardsigmoid(x) (MobileNetV3)", "nn.Hardswish", "hard_silu",
               ("hard_swish", "hard_silu"), inplace=True),
    activation("mish", "x·tanh(softplus(x))", "nn.Mish", "mish", inplace=True),
    activation("softplus", "log(1 + exp(β·x))/β", "nn.Softplus", "softplus", (),
               {"beta": Param("float", 1.0, doc="β"),
                "threshold": Param("float", 20.0, doc="linear above β·x > threshold (PyTorch)")},
               torch_args={"beta": ("beta", 1.0), "threshold": ("threshold", 20.0)},
               keras_only={"beta": (1.0, "Keras's softplus has no β"),
                           "threshold": (20.0, "Keras's softplus has no linear threshold")}),
    activation("softsign", "x/(1 + |x|)", "nn.Softsign", "softsign"),
    activation("tanhshrink", "x − tanh(x)", "nn.Tanhshrink", "tanh_shrink"),
    activation("hardshrink", "x where |x| > λ, else 0", "nn.Hardshrink", "hard_shrink", (), SHRINK,
               torch_args={"lambd": ("lambd", 0.5)}, keras_args={"lambd": ("threshold", 0.5)}),
    activation("softshrink", "x − λ·sign(x) where |x| > λ, else 0", "nn.Softshrink", "soft_shrink", (), SHRINK,
               torch_args={"lambd": ("lambd", 0.5)}, keras_args={"lambd": ("threshold", 0.5)}),
    activation("threshold", "x where x > threshold, else value", "nn.Threshold", "threshold", (),
               {"threshold": Param("float", doc="the threshold"),
                "value": Param("float", aliases=("default_value",), doc="the value below it")}, inplace=True,
               torch_args={"threshold": ("threshold", None), "value": ("value", None)},
               keras_args={"threshold": ("threshold", None), "value": ("default_value", None)}),
]


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
    return (Stage(cls, cls.rule(_defaults(cls), [out], layout).ops),)


def _defaults(cls: type[Layer]) -> dict[str, Any]:
    return {k: p.default for k, p in cls.params.items()}


def activation_type(name: str) -> type[Layer]:
    """The activation (or softmax) a layer's `activation` names, as Keras's activation= would; LayerError
    if it names none, or one that is no function of keras.activations (PReLU learns weights)."""
    from . import all_types, lookup

    cls = lookup(name)
    if cls is None or not _fusable(cls):
        names = ", ".join(n for n, c in all_types().items() if _fusable(c))
        what = "is not an activation" if cls is None or cls.group != "activation" else \
            "is no activation function of Keras"
        raise LayerError(f"activation {name!r} {what}; use one of {names} or linear", "invalid-value",
                         key="activation")
    return cls


def _fusable(cls: type[Layer]) -> bool:
    """A function of keras.activations without required arguments."""
    return bool(cls.keras_name) and not any(p.required for p in cls.params.values())


def keras_functions(fusable: bool = False) -> dict[str, str]:
    """keras.activations function name → the spec type declaring it (`fusable`: only those Keras's
    activation= can name, without required arguments)."""
    from . import all_types

    return {cls.keras_name: name for name, cls in all_types().items()
            if getattr(cls, "keras_name", "") and (not fusable or _fusable(cls))}


def fused_torch(values: dict[str, Any]) -> Call | None:
    """The PyTorch module of a layer's fused activation, to follow the layer in an nn.Sequential."""
    name = values.get("activation")
    if name is None or name.lower() == "linear":
        return None
    cls = activation_type(name)
    return cls.torch(Site(_defaults(cls), [Tensor(1)], Tensor(1), "channels_last"))


def fused_keras(values: dict[str, Any]) -> list[Arg]:
    """Keras's `activation=` argument for a layer's fused activation."""
    name = values.get("activation")
    if name is None or name.lower() == "linear":
        return []
    return [Arg("activation", activation_type(name).keras_name)]
