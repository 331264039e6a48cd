"""Keras 3 code generation: a functional model whose layer names are the spec's, dots as `_`.

The model keeps the spec's layout: a channels_first spec gets `data_format="channels_first"` on
every spatial layer (Keras 3 supports it on the torch and jax backends). Where one spec layer
needs several Keras layers (explicit padding, per-position bias, a channel-wise scale), the extra
ones are named `<name>__<role>` and belong to that layer when verifying.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import Errors, Exported, Unsupported, explicit_padding, header, tensors
from .code import WIDTH, Arg, Call, lit, pos, render, size
from .structure import Item, plan

if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult
    from ..layers import Tensor

A = Arg


class Code:
    """Source text used as an argument value (e.g. DATA_FORMAT)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


ACTIVATIONS = {"relu": ("ReLU", None), "relu6": ("ReLU", 6.0), "gelu": ("Activation", "gelu"),
               "sigmoid": ("Activation", "sigmoid"), "hardsigmoid": ("Activation", "hard_sigmoid"),
               "tanh": ("Activation", "tanh"), "silu": ("Activation", "silu"),
               "hardswish": ("Activation", "hard_silu"), "identity": ("Identity", None)}

HELPERS = {
    "PerPositionBias": '''class PerPositionBias(keras.layers.Layer):
    """A learned bias for every output position and channel (AlphaGo's last layer)."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="bias")

    def call(self, x):
        return x + self.bias
''',
    "LocalResponseNorm": '''class LocalResponseNorm(keras.layers.Layer):
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
''',
    "ConstantPadding2D": '''class ConstantPadding2D(keras.layers.Layer):
    """Pads height and width with `value` (-inf: max pooling ignores the padding, as in PyTorch)."""

    def __init__(self, padding, value=0.0, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.padding, self.value, self.data_format = tuple(map(tuple, padding)), value, data_format

    def _pads(self):
        none = [(0, 0)]
        return none * 2 + list(self.padding) if self.data_format == "channels_first" else (
            none + list(self.padding) + none)

    def call(self, x):
        return ops.pad(x, self._pads(), constant_values=self.value)

    def compute_output_shape(self, input_shape):
        pads = self._pads()
        return tuple(None if d is None else d + sum(pads[i]) for i, d in enumerate(input_shape))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "value": self.value,
                "data_format": self.data_format}
''',
}


def kname(name: str) -> str:
    """The Keras layer name of a spec layer (Keras on torch refuses dots in names)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class _Leaf:
    """Keras layers for one spec layer: (role, call) in order; role "" is the named layer itself."""

    def __init__(self, layer: LayerResult, ts: dict[str, Tensor], layout: str):
        self.layer, self.ts, self.layout = layer, ts, layout
        self.cf = layout == "channels_first"
        self.df = [A("data_format", Code("DATA_FORMAT"))] if self.cf else []
        self.helpers: set[str] = set()

    def calls(self) -> list[tuple[str, Call]]:
        layer, p, t = self.layer, self.layer.spec.params, self.layer.type
        x = self.ts[layer.inputs[0]]
        if t in ("conv2d", "conv1d", "depthwise_conv2d", "separable_conv2d"):
            return self.conv(x)
        if t == "conv_transpose2d":
            return self.deconv(x)
        if t in ("max_pool2d", "avg_pool2d"):
            return self.pool(x)
        if t in ("global_avg_pool2d", "global_max_pool2d"):
            func = "GlobalAveragePooling2D" if t == "global_avg_pool2d" else "GlobalMaxPooling2D"
            return [("", Call(f"layers.{func}", [A("keepdims", p["keepdims"], False), *self.df]))]
        if t == "adaptive_avg_pool2d":
            (h, w), (oh, ow) = x.spatial, p["output_size"]
            if (oh, ow) == (1, 1):
                return [("", Call("layers.GlobalAveragePooling2D", [A("keepdims", True), *self.df]))]
            if h % oh == 0 and w % ow == 0:
                return [("", Call("layers.AveragePooling2D", [pos("pool_size", size((h // oh, w // ow))), *self.df]))]
            return [("", Call("layers.AdaptiveAveragePooling2D", [pos("output_size", size((oh, ow))), *self.df]))]
        if t == "flatten":
            return [("", Call("layers.Flatten"))]
        if t == "dense":
            return [("", Call("layers.Dense", [pos("units", p["units"]), A("use_bias", p["bias"], True)]))]
        if t == "dropout":
            return [("", Call("layers.Dropout", [pos("rate", p["rate"])]))]
        if t in ACTIVATIONS:
            func, arg = ACTIVATIONS[t]
            args = [] if arg is None else [A("max_value", arg)] if func == "ReLU" else [pos("activation", arg)]
            return [("", Call(f"layers.{func}", args))]
        if t == "leaky_relu":
            return [("", Call("layers.LeakyReLU", [A("negative_slope", p["negative_slope"])]))]
        if t == "elu":
            return [("", Call("layers.ELU", [A("alpha", p["alpha"], 1.0)]))]
        if t == "softmax":
            axis = p["axis"]
            if x.flat or (not self.cf and axis == -1):
                axis = -1
            return [("", Call("layers.Softmax", [A("axis", axis, -1)]))]
        if t == "batch_norm":
            axis = 1 if self.cf and not x.flat else -1
            return [("", Call("layers.BatchNormalization", [
                A("axis", axis, -1), A("epsilon", p["eps"]), A("momentum", round(1 - p["momentum"], 10)),
                A("center", p["affine"], True), A("scale", p["affine"], True)]))]
        if t == "local_response_norm":
            self.helpers.add("LocalResponseNorm")
            return [("", Call("LocalResponseNorm", [
                A("size", p["size"]), A("alpha", p["alpha"]), A("beta", p["beta"]), A("k", p["k"]),
                A("axis", 1 if self.cf else -1)]))]
        if t == "add":
            return [("", Call("layers.Add"))]
        if t == "concat":
            return [("", Call("layers.Concatenate", [A("axis", 1 if self.cf and not x.flat else -1)]))]
        if t == "multiply":
            return [("", Call("layers.Multiply"))]
        if t == "reshape":
            return [("", Call("layers.Reshape", [pos("target_shape", tuple(layer.tensor.dims(self.layout)))]))]
        if t == "zero_pad2d":
            return [("", Call("layers.ZeroPadding2D", [pos("padding", tuple(p["padding"])), *self.df]))]
        raise Unsupported(f"layer type {t} has no Keras export")

    def _pad(self, pads: list[tuple[int, int]]) -> tuple[str, Call]:
        if len(pads) == 1:
            return "pad", Call("layers.ZeroPadding1D", [pos("padding", pads[0]), *self.df])
        return "pad", Call("layers.ZeroPadding2D", [pos("padding", tuple(pads)), *self.df])

    def conv(self, x: Tensor) -> list[tuple[str, Call]]:
        p, t = self.layer.spec.params, self.layer.type
        nd = len(x.spatial)
        if max(p["stride"]) > 1 and max(p["dilation"]) > 1:
            raise Unsupported("stride > 1 together with dilation > 1 (Keras convolutions refuse it)")
        out: list[tuple[str, Call]] = []
        pads = explicit_padding(p, x.spatial)
        if p["padding"] == "same":
            padding = "same"
        else:
            padding = "valid"
            if any(b or e for b, e in pads):
                out.append(self._pad(pads))
        per_position = p["bias"] == "per_position"
        common = [pos("kernel_size", size(p["kernel"])), A("strides", size(p["stride"]), 1),
                  A("padding", padding, "valid"), *self.df, A("dilation_rate", size(p["dilation"]), 1)]
        bias = [A("use_bias", p["bias"] is True, True)]
        if t == "depthwise_conv2d":
            conv = Call("layers.DepthwiseConv2D", [*common, A("depth_multiplier", p["depth_multiplier"], 1), *bias])
        elif t == "separable_conv2d":
            conv = Call("layers.SeparableConv2D", [pos("filters", p["filters"]), *common,
                                                   A("depth_multiplier", p["depth_multiplier"], 1), *bias])
        else:
            conv = Call(f"layers.Conv{nd}D", [pos("filters", p["filters"]), *common, A("groups", p["groups"], 1),
                                              *bias])
        out.append(("conv" if per_position else "", conv))
        if per_position:
            self.helpers.add("PerPositionBias")
            out.append(("", Call("PerPositionBias")))
        return out

    def deconv(self, x: Tensor) -> list[tuple[str, Call]]:
        p = self.layer.spec.params
        if p["groups"] != 1:
            raise Unsupported("groups on conv_transpose2d (Keras Conv2DTranspose has no groups)")
        common = [pos("filters", p["filters"]), pos("kernel_size", size(p["kernel"])),
                  A("strides", size(p["stride"]), 1)]
        tail = [*self.df, A("dilation_rate", size(p["dilation"]), 1), A("use_bias", p["bias"], True)]
        if p["padding"] == "same":
            if any(p["output_padding"]):
                raise Unsupported("output_padding with padding 'same' on conv_transpose2d")
            return [("", Call("layers.Conv2DTranspose", [*common, A("padding", "same"), *tail]))]
        # Keras has no explicit padding here: a VALID transposed conv, then crop what PyTorch's padding removes
        pads = list(p["padding"])
        conv = Call("layers.Conv2DTranspose", [*common, A("output_padding", size(p["output_padding"])), *tail])
        if not any(b or e for b, e in pads):
            return [("", conv)]
        return [("conv", conv), ("", Call("layers.Cropping2D", [pos("cropping", tuple(pads)), *self.df]))]

    def pool(self, x: Tensor) -> list[tuple[str, Call]]:
        p, t = self.layer.spec.params, self.layer.type
        kernel, stride = p["kernel"], p["stride"] or p["kernel"]
        is_max = t == "max_pool2d"
        if is_max and max(p["dilation"]) > 1:
            raise Unsupported("dilation on max_pool2d (Keras pooling has no dilation)")
        func = "layers.MaxPooling2D" if is_max else "layers.AveragePooling2D"
        common = [pos("pool_size", size(kernel)), A("strides", size(stride))]
        if p["padding"] == "same":
            return [("", Call(func, [*common, A("padding", "same"), *self.df]))]
        pads = []
        for (b, e), i, k, s, o in zip(p["padding"], x.spatial, kernel, stride, self.layer.tensor.spatial,
                                          strict=True):
            extra = max(0, (o - 1) * s + k - (i + b + e))  # ceil_mode's last, partial window
            pads.append((b, e + extra))
        out: list[tuple[str, Call]] = []
        if pads != list(p["padding"]) and not is_max:
            raise Unsupported("ceil_mode on avg_pool2d (Keras has no ceil_mode, and padding would change the "
                              "averages)")
        if any(b or e for b, e in pads):
            if is_max:  # PyTorch's max pooling never picks the padding: pad with -inf
                self.helpers.add("ConstantPadding2D")
                out.append(("pad", Call("ConstantPadding2D", [pos("padding", tuple(pads)),
                                                              A("value", float("-inf")), *self.df])))
            elif p["count_include_pad"]:
                out.append(self._pad(pads))
            else:
                raise Unsupported("avg_pool2d padding with count_include_pad: false (Keras pads only with SAME)")
        return out + [("", Call(func, [*common, *self.df]))]


def _model_name(a: Analysis) -> str:
    from pathlib import Path

    return kname(Path(a.file).stem) or "model"


def generate(a: Analysis, source: str) -> Exported:
    ts = tensors(a)
    errors = Errors("Keras")
    leaves = [Item(kname(layer.name), layer.name, "leaf", [layer.name], list(layer.inputs), layer.name, i, layer)
              for i, layer in enumerate(a.layers)]
    root = Item("", "", "group", [it.path for it in leaves], ["input"], a.network.output, 0, children=leaves)
    prelude, steps, ret = plan(root, "inputs")
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    helpers: set[str] = set()
    lines = list(prelude)
    for var, it, args in steps:
        layer = it.layer
        assert layer is not None
        name = kname(layer.name)
        if name in seen:
            errors.add(layer, Unsupported(f"its Keras name {name!r} is also the name of {seen[name]!r}; rename one"))
        seen[name] = layer.name
        names[layer.name] = name
        gen = _Leaf(layer, ts, a.layout)
        try:
            calls = gen.calls()
        except Unsupported as exc:
            errors.add(layer, exc)
            continue
        helpers |= gen.helpers
        if layer.type == "multiply":
            args = _channel_scales(layer, ts, a.layout, args, var, name, lines)
        for j, (role, call) in enumerate(calls):
            call.args.append(Arg("name", name + (f"__{role}" if role else "")))
            srcs = args if j == 0 else [var]
            src = srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]"
            lead = f"{var} = "
            line = f"{lead}{render(call, {}, 4, len(lead) + len(src) + 2)}({src})"
            if len(line.splitlines()[-1]) + 4 > WIDTH:  # a long list of inputs: one per line
                line = line[:-len(src) - 2] + "(\n    [\n" + "".join(f"        {v},\n" for v in srcs) + "    ]\n)"
            lines.append(line)
    errors.raise_if_any()
    in_shape = a.network.input.dims(a.layout)
    out_shape = a.layers[-1].tensor.dims(a.layout) if a.layers else in_shape
    parts = [header(a, source, "keras", "Keras 3 functional model")
             + f"\nInput: (N, {', '.join(map(str, in_shape))}) {a.layout}; output: (N, "
             f"{', '.join(map(str, out_shape))}).\nLayer names are the spec's, with `_` for `.`.\n"
             '"""\n\nimport keras\n' + ("from keras import layers, ops\n" if helpers - {"PerPositionBias"}
                                         else "from keras import layers\n")]
    if a.layout == "channels_first":
        parts[0] += '\nDATA_FORMAT = "channels_first"  # the spec\'s layout; Keras defaults to channels_last\n'
    parts += [HELPERS[h] for h in HELPERS if h in helpers]
    body = "\n".join(f"    {line}" for line in lines)
    parts.append(f"def build_model() -> keras.Model:\n    inputs = keras.Input(shape={lit(tuple(in_shape))})\n"
                 f"{body}\n    return keras.Model(inputs, {ret}, name={lit(_model_name(a))})\n")
    parts.append('if __name__ == "__main__":\n    build_model().summary()\n')
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("keras", code, names, "build_model", in_shape)


def _channel_scales(layer: LayerResult, ts: dict[str, Tensor], layout: str, args: list[str], var: str, name: str,
                    lines: list[str]) -> list[str]:
    """A [C] input of a channel-wise multiply is reshaped to 1x1xC (or Cx1x1) to broadcast."""
    out = list(args)
    big = layer.tensor
    for k, src in enumerate(layer.inputs):
        t = ts[src]
        if t != big:
            target = (1,) * len(big.spatial)
            dims = (*target, t.c) if layout == "channels_last" else (t.c, *target)
            tmp = f"{var}_scale{k}" if var != "x" else f"scale{k}"
            lines.append(f"{tmp} = layers.Reshape({lit(dims)}, name={lit(name + '__reshape' + str(k))})({args[k]})")
            out[k] = tmp
    return out
