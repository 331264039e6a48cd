"""Keras 3 code generation: a functional model whose layer names are the spec's, dots as `_`.

The model keeps the spec's layout: a channels_first spec gets `data_format="channels_first"` on
every spatial layer (Keras 3 supports it on the torch and jax backends). Where one spec layer
needs several Keras layers (explicit padding, per-position bias, a channel-wise scale), the extra
ones are named `<name>__<role>` and belong to that layer when verifying.
"""

from __future__ import annotations

import builtins
import re

from . import Errors, Exported, Unsupported, explicit_padding, header, tensors
from .code import WIDTH, Arg, Call, Classes, Code, lit, pos, render, size
from .structure import Item, build, plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult
    from ..layers import Tensor

A = Arg


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
        if t == "multiply":  # a [C] scale is reshaped to 1x1xC (Cx1x1) first, to broadcast
            out: list[tuple[str, Call]] = []
            for k, src in enumerate(layer.inputs):
                if self.ts[src] != layer.tensor:
                    ones = (1,) * len(layer.tensor.spatial)
                    target = (-1, *ones) if self.cf else (*ones, -1)
                    out.append((f"in{k}:reshape{k}", Call("layers.Reshape", [pos("target_shape", target)])))
            return [*out, ("", Call("layers.Multiply"))]
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


def snake(camel_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel_name).lower()


class _Name:
    """The Keras name of a layer as source: "conv1" at the top level, f"{name}_conv1" in a helper."""

    def __init__(self, text: str):
        self.text = text

    def child(self, key: str) -> _Name:
        return _Name(f"{self.text}_{key}" if self.text else key)

    def code(self, suffix: str = "") -> str:
        text = self.text + suffix
        return f'f"{text}"' if "{" in text else f'"{text}"'


class _Gen:
    """Builds the module tree as Keras calls; sub-networks become helper functions (see code.Classes)."""

    def __init__(self, a: Analysis):
        self.a = a
        self.ts = tensors(a)
        self.errors = Errors("Keras")
        self.classes = Classes()
        self.helpers: set[str] = set()
        self.names: dict[str, str] = {}
        self.owner: dict[str, str] = {}

    def module(self, it: Item) -> Call:
        if it.kind == "leaf":
            layer = it.layer
            assert layer is not None
            name = kname(layer.name)
            if name in self.owner:
                self.errors.add(layer, Unsupported(f"its Keras name {name!r} is also that of {self.owner[name]!r}; "
                                                   "rename one of them"))
            self.owner[name] = self.names[layer.name] = name
            gen = _Leaf(layer, self.ts, self.a.layout)
            try:
                pieces = gen.calls()
            except Unsupported as exc:
                self.errors.add(layer, exc)
                pieces = [("", Call("layers.Identity"))]
            self.helpers |= gen.helpers
            return Call("#leaf", [pos(role, call) for role, call in pieces])
        if it.kind == "seq":
            return Call("#seq", [pos(str(i), self.module(c)) for i, c in enumerate(it.children)])
        body, steps, ret = self.body(it)
        return self.classes.instance(body, steps, ret, it.block, it.path)

    def body(self, it: Item, input_var: str = "x") -> tuple[list[tuple[str, Call]], list[str], str]:
        prelude, steps, ret = plan(it, input_var)
        keys = {c.key: kname(c.key) for c in it.children}
        body = [(keys[c.key], self.module(c)) for c in it.children]
        lines = prelude + [f"{v} = {keys[c.key]}({', '.join(args)})" for v, c, args in steps]
        return body, lines, ret


_STEP = re.compile(r"^(\w+) = (\w+)\((.*)\)$")


class _Writer:
    """Writes the data flow of one module (build_model or a helper function) as Keras calls."""

    def __init__(self, params: dict[int, str], functions: dict[str, str]):
        self.params = params
        self.functions = functions  # class name → function name
        self.lines: list[str] = []

    def module(self, body: list[tuple[str, Call]], forward: list[str], ret: str, name: _Name) -> list[str]:
        calls = dict(body)
        for line in forward:
            m = _STEP.match(line)
            if not m:
                self.lines.append(line)  # `identity = x`
                continue
            var, attr, args = m.group(1), m.group(2), m.group(3).split(", ")
            self.emit(calls[attr], var, args, name.child(attr))
        self.lines.append(f"return {ret}")
        return self.lines

    def emit(self, call: Call, var: str, args: list[str], name: _Name) -> None:
        if call.func == "#leaf":
            srcs = list(args)
            first = True
            for a in call.args:
                role, piece = a.name, a.value
                if ":" in role:  # applies to one input, e.g. in1:reshape1
                    k = int(role.split(":")[0][2:])
                    tmp = f"scale{k}"
                    self.put(tmp, piece, [srcs[k]], name.code(f"__{role.split(':')[1]}"))
                    srcs[k] = tmp
                    continue
                self.put(var, piece, srcs if first else [var], name.code(f"__{role}" if role else ""))
                first = False
            return
        if call.func == "#seq":
            kids = [a.value for a in call.args]
            texts = {render(k, self.params) for k in kids}
            if len(kids) >= 2 and len(texts) == 1 and kids[0].func in self.functions.values():
                if var != args[0]:
                    self.lines.append(f"{var} = {args[0]}")
                self.lines.append(f"for i in range({len(kids)}):")
                text = self.instance(kids[0], [var], name.child("{i}")).replace("\n", "\n    ")
                self.lines.append(f"    {var} = {text}")
                return
            src = args
            for i, kid in enumerate(kids):
                self.emit(kid, var, src, name.child(str(i)))
                src = [var]
            return
        self.lines.append(f"{var} = {self.instance(call, args, name)}")

    def instance(self, call: Call, args: list[str], name: _Name) -> str:
        head = Call(call.func, [pos("x", Code(args[0])), pos("name", Code(name.code())), *call.args])
        return render(head, self.params, 0, 4 + 4 + len(head.func) // 4)

    def put(self, var: str, call: Call, srcs: list[str], name_code: str) -> None:
        named = Call(call.func, [*call.args, Arg("name", Code(name_code))])
        src = srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]"
        lead = f"{var} = "
        line = f"{lead}{render(named, self.params, 0, 4 + len(lead) + len(src) + 2)}({src})"
        if len(line.splitlines()[-1]) + 4 > WIDTH:  # a long list of inputs: one per line
            line = line[:-len(src) - 2] + "(\n    [\n" + "".join(f"        {v},\n" for v in srcs) + "    ]\n)"
        self.lines.append(line)


def _indent(lines: list[str]) -> str:
    return "".join("    " + line.replace("\n", "\n    ") + "\n" for line in lines)


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a)
    body, forward, ret = gen.body(root, "inputs")
    gen.errors.raise_if_any()
    classes = gen.classes.finalize()
    taken = {line.split(" = ")[0] for c in classes for line in c.forward} | {line.split(" = ")[0] for line in forward}
    taken |= {"keras", "layers", "ops", "build_model", "inputs", "name", "x", "i", "DATA_FORMAT", *dir(builtins)}
    functions = {c.name: snake(c.name) + ("_block" if snake(c.name) in taken else "") for c in classes}
    for cls in classes:  # helper calls are written with function names
        for _, call, _, _ in cls.instances:
            call.func = functions[cls.name]
    in_shape = a.network.input.dims(a.layout)
    out_shape = a.layers[-1].tensor.dims(a.layout) if a.layers else in_shape
    uses_ops = bool(gen.helpers - {"PerPositionBias"})
    parts = [header(a, source, "keras", "Keras 3 functional model")
             + f"\nInput: (N, {', '.join(map(str, in_shape))}) {a.layout}; output: (N, "
             f"{', '.join(map(str, out_shape))}).\nLayer names are the spec's, with `_` for `.`.\n"
             '"""\n\nimport keras\n' + ("from keras import layers, ops\n" if uses_ops else "from keras import layers\n")]
    if a.layout == "channels_first":
        parts[0] += '\nDATA_FORMAT = "channels_first"  # the spec\'s layout; Keras defaults to channels_last\n'
    parts += [HELPERS[h] for h in HELPERS if h in gen.helpers]
    for cls in classes:
        sig = ", ".join(["x", "name", *cls.params])
        head = f"def {functions[cls.name]}({sig}):"
        if len(head) > WIDTH:
            head = f"def {functions[cls.name]}(\n" + "".join(f"    {p},\n" for p in ["x", "name", *cls.params]) + "):"
        lines = _Writer(cls.slot_params, functions).module(cls.body, cls.forward, cls.ret, _Name("{name}"))
        parts.append(f"{head}\n{_indent(lines)}")
    lines = _Writer({}, functions).module(body, forward, ret, _Name(""))
    lines[-1] = f"return keras.Model(inputs, {ret}, name={lit(_model_name(a))})"
    parts.append(f"def build_model() -> keras.Model:\n    inputs = keras.Input(shape={lit(tuple(in_shape))})\n"
                 f"{_indent(lines)}")
    parts.append('if __name__ == "__main__":\n    build_model().summary()\n')
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("keras", code, gen.names, "build_model", in_shape)
