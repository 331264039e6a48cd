"""PyTorch code generation: an `nn.Module` whose module paths are the spec's layer names.

Tensors are always (N, C, H, W) in PyTorch, whatever the spec's layout. Every spec layer is a
module (merges too: the small `Add`/`Concat`/`Multiply` modules defined in the file), so forward
hooks see every layer's output. A layer that needs extra work (asymmetric padding, per-position
bias, separable convolution) is an `nn.Sequential` under the layer's own name.
"""

from __future__ import annotations

from . import Errors, Exported, Unsupported, doc_text, explicit_padding, header, tensors
from .code import Arg as A
from .code import Call, Classes, camel, pos, render, size
from .structure import RESERVED, Item, build, forward_lines, ident

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult
    from ..layers import Tensor

ACTIVATIONS = {"relu": "nn.ReLU", "relu6": "nn.ReLU6", "gelu": "nn.GELU", "sigmoid": "nn.Sigmoid",
               "hardsigmoid": "nn.Hardsigmoid", "tanh": "nn.Tanh", "silu": "nn.SiLU", "hardswish": "nn.Hardswish",
               "identity": "nn.Identity"}

HELPERS = {
    "Add": '''class Add(nn.Module):
    """Elementwise sum of the inputs (a residual connection)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out
''',
    "Concat": '''class Concat(nn.Module):
    """Concatenation along the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)
''',
    "Multiply": '''class Multiply(nn.Module):
    """Elementwise product; an (N, C) input scales an (N, C, H, W) one channel-wise (SENet)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            a, b = out, x
            a = a.reshape(*a.shape, *[1] * (b.dim() - a.dim()))
            b = b.reshape(*b.shape, *[1] * (a.dim() - b.dim()))
            out = a * b
        return out
''',
    "Reshape": '''class Reshape(nn.Module):
    """Reshape every sample to `shape` (channels first)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
''',
    "PerPositionBias": '''class PerPositionBias(nn.Module):
    """A learned bias for every output position and channel (AlphaGo's last layer)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(*shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias
''',
}


def _pad_call(pads: list[tuple[int, int]], value: float = 0.0) -> Call:
    """nn.ZeroPad2d takes (left, right, top, bottom): the last dim first."""
    flat = tuple(v for pair in reversed(pads) for v in pair)
    if value:
        return Call(f"nn.ConstantPad{len(pads)}d", [pos("padding", flat), pos("value", value)])
    return Call(f"nn.ZeroPad{len(pads)}d", [pos("padding", flat)])


def _symmetric(pads: list[tuple[int, int]]) -> bool:
    return all(b == e for b, e in pads)


def _seq(*calls: Call | None) -> Call:
    """One call, or an nn.Sequential of several (None entries are skipped)."""
    real = [c for c in calls if c is not None]
    return real[0] if len(real) == 1 else Call("nn.Sequential", [pos(str(i), c) for i, c in enumerate(real)])


def _conv(layer: LayerResult, x: Tensor) -> Call:
    p, t = layer.spec.params, layer.type
    nd = len(x.spatial)
    pads = explicit_padding(p, x.spatial)
    pre = None
    if not _symmetric(pads):
        pre, pads = _pad_call(pads), [(0, 0)] * nd
    bias = p["bias"]
    c_in = x.c
    common = [A("kernel_size", size(p["kernel"])), A("stride", size(p["stride"]), 1),
              A("padding", size(b for b, _ in pads), 0), A("dilation", size(p["dilation"]), 1)]
    if t == "separable_conv2d":
        mid = c_in * p["depth_multiplier"]
        dw = Call("nn.Conv2d", [pos("in_channels", c_in), pos("out_channels", mid), *common, A("groups", c_in),
                                A("bias", False)])
        pw = Call("nn.Conv2d", [pos("in_channels", mid), pos("out_channels", p["filters"]), A("kernel_size", 1),
                                A("bias", bias is True, True)])
        return _seq(pre, dw, pw, _position_bias(layer))
    if t == "depthwise_conv2d":
        c_out, groups = c_in * p["depth_multiplier"], c_in
    else:
        c_out, groups = p["filters"], p["groups"]
    conv = Call(f"nn.Conv{nd}d", [pos("in_channels", c_in), pos("out_channels", c_out), *common,
                                  A("groups", groups, 1), A("bias", bias is True, True)])
    return _seq(pre, conv, _position_bias(layer))


def _position_bias(layer: LayerResult) -> Call | None:
    if layer.spec.params["bias"] != "per_position":
        return None
    o = layer.tensor
    return Call("PerPositionBias", [pos(f"d{i}", d) for i, d in enumerate((o.c, *o.spatial))])


def _deconv(layer: LayerResult, x: Tensor) -> Call:
    p = layer.spec.params
    pads, out_pad = [], []
    for i in range(len(x.spatial)):
        k, s, d, op = p["kernel"][i], p["stride"][i], p["dilation"][i], p["output_padding"][i]
        if p["padding"] == "same":  # PyTorch: out = (I−1)·S − 2P + D·(K−1) + OP + 1 must equal I·S
            need = d * (p["kernel"][i] - 1) + 1 - s
            pb = max(0, -(-need // 2))
            op = 2 * pb - need
            if need < 0 or op >= max(s, d):
                raise Unsupported(f"padding 'same' with kernel {k} and stride {s} has no PyTorch "
                                  "ConvTranspose2d padding/output_padding equivalent")
            pads.append((pb, pb))
        else:
            pads.append(p["padding"][i])
        out_pad.append(op)
    if not _symmetric(pads):
        raise Unsupported(f"asymmetric padding {pads} on conv_transpose2d cannot be expressed in PyTorch")
    return Call("nn.ConvTranspose2d", [
        pos("in_channels", x.c), pos("out_channels", p["filters"]), A("kernel_size", size(p["kernel"])),
        A("stride", size(p["stride"]), 1), A("padding", size(b for b, _ in pads), 0),
        A("output_padding", size(out_pad), 0), A("groups", p["groups"], 1), A("dilation", size(p["dilation"]), 1),
        A("bias", p["bias"] is True, True)])


def _pool(layer: LayerResult, x: Tensor) -> Call:
    p = layer.spec.params
    kernel, stride = p["kernel"], p["stride"] or p["kernel"]
    pads = explicit_padding(p, x.spatial, stride)
    is_max = layer.type == "max_pool2d"
    pre = None
    extra = []
    if is_max:
        extra = [A("dilation", size(p["dilation"]), 1)]
    elif p["padding"] == "same":  # TensorFlow's SAME average ignores the padding
        extra = [A("count_include_pad", False)]
    else:
        extra = [A("count_include_pad", p["count_include_pad"], True)]
    fits = all(b <= (k // 2) for (b, _), k in zip(pads, kernel, strict=True))
    if not _symmetric(pads) or not fits:
        if not is_max and (p["padding"] == "same" or not p["count_include_pad"]):
            raise Unsupported(f"avg_pool2d with asymmetric padding {pads} that is left out of the average "
                              "cannot be expressed in PyTorch (AvgPool2d pads symmetrically)")
        # max pooling never picks the padding: pad with -inf; average pooling counts it: pad with 0
        pre, pads = _pad_call(pads, float("-inf") if is_max else 0.0), [(0, 0)] * 2
    func = "nn.MaxPool2d" if is_max else "nn.AvgPool2d"
    pool = Call(func, [A("kernel_size", size(kernel)), A("stride", size(stride)),
                       A("padding", size(b for b, _ in pads), 0), *extra, A("ceil_mode", p["ceil_mode"], False)])
    return _seq(pre, pool)


def leaf(layer: LayerResult, ts: dict[str, Tensor], layout: str) -> Call:
    t, p = layer.type, layer.spec.params
    x = ts[layer.inputs[0]]
    if t in ("conv2d", "conv1d", "depthwise_conv2d", "separable_conv2d"):
        return _conv(layer, x)
    if t == "conv_transpose2d":
        return _deconv(layer, x)
    if t in ("max_pool2d", "avg_pool2d"):
        return _pool(layer, x)
    if t in ("global_avg_pool2d", "global_max_pool2d"):
        pool = Call("nn.AdaptiveAvgPool2d" if t == "global_avg_pool2d" else "nn.AdaptiveMaxPool2d", [pos("size", 1)])
        return pool if p["keepdims"] else _seq(pool, Call("nn.Flatten"))
    if t == "adaptive_avg_pool2d":
        return Call("nn.AdaptiveAvgPool2d", [pos("output_size", size(p["output_size"]))])
    if t == "flatten":
        return Call("nn.Flatten")
    if t == "dense":
        return Call("nn.Linear", [pos("in_features", x.c), pos("out_features", p["units"]), A("bias", p["bias"], True)])
    if t == "dropout":
        return Call("nn.Dropout", [A("p", p["rate"], 0.5)])
    if t in ACTIVATIONS:
        return Call(ACTIVATIONS[t])
    if t == "leaky_relu":
        return Call("nn.LeakyReLU", [A("negative_slope", p["negative_slope"], 0.01)])
    if t == "elu":
        return Call("nn.ELU", [A("alpha", p["alpha"], 1.0)])
    if t == "softmax":
        axis = p["axis"]
        if not x.flat and axis in (-1, len(x.spatial) + 1) and layout == "channels_last":
            axis = 1  # the channel axis
        return Call("nn.Softmax", [A("dim", axis)])
    if t == "batch_norm":
        nd = max(len(x.spatial), 1)
        return Call(f"nn.BatchNorm{nd}d", [pos("num_features", x.c), A("eps", p["eps"], 1e-5),
                                           A("momentum", p["momentum"], 0.1), A("affine", p["affine"], True)])
    if t == "local_response_norm":
        return Call("nn.LocalResponseNorm", [pos("size", p["size"]), A("alpha", p["alpha"], 1e-4),
                                             A("beta", p["beta"], 0.75), A("k", p["k"], 1.0)])
    if t == "add":
        return Call("Add")
    if t == "concat":
        return Call("Concat")
    if t == "multiply":
        return Call("Multiply")
    if t == "reshape":
        o = layer.tensor
        return Call("Reshape", [pos(f"d{i}", d) for i, d in enumerate(o.dims("channels_first"))])
    if t == "zero_pad2d":
        return _pad_call(list(p["padding"]))
    raise Unsupported(f"layer type {t} has no PyTorch export")


class _Gen:
    def __init__(self, a: Analysis):
        self.a = a
        self.ts = tensors(a)
        self.errors = Errors("PyTorch")
        self.classes = Classes()
        self.names: dict[str, str] = {}

    def module(self, it: Item, path: str) -> Call:
        if it.kind == "leaf":
            assert it.layer is not None
            self.names[it.layer.name] = path
            try:
                return leaf(it.layer, self.ts, self.a.layout)
            except Unsupported as exc:
                self.errors.add(it.layer, exc)
                return Call("nn.Identity")
        if it.kind == "seq":
            return Call("nn.Sequential", [pos(str(i), self.module(c, f"{path}.{i}")) for i, c in enumerate(it.children)])
        body, forward, ret = self.body(it, path + ".")
        return self.classes.instance(body, forward, ret, it.block, it.path)

    def body(self, it: Item, prefix: str) -> tuple[list[tuple[str, Call]], list[str], str]:
        attrs: dict[str, str] = {}
        used: set[str] = set()
        for c in it.children:
            name = ident(c.key)
            while name in used:
                name += "_"
            used.add(name)
            attrs[c.key] = name
        body = [(attrs[c.key], self.module(c, prefix + attrs[c.key])) for c in it.children]
        lines, ret = forward_lines(it, {k: f"self.{v}" for k, v in attrs.items()})
        return body, lines, ret


def _class_source(name: str, params: list[str], body: list[tuple[str, Call]], slot_params: dict[int, str],
                  forward: list[str], ret: str, doc: str = "") -> str:
    sig = "".join(f", {p}" for p in params)
    out = [f"class {name}(nn.Module):"]
    if doc:
        out.append(f'    """{doc_text(doc)}"""\n')
    init = f"    def __init__(self{sig}):"
    if len(init) > 100:
        init = "    def __init__(\n        self,\n" + "".join(f"        {p},\n" for p in params) + "    ):"
    out.append(init)
    out.append("        super().__init__()")
    for attr, call in body:
        lead = f"        self.{attr} = "
        out.append(lead + render(call, slot_params, 8, len(lead) - 8))
    out.append("")
    out.append("    def forward(self, x: torch.Tensor) -> torch.Tensor:")
    out += [f"        {line}" for line in forward]
    out.append(f"        return {ret}")
    return "\n".join(out) + "\n"


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a)
    body, forward, ret = gen.body(root, "")
    gen.errors.raise_if_any()
    classes = gen.classes.finalize(set(HELPERS) | {"Module", "Tensor"} | RESERVED)
    main = camel(a.name.split("(")[0])
    if main in {c.name for c in classes} | set(HELPERS) | RESERVED:
        main += "Net"
    text = "\n".join(render(c, {}) for _, c in body)
    helpers = [h for h in HELPERS if f"{h}(" in text or any(
        f"{h}(" in render(call, {}) for cls in classes for _, call in cls.body)]
    in_shape = a.network.input.dims("channels_first")
    out_shape = a.layers[-1].tensor.dims("channels_first") if a.layers else in_shape
    dims = lambda s: " x ".join(map(str, s))  # noqa: E731
    same = all(k == v for k, v in gen.names.items())
    paths = ("Module paths are the spec's layer names." if same else
             "Module paths follow the spec's layer names where Python allows (cnncalc verify shows each).")
    parts = [header(a, source, "pytorch", "PyTorch model")
             + f"\nInput: (N, {', '.join(map(str, in_shape))}) channels first; output: (N, "
             f"{', '.join(map(str, out_shape))}).\n{paths}\n"
             '"""\n\nimport torch\nfrom torch import nn\n']
    parts += [HELPERS[h] for h in helpers]
    for cls in classes:
        parts.append(_class_source(cls.name, cls.params, cls.body, cls.slot_params, cls.forward, cls.ret))
    doc = f"{a.name}: input N x {dims(in_shape)}, output N x {dims(out_shape)}."
    parts.append(_class_source(main, [], body, {}, forward, ret, doc))
    zeros = ", ".join(map(str, (1, *in_shape)))
    parts.append(f'if __name__ == "__main__":\n    model = {main}()\n'
                 f"    print(model(torch.zeros({zeros})).shape)\n")
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("pytorch", code, gen.names, main, in_shape)
