"""Dense, flatten, reshape, padding, dropout, activations and normalisation."""

from __future__ import annotations

import math

from ..errors import LayerError
from .base import RF, LayerType, Out, Param, Tensor, fmt, need_spatial


class Dense(LayerType):
    name = "dense"
    aliases = ("linear", "fc", "fully_connected")
    prefix = "fc"
    doc = "fully connected layer (Keras Dense, torch.nn.Linear)"
    params = {
        "units": Param("count", aliases=("out_features",), doc="output features"),
        "bias": Param("bool", True, aliases=("use_bias",)),
    }

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        if not x.flat:
            raise LayerError(f"dense needs a flat input but gets a spatial tensor of {fmt(x.numel)} values; "
                             "add a `flatten` (or global pooling) layer before it", "dense-needs-flat")
        units = p["units"]
        weights = x.c * units
        biases = units if p["bias"] else 0
        lines = [f"params = {fmt(x.c)} · {fmt(units)}" + (f" + {fmt(units)}" if biases else "")
                 + f" = {fmt(weights + biases)}", f"MACs = {fmt(x.c)} · {fmt(units)} = {fmt(weights)}"] if explain else []
        return Out(Tensor(units), weights + biases, ops={"mac": weights, "bias": biases}, explain=lines,
                   rf=RF.whole())


class Flatten(LayerType):
    name = "flatten"
    prefix = "flatten"
    doc = "flatten to a vector (Keras Flatten, torch.flatten(x, 1))"

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        lines = [f"features = {' · '.join(map(str, (*x.spatial, x.c)))} = {fmt(x.numel)}"] if x.spatial and explain else []
        return Out(Tensor(x.numel), explain=lines, rf=RF.whole() if x.spatial else None)


class Reshape(LayerType):
    name = "reshape"
    prefix = "reshape"
    doc = "reshape (target shape in the spec's layout, one -1 allowed)"
    params = {"shape": Param("shape", aliases=("target_shape",), doc="target shape in the spec's layout")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        shape = list(p["shape"])
        known = math.prod(d for d in shape if d != -1)
        if -1 in shape:
            if x.numel % known:
                raise LayerError(f"cannot reshape {fmt(x.numel)} values into {p['shape']}", "shape-mismatch",
                                 key="shape")
            shape[shape.index(-1)] = x.numel // known
        if math.prod(shape) != x.numel:
            raise LayerError(f"cannot reshape {fmt(x.numel)} values into {list(p['shape'])} "
                             f"({fmt(math.prod(shape))} values)", "shape-mismatch", key="shape")
        if len(shape) > 4:
            raise LayerError("reshape supports at most 3 spatial dims", "invalid-value", key="shape")
        out = Tensor.from_dims(shape, p["__layout__"])
        return Out(out, rf=None if out.spatial == x.spatial else RF.unknown())


class ZeroPad2d(LayerType):
    name = "zero_pad2d"
    aliases = ("zero_padding2d", "pad2d")
    prefix = "pad"
    doc = "zero padding (Keras ZeroPadding2D, torch.nn.ZeroPad2d)"
    params = {"padding": Param("padding", doc="int, [ph, pw] or [top, bottom, left, right]")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        h, w = need_spatial(x, 2, cls.name)
        if p["padding"] == "same":
            raise LayerError("zero_pad2d takes explicit padding, not 'same'", "invalid-value", key="padding")
        (t, b), (left, r) = p["padding"]
        return Out(Tensor(x.c, (h + t + b, w + left + r)), rf=RF((1, 1), (1, 1), (t, left)))


class Identity(LayerType):
    name = "identity"
    prefix = "identity"
    doc = "passes its input through"

    @classmethod
    def infer(cls, p, inputs, explain=False):
        return Out(inputs[0])


class Dropout(Identity):
    name = "dropout"
    prefix = "dropout"
    doc = "dropout (no parameters, shape unchanged)"
    params = {"rate": Param("rate", 0.5, aliases=("p",), doc="drop probability")}


class _Activation(LayerType):
    """Elementwise activation: one operation per element (see docs/flops.md)."""

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        return Out(x, ops={"act": x.numel})


def _activation(name: str, doc: str, aliases: tuple[str, ...] = (), params: dict | None = None) -> type[LayerType]:
    return type(name.title().replace("_", ""), (_Activation,), {
        "name": name, "aliases": aliases, "prefix": name, "doc": doc, "params": params or {}})


class Softmax(LayerType):
    name = "softmax"
    prefix = "softmax"
    doc = "softmax (exp, sum, divide per element)"
    params = {"axis": Param("int", -1, aliases=("dim",),
                            doc="axis normalised over: negative from the end, positive counting the batch axis as 0")}

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        dims = x.dims(p["__layout__"])
        axis = p["axis"]
        # -1 is the last axis; 1.. count the batch dimension as 0, as Keras and torch.nn.Softmax(dim) do
        index = axis if axis < 0 else axis - 1
        if not -len(dims) <= index < len(dims) or axis == 0:
            raise LayerError(f"softmax axis {axis} does not exist for a tensor of shape "
                             f"{x.text(p['__layout__'])} (plus the batch axis 0)", "invalid-value", key="axis")
        n = x.numel
        groups = n // dims[index]  # one normalisation (one sum) per group
        return Out(x, ops={"exp": n, "add": n - groups, "div": n},
                   explain=[f"softmax over axis {axis} (size {dims[index]}): {fmt(groups)} group(s); "
                            f"{fmt(n)} exps, {fmt(n - groups)} adds, {fmt(n)} divides"] if explain else None)


class BatchNorm(LayerType):
    name = "batch_norm"
    aliases = ("batchnorm", "bn", "batch_normalization", "batchnorm2d")
    prefix = "bn"
    doc = "batch normalisation: γ, β trainable; moving mean and variance non-trainable"
    params = {
        "eps": Param("float", 1e-5, aliases=("epsilon",)),
        "momentum": Param("float", 0.1),
        "affine": Param("bool", True, doc="learn γ and β (Keras center/scale)"),
    }

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        c = x.c
        trainable = 2 * c if p["affine"] else 0
        lines = [f"trainable = 2 · {c} (γ, β) = {trainable}" if trainable else "trainable = 0 (affine: false)",
                 f"non-trainable = 2 · {c} (moving mean, variance) = {2 * c}"] if explain else None
        # inference cost: normalise-and-scale folds into one multiply and one add per element
        n = x.numel
        return Out(x, trainable, 2 * c, {"mul": n, "add": n}, None, lines)


class LocalResponseNorm(LayerType):
    name = "local_response_norm"
    aliases = ("lrn", "norm")
    prefix = "norm"
    doc = "local response normalisation across channels (AlexNet's NORM, torch.nn.LocalResponseNorm)"
    params = {
        "size": Param("count", 5, aliases=("depth_radius",), doc="channels in the window"),
        "alpha": Param("float", 1e-4),
        "beta": Param("float", 0.75),
        "k": Param("float", 1.0, aliases=("bias",)),
    }

    @classmethod
    def infer(cls, p, inputs, explain=False):
        x = inputs[0]
        n, s = x.numel, p["size"]
        # per element: `size` squares summed, then ·alpha, +k, **beta and one divide
        return Out(x, ops={"mul": n * (s + 1), "add": n * s, "pow": n, "div": n})


ACTIVATIONS = [
    _activation("relu", "rectified linear unit max(0, x)"),
    _activation("relu6", "min(max(0, x), 6) (MobileNet)"),
    _activation("leaky_relu", "leaky ReLU", ("leakyrelu",),
                {"negative_slope": Param("float", 0.01, aliases=("alpha",))}),
    _activation("elu", "exponential linear unit", (), {"alpha": Param("float", 1.0)}),
    _activation("gelu", "Gaussian error linear unit"),
    _activation("sigmoid", "logistic sigmoid"),
    _activation("hardsigmoid", "piecewise-linear sigmoid", ("hard_sigmoid",)),
    _activation("tanh", "hyperbolic tangent"),
    _activation("silu", "x·sigmoid(x)", ("swish",)),
    _activation("hardswish", "x·hardsigmoid(x) (MobileNetV3)", ("hard_swish",)),
]

LAYERS = [Dense, Flatten, Reshape, ZeroPad2d, Dropout, Identity, Softmax, BatchNorm, LocalResponseNorm,
          *ACTIVATIONS]
