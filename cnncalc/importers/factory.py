"""A Python factory the user names (`package.module:function`, `path/to/file.py:function`): the one
source whose code runs, because the user asked for it.

The factory is called on PyTorch's meta device, so a module's weights are never allocated (their
shapes are all that counting needs); a Keras model it returns is read from its config. The module
is traced with torch.fx and its shapes propagated on the meta device (fx's ShapeProp); each traced
call maps to a layer through the tables `MODULES` (nn.Module class name → function), `FUNCTIONS`
and `METHODS`.
"""

from __future__ import annotations

import importlib
import importlib.util
import operator
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from . import torch_rearrange as rearrange
from .model import (
    INPUT,
    MAX_NODES,
    Context,
    Imported,
    Mapped,
    Node,
    Options,
    Unmapped,
    compact,
    input_name,
    missing,
    pending,
    unique_name,
    unpack,
)
from .patterns import PAD_TYPES, with_activation


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else 'no message'}"


def load_factory(source: str, ctx: Context) -> Callable[..., Any]:
    """The function `source` names: `package.module:function` is imported, `file.py:function` loaded."""
    module_name, _, attr = source.rpartition(":")
    try:
        if module_name.endswith(".py"):
            if not os.path.isfile(module_name):
                raise ctx.fail(f"no such file: {module_name}", "unreadable")
            spec = importlib.util.spec_from_file_location(f"cnncalc_factory_{abs(hash(module_name))}", module_name)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ctx.fail(f"cannot import {module_name}: {_one_line(exc)}", "unreadable") from None
    except Exception as exc:  # the user's module failed while loading
        if type(exc).__name__ == "ImportFailure":
            raise
        hint = ("; torchvision's compiled operators do not load beside this torch: install the torchvision "
                "release built for the installed torch (for CPU torch, from https://download.pytorch.org/whl/cpu)"
                if "operator torchvision::" in str(exc) else "")
        raise ctx.fail(f"importing {module_name} raised {_one_line(exc)}{hint}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ctx.fail(f"{module_name} has no function or class {attr!r}", "unreadable")
    return factory  # type: ignore[no-any-return]


def read(source: str, options: Options) -> Imported:
    ctx = Context(source, options)
    torch: Any = None
    try:
        import torch
    except ImportError:
        pass
    factory = load_factory(source, ctx)
    try:
        if torch is not None:
            with torch.device("meta"):
                model = factory(**options.args)
        else:
            model = factory(**options.args)
    except Exception as exc:
        raise ctx.fail(f"the factory {source} raised {_one_line(exc)}") from None
    if type(model).__module__.startswith("keras") or hasattr(model, "get_config") and hasattr(model, "count_params"):
        from .keras_reader import from_config

        return from_config(model.get_config(), source, options, "Keras", model=model)
    if torch is None or not isinstance(model, torch.nn.Module):
        if torch is None:
            raise missing(source, "torch", "torch")
        raise ctx.fail(f"the factory {source} returned a {type(model).__name__}, not a torch.nn.Module or a "
                       "Keras model")
    return read_module(model, source, options, source.rpartition(":")[2])


def read_module(model: Any, source: str, options: Options, name: str = "") -> Imported:
    """A torch.nn.Module (on any device; best the meta device) as an import."""
    import torch

    return _trace(model, source, Context(source, options), torch, name)


class _Tracer:
    """fx's Tracer with every module of torch.nn (but its containers) a leaf, and the modules cnncalc's
    export defines for what torch lacks (see torch_rearrange.helper)."""

    @staticmethod
    def make(torch: Any) -> Any:
        import torch.fx

        class Tracer(torch.fx.Tracer):  # type: ignore[misc,name-defined]
            def is_leaf_module(self, m: Any, qualname: str) -> bool:
                return (type(m).__module__.startswith("torch.nn") and
                        not isinstance(m, torch.nn.Sequential | torch.nn.ModuleList | torch.nn.ModuleDict)) \
                    or _helper(m) or rearrange.helper(m) is not None

        return Tracer()


def _trace(model: Any, source: str, ctx: Context, torch: Any, name: str = "") -> Imported:
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    shapes = ctx.options.input_shapes
    if not shapes:
        raise ctx.fail("a PyTorch module does not declare its input size; give it with --input, "
                       "e.g. --input 3x224x224 (channels first)")
    model.eval()
    try:
        graph = _Tracer.make(torch).trace(model)
        gm = torch.fx.GraphModule(model, graph)
    except Exception as exc:
        raise ctx.fail(f"torch.fx cannot trace the module ({_one_line(exc)}); its forward depends on the values "
                       "of its input or weights, which cnncalc does not compute") from None
    if len(gm.graph.nodes) > MAX_NODES:
        raise ctx.fail(f"the traced graph has {len(gm.graph.nodes):,} nodes, more than the {MAX_NODES:,} "
                       "cnncalc imports")
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(shapes):
        given = " ".join(f"--input {'x'.join(map(str, s))}" for s in shapes)
        raise ctx.fail(f"forward takes {len(placeholders)} tensor{'s' if len(placeholders) != 1 else ''} "
                       f"({', '.join(str(p.target) for p in placeholders[:5])}), {given} gives "
                       f"{len(shapes)}: give one --input per tensor, in order")
    text = ", ".join("x".join(map(str, s)) for s in shapes)
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(*(torch.zeros((1, *s), device="meta") for s in shapes))
    except Exception as exc:
        raise ctx.fail(f"running the module on the meta device (shapes only, no weights) failed at "
                       f"{_one_line(exc)}; the model needs the values of its weights or input, or does not take "
                       f"input{'s' if len(shapes) > 1 else ''} of {text}") from None
    classes = {path: type(m).__name__ for path, m in model.named_modules() if path}
    names = {p: input_name(str(p.target), ctx.taken) for p in placeholders} if len(placeholders) > 1 \
        else {placeholders[0]: INPUT}
    twos = {path for path, m in model.named_modules() if path and type(m) is torch.nn.Sequential and len(m) == 2}
    nodes, outputs = _map(gm, ctx, torch, names, twos)
    name = name or type(model).__name__
    ctx.notes.insert(0, f"traced with torch.fx on the meta device ({torch.__version__}); input{'s' if len(shapes) > 1 else ''} "
                        f"{text}")
    inputs = {names[p]: tuple(s) for p, s in zip(placeholders, shapes, strict=True)} if len(shapes) > 1 else {}
    return Imported(name, "channels_first", tuple(shapes[0]), nodes, source, "PyTorch", ctx.notes, ctx.warnings,
                    classes, inputs=inputs, outputs=outputs)


# ---- mapping -------------------------------------------------------------------------------------



class Call:
    """One traced call: the module (for call_module), its arguments and shapes."""

    def __init__(self, node: Any, module: Any, shapes: Callable[[Any], tuple[int, ...] | None], data: list[Any]):
        self.node = node
        self.m = module
        self.shapes = shapes
        self.data = data  # the arguments computed from the network's input

    def arg(self, i: int, name: str, default: Any = None) -> Any:
        if name in self.node.kwargs:
            return self.node.kwargs[name]
        args = self.node.args
        return args[i] if len(args) > i else default

    @property
    def x(self) -> tuple[int, ...]:
        s = self.shapes(self.node.args[0])
        if s is None:
            raise Unmapped("its input is not a tensor")
        return s

    @property
    def out(self) -> tuple[int, ...] | None:
        return self.shapes(self.node)


def _padding(m: Any, nd: int) -> Any:
    p = m.padding
    if isinstance(p, str):
        return p
    return compact(p)


def m_conv(c: Call) -> Mapped:
    m = c.m
    nd = len(m.kernel_size)
    params: dict[str, Any] = {}
    depthwise = nd == 2 and m.groups == m.in_channels and m.groups > 1
    if depthwise:
        kind = "depthwise_conv2d"
        if m.out_channels != m.groups:
            params["depth_multiplier"] = m.out_channels // m.groups
    else:
        kind = f"conv{nd}d"
        params["filters"] = m.out_channels
    params.update(kernel=compact(m.kernel_size), stride=compact(m.stride), padding=_padding(m, nd),
                  dilation=compact(m.dilation))
    if m.padding_mode != "zeros":
        params["padding_mode"] = m.padding_mode
    if not depthwise:
        params["groups"] = m.groups
    params["bias"] = m.bias is not None
    return kind, params


def m_conv_transpose(c: Call) -> Mapped:
    m = c.m
    nd = len(m.kernel_size)
    return f"conv_transpose{nd}d", {"filters": m.out_channels, "kernel": compact(m.kernel_size),
                                    "stride": compact(m.stride), "padding": compact(m.padding),
                                    "output_padding": compact(m.output_padding), "dilation": compact(m.dilation),
                                    "groups": m.groups, "bias": m.bias is not None}


def m_linear(c: Call) -> Mapped:
    return "dense", {"units": c.m.out_features, "bias": c.m.bias is not None}


def m_batch_norm(c: Call) -> Mapped:
    m = c.m
    if not m.track_running_stats:
        raise Unmapped("batch normalisation without running statistics (cnncalc counts them)")
    return "batch_norm", {"eps": m.eps, "momentum": m.momentum if m.momentum is not None else 0.1,
                          "affine": m.affine}


def m_pool(kind: str, nd: int) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        m = c.m
        params: dict[str, Any] = {"kernel": compact(m.kernel_size), "stride": compact(m.stride or m.kernel_size),
                                  "padding": compact(m.padding)}
        if m.ceil_mode:
            params["ceil_mode"] = True
        if kind == "max_pool":
            if getattr(m, "return_indices", False):
                raise Unmapped("max pooling that also returns the indices")
            params["dilation"] = compact(m.dilation)
        else:
            if getattr(m, "divisor_override", None):
                raise Unmapped("average pooling with divisor_override")
            params["count_include_pad"] = m.count_include_pad
        return f"{kind}{nd}d", params
    return mapped


def _outputcompact(v: Any, x: tuple[int, ...]) -> Any:
    nd = len(x) - 2
    v = list(v) if isinstance(v, list | tuple) else [v] * nd
    return compact([x[2 + k] if s is None else s for k, s in enumerate(v)])


def m_adaptive(kind: str, nd: int) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        size = _outputcompact(c.m.output_size, c.x)
        if kind == "max":
            if getattr(c.m, "return_indices", False):
                raise Unmapped("adaptive max pooling that also returns the indices")
            if size == 1:
                return f"global_max_pool{nd}d", {"keepdims": True}
        return f"adaptive_{kind}_pool{nd}d", {"output_size": size}
    return mapped


def m_act(kind: str, **params: Any) -> Callable[[Call], Mapped]:
    return lambda c: (kind, dict(params))


def m_attrs(kind: str, **attrs: str) -> Callable[[Call], Mapped]:
    """An activation whose spec parameters are attributes of the module (spec name → attribute)."""
    return lambda c: (kind, {p: getattr(c.m, a) for p, a in attrs.items()})


def m_hardtanh(c: Call) -> Mapped:
    if (c.m.min_val, c.m.max_val) == (0.0, 6.0):
        return "relu6", {}
    return "hardtanh", {"min_val": float(c.m.min_val), "max_val": float(c.m.max_val)}


def m_prelu(c: Call) -> Mapped:
    n = c.m.num_parameters
    return "prelu", {"num_parameters": n} if n != 1 else {}


def m_softmax(kind: str) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        dim = c.m.dim
        return kind, {"axis": -1 if dim is None else dim}
    return mapped


def m_flatten(c: Call) -> Mapped:
    if c.m.start_dim != 1 or c.m.end_dim != -1:
        return _reshape(c)
    return "flatten", {}


TORCH_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _pad_layer(mode: str, flat: list[int], x: tuple[int, ...], value: float) -> Mapped:
    """A padding layer from PyTorch's pad sizes (last dim first: left, right, top, bottom, ...)."""
    nd = len(x) - 2
    if len(flat) != 2 * nd or nd not in (1, 2, 3) or any(p < 0 for p in flat):
        raise Unmapped(f"padding {flat} of other than the {nd} spatial dims, or negative (cropping)")
    pairs = [(flat[2 * k], flat[2 * k + 1]) for k in range(nd)][::-1]
    if mode == "zeros" and value:
        mode = "constant"
    params: dict[str, Any] = {"padding": compact([b for b, _ in pairs]) if all(b == e for b, e in pairs)
                              else [list(p) for p in pairs]}
    if mode == "constant":
        params["value"] = float(value)
    return f"{PAD_TYPES[mode]}{nd}d", params


def m_pad(mode: str) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        nd = len(c.x) - 2
        p = list(c.m.padding) if isinstance(c.m.padding, tuple | list) else [c.m.padding] * (2 * nd)
        return _pad_layer(mode, p, c.x, getattr(c.m, "value", 0.0))
    return mapped


def f_pad(c: Call) -> Mapped:
    mode = c.arg(2, "mode", "constant")
    if mode not in TORCH_PAD_MODES:
        raise Unmapped(f"padding mode {mode!r}")
    value = c.arg(3, "value", None)
    return _pad_layer(TORCH_PAD_MODES[mode], list(c.arg(1, "pad")), c.x, float(value or 0.0))


def m_lrn(c: Call) -> Mapped:
    m = c.m
    return "local_response_norm", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}


def _attention(m: Any) -> Mapped:
    """An nn.MultiheadAttention (self-attention) as the spec's layer."""
    return "multi_head_attention", {"heads": m.num_heads, "bias": m.in_proj_bias is not None,
                                    "add_bias_kv": m.bias_k is not None, "add_zero_attn": m.add_zero_attn,
                                    "dropout": float(m.dropout)}


def m_attention(c: Call) -> Mapped:
    m = c.m
    q, k, v = (c.arg(i, name) for i, name in enumerate(("query", "key", "value")))
    if not (q is k is v):
        raise Unmapped("attention of a query to other keys or values (cnncalc's is self-attention)")
    if not m.batch_first:
        raise Unmapped("MultiheadAttention without batch_first (cnncalc's sequences come after the batch)")
    if c.arg(4, "key_padding_mask") is not None or c.arg(6, "attn_mask") is not None:
        raise Unmapped("attention with a mask computed by the network")
    return _attention(m)


def _module_table() -> dict[str, Callable[[Call], Mapped]]:
    table: dict[str, Callable[[Call], Mapped]] = {}
    for nd in (1, 2, 3):
        table[f"Conv{nd}d"] = m_conv
        table[f"ConvTranspose{nd}d"] = m_conv_transpose
        table[f"BatchNorm{nd}d"] = m_batch_norm
        table[f"MaxPool{nd}d"] = m_pool("max_pool", nd)
        table[f"AvgPool{nd}d"] = m_pool("avg_pool", nd)
        table[f"AdaptiveAvgPool{nd}d"] = m_adaptive("avg", nd)
        table[f"AdaptiveMaxPool{nd}d"] = m_adaptive("max", nd)
        table[f"ZeroPad{nd}d"] = m_pad("zeros")
        table[f"ConstantPad{nd}d"] = m_pad("zeros")
        table[f"ReflectionPad{nd}d"] = m_pad("reflect")
        table[f"ReplicationPad{nd}d"] = m_pad("replicate")
        table[f"CircularPad{nd}d"] = m_pad("circular")
        table[f"Dropout{nd}d"] = lambda c: ("dropout", {"rate": c.m.p})
    return table


# nn.Module class name → mapping (a subclass of a torch.nn class maps as that class)
MODULES: dict[str, Callable[[Call], Mapped]] = {
    **_module_table(), "Linear": m_linear,
    "ReLU": m_act("relu"), "ReLU6": m_act("relu6"), "Hardtanh": m_hardtanh, "Sigmoid": m_act("sigmoid"),
    "Tanh": m_act("tanh"), "SiLU": m_act("silu"), "Hardswish": m_act("hardswish"),
    "Hardsigmoid": m_act("hardsigmoid"), "GELU": m_attrs("gelu", approximate="approximate"),
    "LeakyReLU": m_attrs("leaky_relu", negative_slope="negative_slope"), "ELU": m_attrs("elu", alpha="alpha"),
    "PReLU": m_prelu, "SELU": m_act("selu"), "CELU": m_attrs("celu", alpha="alpha"), "Mish": m_act("mish"),
    "Softplus": m_attrs("softplus", beta="beta", threshold="threshold"), "Softsign": m_act("softsign"),
    "Tanhshrink": m_act("tanhshrink"), "Hardshrink": m_attrs("hardshrink", lambd="lambd"),
    "Softshrink": m_attrs("softshrink", lambd="lambd"),
    "Threshold": m_attrs("threshold", threshold="threshold", value="value"), "LogSigmoid": m_act("log_sigmoid"),
    "Softmax": m_softmax("softmax"), "LogSoftmax": m_softmax("log_softmax"),
    "Dropout": lambda c: ("dropout", {"rate": c.m.p}), "AlphaDropout": lambda c: ("dropout", {"rate": c.m.p}),
    "Identity": m_act("identity"), "Flatten": m_flatten, "LocalResponseNorm": m_lrn,
    "MultiheadAttention": m_attention,
    **rearrange.MODULES,  # resizing, rearranging, statistics
}


def _helper(m: Any) -> bool:
    """A module class of code cnncalc's PyTorch export generated (its module says so), mapped in HELPERS."""
    cls = type(m)
    if cls.__name__ not in HELPERS:
        return False
    doc = getattr(getattr(cls, "forward", None), "__globals__", {}).get("__doc__") or ""
    return isinstance(doc, str) and "\nGenerated by cnncalc " in doc


def _features_last(c: Call) -> None:
    if not getattr(c.m, "features_last", True) or getattr(c.m, "features", -1) != -1:
        raise Unmapped("the features on axis 1 (a channels-last spec's export)")


def h_patch_embedding(c: Call) -> Mapped:
    _features_last(c)
    m = c.m
    return "patch_embedding", {"dim": m.proj.out_channels, "patch": compact(m.proj.kernel_size),
                               "class_token": m.class_token is not None,
                               "position_embedding": m.pos_embedding is not None, "bias": m.proj.bias is not None}


def h_select_token(c: Call) -> Mapped:
    _features_last(c)
    return "select_token", {"index": c.m.index}


def h_attention(c: Call) -> Mapped:
    _features_last(c)
    return _attention(c.m.attn)


# the modules of cnncalc's own PyTorch export (class name → mapping), read back as the layers they export
HELPERS: dict[str, Callable[[Call], Mapped]] = {
    "Add": m_act("add"), "Concat": m_act("concat"), "Multiply": m_act("multiply"),
    "PatchEmbedding": h_patch_embedding, "SelectToken": h_select_token, "SelfAttention": h_attention,
}


def _reshape(c: Call) -> Mapped:
    out = c.out
    if out is None:
        raise Unmapped("a reshape whose output shape is not known")
    if len(out) == 2 and len(c.x) > 2:
        return "flatten", {}
    return "reshape", {"shape": list(out[1:])}


def f_flatten(c: Call) -> Mapped:
    start, end = c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)
    if start == 1 and end == -1:
        return "flatten", {}
    return _reshape(c)


def f_merge(kind: str) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        if len(c.data) != 2 or c.arg(2, "alpha", 1) != 1:
            weight = next((a for a in c.node.args if getattr(a, "op", "") == "get_attr"), None)
            if kind == "add" and weight is not None:
                raise Unmapped(f"it adds the weight {str(weight.target)!r} to a computed tensor (only tensors "
                               "computed by the network merge; a position embedding is read only right after a "
                               "patch embedding: a convolution with kernel = stride, flattened to tokens, with "
                               "or without a class token in front)")
            raise Unmapped("arithmetic with a constant or a weight (only tensors computed by the network merge)")
        return kind, {}
    return mapped


def f_cat(c: Call) -> Mapped:
    tensors = c.arg(0, "tensors")
    tensors = list(tensors) if isinstance(tensors, list | tuple) else []
    if any(t not in c.data for t in tensors):
        raise Unmapped("a concatenation with a weight or a constant (only tensors computed by the network "
                       "concatenate; a class token is read only in front of a patch embedding's tokens)")
    if len(tensors) > len(c.data):
        raise Unmapped("a concatenation of a tensor with itself")
    if len(c.data) == 1:  # DenseNet concatenates a list of one tensor: that tensor
        return "identity", {}, "torch.cat of one tensor"
    dim = c.arg(1, "dim", 0)
    rank = len(c.out or ())
    if rank and dim % rank != 1:
        raise Unmapped(f"concatenation along dim {dim} (cnncalc concatenates channels, dim 1)")
    return "concat", {}


def f_adaptive(kind: str, nd: int) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        size = _outputcompact(c.arg(1, "output_size"), c.x)
        if kind == "max" and c.arg(2, "return_indices", False):
            raise Unmapped("adaptive max pooling that also returns the indices")
        return f"adaptive_{kind}_pool{nd}d", {"output_size": size}
    return mapped


def f_pool(kind: str, nd: int) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        kernel = c.arg(1, "kernel_size")
        stride = c.arg(2, "stride") or kernel
        params: dict[str, Any] = {"kernel": compact(kernel), "stride": compact(stride), "padding": compact(c.arg(3, "padding", 0))}
        if kind == "max_pool":
            params["dilation"] = compact(c.arg(4, "dilation", 1))
            ceil = c.arg(5, "ceil_mode", False)
            if c.arg(6, "return_indices", False):
                raise Unmapped("max pooling that also returns the indices")
        else:
            ceil = c.arg(4, "ceil_mode", False)
            params["count_include_pad"] = bool(c.arg(5, "count_include_pad", True))
            if c.arg(6, "divisor_override", None):
                raise Unmapped("average pooling with divisor_override")
        if ceil:
            params["ceil_mode"] = True
        return f"{kind}{nd}d", params
    return mapped


def f_mean(c: Call) -> Mapped:
    dims = c.arg(1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    rank = len(c.x)
    if rank not in (3, 4, 5) or sorted(d % rank for d in dims) != list(range(2, rank)):
        raise Unmapped(f"a mean over dims {dims} (only all the spatial dims are a global pooling)")
    return f"global_avg_pool{rank - 2}d", {"keepdims": bool(c.arg(2, "keepdim", False))}


def f_softmax(kind: str) -> Callable[[Call], Mapped]:
    return lambda c: (kind, {"axis": c.arg(1, "dim", -1)})


def f_dropout(c: Call) -> Mapped:
    return "dropout", {"rate": float(c.arg(1, "p", 0.5))}


def f_hardtanh(c: Call) -> Mapped:
    lo, hi = float(c.arg(1, "min_val", -1.0)), float(c.arg(2, "max_val", 1.0))
    return ("relu6", {}) if (lo, hi) == (0.0, 6.0) else ("hardtanh", {"min_val": lo, "max_val": hi})


def f_args(kind: str, **args: tuple[int, Any]) -> Callable[[Call], Mapped]:
    """A function whose spec parameters are its arguments (spec name → (position, default))."""
    return lambda c: (kind, {p: c.arg(i, p if p != "negative_slope" else "negative_slope", d)
                             for p, (i, d) in args.items()})


def f_getitem(c: Call) -> Mapped:
    """x[:, i] of a tokens x features sequence: one token (ViT's class token)."""
    index = c.arg(1, "index")
    x = c.x
    if len(x) == 3 and isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None) \
            and isinstance(index[1], int):
        return "select_token", {"index": index[1]}
    raise Unmapped(f"indexing [{index}] (only x[:, i] of a sequence, one token, is a layer)")


# functions (by __name__) and tensor methods → mapping
FUNCTIONS: dict[str, Callable[[Call], Mapped]] = {
    "flatten": f_flatten, "add": f_merge("add"), "iadd": f_merge("add"), "mul": f_merge("multiply"),
    "imul": f_merge("multiply"), "cat": f_cat, "concat": f_cat, "relu": m_act("relu"), "relu_": m_act("relu"),
    "relu6": m_act("relu6"), "hardtanh": f_hardtanh, "sigmoid": m_act("sigmoid"), "tanh": m_act("tanh"),
    "silu": m_act("silu"), "hardswish": m_act("hardswish"), "hardsigmoid": m_act("hardsigmoid"),
    "gelu": lambda c: ("gelu", {"approximate": c.arg(1, "approximate", "none")}),
    "leaky_relu": lambda c: ("leaky_relu", {"negative_slope": float(c.arg(1, "negative_slope", 0.01))}),
    "elu": f_args("elu", alpha=(1, 1.0)), "selu": m_act("selu"), "celu": f_args("celu", alpha=(1, 1.0)),
    "mish": m_act("mish"), "softplus": f_args("softplus", beta=(1, 1.0), threshold=(2, 20.0)),
    "softsign": m_act("softsign"), "tanhshrink": m_act("tanhshrink"), "logsigmoid": m_act("log_sigmoid"),
    "hardshrink": f_args("hardshrink", lambd=(1, 0.5)), "softshrink": f_args("softshrink", lambd=(1, 0.5)),
    "threshold": f_args("threshold", threshold=(1, None), value=(2, None)),
    "dropout": f_dropout, "dropout1d": f_dropout, "dropout2d": f_dropout, "dropout3d": f_dropout,
    "softmax": f_softmax("softmax"), "log_softmax": f_softmax("log_softmax"), "mean": f_mean, "pad": f_pad,
    "getitem": f_getitem,
    "stochastic_depth": lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))},
                                   "stochastic depth: the identity at inference, as dropout"),
    **rearrange.FUNCTIONS,  # resizing, rearranging, statistics, merges
    "matmul": pending("matmul"), "bmm": pending("matmul"), "scaled_dot_product_attention": pending("attention"),
}
for _nd in (1, 2, 3):
    FUNCTIONS.update({f"adaptive_avg_pool{_nd}d": f_adaptive("avg", _nd), f"adaptive_max_pool{_nd}d": f_adaptive("max", _nd),
                      f"max_pool{_nd}d": f_pool("max_pool", _nd), f"avg_pool{_nd}d": f_pool("avg_pool", _nd),
                      f"max_pool{_nd}d_with_indices": f_pool("max_pool", _nd),
                      f"adaptive_max_pool{_nd}d_with_indices": f_adaptive("max", _nd)})
METHODS: dict[str, Callable[[Call], Mapped]] = {
    "view": _reshape, "reshape": _reshape, "flatten": f_flatten, "mean": f_mean, "relu": m_act("relu"),
    "relu_": m_act("relu"), "sigmoid": m_act("sigmoid"), "tanh": m_act("tanh"), "add": f_merge("add"),
    "add_": f_merge("add"), "mul": f_merge("multiply"), "mul_": f_merge("multiply"), "contiguous": m_act("identity"),
    "clone": m_act("identity"), "squeeze": _reshape, "unsqueeze": _reshape, "softmax": f_softmax("softmax"),
    "log_softmax": f_softmax("log_softmax"),
    **rearrange.METHODS,
}


def _scope(n: Any) -> str:
    """The path of the innermost module whose forward made the call."""
    stack = n.meta.get("nn_module_stack") or {}
    return str(next(reversed(stack.values()))[0]) if stack else ""


def _alone(nodes: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None], inner: set[Any]) -> set[str]:
    """The modules whose forward makes exactly one call that computes a tensor (a fused chain counted as
    one), and calls no module: a layer there takes the module's path as its name (cnncalc's Concat,
    torchvision's LayerNorm2d, a user's wrapper of one call)."""
    direct: Counter[str] = Counter()
    parents: set[str] = set()
    for n in nodes:
        if n.op == "call_module":
            path = str(n.target)
        elif n.op in ("call_function", "call_method") and shape_of(n) is not None and n not in inner:
            path = _scope(n)
            direct[path] += 1
        else:
            continue
        parts = path.split(".") if path else []
        parents.update(".".join(parts[:j]) for j in range(1, len(parts)))
    return {p for p, count in direct.items() if count == 1 and p and p not in parents}


def _holder(nodes: list[Any], parts: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None]) -> str:
    """The module whose forward makes exactly the calls `parts` (and the modules it calls are among
    them), or ''."""
    def path(n: Any) -> str:
        return str(n.target) if n.op == "call_module" else _scope(n)

    def computes(n: Any) -> bool:
        return n.op == "call_module" or n.op in ("call_function", "call_method") and shape_of(n) is not None

    split = [path(n).split(".") if path(n) else [] for n in parts]
    common: list[str] = []
    for segs in zip(*split, strict=False):
        if len(set(segs)) != 1:
            break
        common.append(segs[0])
    scope = ".".join(common)
    if not scope:
        return ""
    inside = {n for n in nodes if computes(n) and (path(n) == scope or path(n).startswith(scope + "."))}
    return scope if inside == {n for n in parts if computes(n)} else ""


def _map(gm: Any, ctx: Context, torch: Any, inputs: dict[Any, str], twos: set[str]
         ) -> tuple[list[Node], list[str]]:
    """The layers of the traced graph; `twos`, the paths of the model's nn.Sequentials of two modules."""
    def shape_of(n: Any) -> tuple[int, ...] | None:
        tm = n.meta.get("tensor_meta") if hasattr(n, "meta") else None
        return tuple(int(d) for d in tm.shape) if tm is not None and hasattr(tm, "shape") else None

    def shape_any(a: Any) -> tuple[int, ...] | None:
        return shape_of(a) if hasattr(a, "meta") else None

    data: dict[Any, str] = dict(inputs)  # fx node → the layer name holding its value
    pairs: set[Any] = set()  # nodes whose value is (output, attention weights): MultiheadAttention
    calls: dict[str, int] = {}
    first: dict[str, Node] = {}  # module path → the layer of its first call
    out: list[Node] = []
    returned: list[str] = []
    nodes = list(gm.graph.nodes)
    called = Counter(str(n.target) for n in nodes if n.op == "call_module")
    chains = rearrange.fuse(nodes, shape_of, lambda a: Call(a, None, shape_any, []))  # channel_shuffle, ...
    patched = _patch_embeddings(gm, nodes, shape_of)  # a ViT's conv_proj ... + pos_embedding: one layer
    chains.update({last: (p.parts, p.mapped, p.conv.args[0]) for last, p in patched.items()})
    inner = {j for before, _, _ in chains.values() for j in before}
    alone = _alone(nodes, shape_of, inner)
    pieces: dict[Any, tuple[Call, str, str]] = {}  # chunk, split → (the call, its key, the scope's name)
    for k, n in enumerate(nodes):
        if n.op == "output":
            returned = [data[a] for a in _flat(n.args[0]) if hasattr(a, "meta") and a in data]
            continue
        if n.op in ("placeholder", "get_attr") or n in inner:
            continue
        ins = [a for a in n.all_input_nodes if a in data]
        if n in chains and chains[n][2] in data:
            ins = [chains[n][2]]
        whole = [a for a in n.all_input_nodes if a in pieces]
        taken = n.op == "call_function" and n.target is operator.getitem and len(whole) == 1 \
            and isinstance(n.args[1], int)
        if whole:  # a piece of a chunk, or (refused below) all of them
            ins = [whole[0].args[0]] if whole[0].args and whole[0].args[0] in data else []
        if ins and shape_of(n) is None and rearrange.key(n) in rearrange.PIECES and n.op != "call_module":
            pieces[n] = (Call(n, None, shape_any, ins), rearrange.key(n), _scope(n))
            continue
        module = gm.get_submodule(n.target) if n.op == "call_module" else None
        shape = shape_of(n)
        if n.op == "call_function" and getattr(n.target, "__name__", "") == "getitem" and ins and ins[0] in pairs:
            if n.args[1] == 0:  # the attention's output; [1], its weights, is no layer of cnncalc
                data[n] = data[ins[0]]
                continue
        if module is not None and type(module).__name__ == "MultiheadAttention":
            tm = n.meta.get("tensor_meta")
            shape = tuple(int(d) for d in tm[0].shape) if isinstance(tm, tuple | list) and tm else None
            pairs.add(n)
        if not ins or shape is None:
            continue  # sizes and constants: no layer
        where = f"fx node {k} ({n.op} {n.target if isinstance(n.target, str) else getattr(n.target, '__name__', n.target)})"
        if n.op == "call_module":
            calls[n.target] = calls.get(n.target, 0) + 1
            base = n.target if calls[n.target] == 1 else f"{n.target}_{calls[n.target] - 1}"
            table = MODULES
            key = next((c.__name__ for c in type(module).__mro__ if c.__module__.startswith("torch.nn")
                        and c.__name__ in MODULES), type(module).__name__)
            helper = rearrange.helper(module)
            if _helper(module):
                table, key = HELPERS, type(module).__name__
            elif helper is not None:
                table, key = rearrange.HELPERS, helper
            op_text = type(module).__name__
        else:
            scope = _scope(n)
            key = n.target if isinstance(n.target, str) else getattr(n.target, "__name__", str(n.target))
            key = key.lstrip("_") if key.lstrip("_") in FUNCTIONS and n.op == "call_function" else key
            if taken:
                _, key, scope = pieces[whole[0]]
            elif n in chains:
                key = str(chains[n][1][0])  # a chain is named after its layer (channel_shuffle, not view)
            base = scope if scope in alone else f"{scope}.{key}" if scope else key
            table = METHODS if n.op == "call_method" else FUNCTIONS
            op_text = f"{'.' if n.op == 'call_method' else ''}{key}()"
        fused = _per_position_bias(gm, n, ins, data, out, shape) if n not in chains else None
        if fused is not None:
            data[n] = fused.name
            continue
        scaled = _layer_scale(gm, n, ins, shape_of) if n not in chains else None
        patch = patched.get(n)
        if patch is not None:  # the module of just its calls (cnncalc's PatchEmbedding), else its convolution's
            base = _holder(nodes, [*patch.parts, n], shape_of) or str(patch.conv.target)
        owner_key = n.target if module is not None else scaled[0] if scaled is not None else \
            patch.conv.target if patch is not None else None
        name = unique_name(scaled[0] if scaled is not None else base, ctx.taken)
        call = Call(n, module, shape_any, ins)
        weights = None
        if module is not None:
            weights = sum(p.numel() for p in module.parameters()) + sum(
                b.numel() for bn, b in module.named_buffers() if not bn.endswith("num_batches_tracked"))
        elif scaled is not None:
            weights = scaled[2]
        elif patch is not None:
            weights = patch.weights
        layer_inputs = [data[a] for a in ins]
        try:
            if whole and not taken:
                raise Unmapped(f"it reads every piece of a {pieces[whole[0]][1]} at once (cnncalc's chunk is one piece)")
            if scaled is not None:
                m = scaled[1]
            elif n in chains:
                m = chains[n][1]
            elif taken:
                m = rearrange.piece(pieces[whole[0]][0], pieces[whole[0]][1], n.args[1])
            else:
                fn = table.get(key)
                if fn is None:
                    raise Unmapped("no cnncalc layer type computes it")
                m = fn(call)
        except Unmapped as exc:
            node = ctx.unknown(where, op_text, exc.reason, name, layer_inputs, shape[1:] if shape else None, weights,
                               exc.awaits)
        else:
            kind, params, note = unpack(m)
            node = Node(name, kind, params, layer_inputs, shape[1:] if shape else None, weights, note, where)
            if _fused_activation(n, ins, node, out, data, twos, called, ctx.taken):
                data[n] = out[-1].name
                continue
            if owner_key is not None and weights:  # weights used again: the same layer (`share:`)
                owner = first.setdefault(owner_key, node)
                if owner is not node:
                    if (owner.type, owner.params) != (node.type, node.params):
                        raise ctx.fail(f"{where}: module {owner_key} is called again as another layer "
                                       f"({node.type} after {owner.type}); cnncalc cannot write it as shared",
                                       "import-mismatch")
                    node.shares, node.weights = owner.name, 0
        data[n] = node.name
        out.append(node)
    return _global_pools(out, list(dict.fromkeys(returned)))


def _fused_activation(n: Any, ins: list[Any], act: Node, out: list[Node], data: dict[Any, str], twos: set[str],
                      called: Counter[str], taken: set[str]) -> bool:
    """An activation module after a convolution or dense module, the two children of an nn.Sequential
    (torch's own class: not a subclass such as torchvision's Conv2dNormActivation, whose children are
    layers of their own) called once: cnncalc's PyTorch export of a layer's activation=. The layer
    (out[-1]) takes the activation as its `activation:` and the Sequential's path as its name; True if
    it did."""
    seq, _, last = str(n.target).rpartition(".")
    src = ins[0] if len(ins) == 1 else None
    if n.op != "call_module" or last != "1" or seq not in twos or seq in taken or src is None \
            or src.op != "call_module" or src.target != f"{seq}.0" or len(src.users) != 1 \
            or called[str(src.target)] != 1 or called[str(n.target)] != 1 or not out or out[-1].name != data[src] \
            or out[-1].shares:
        return False
    layer = out[-1]
    fused = with_activation((layer.type, layer.params, layer.note), (act.type, act.params, act.note))
    if fused is None:
        return False
    layer.name, layer.params, layer.shape = seq, fused[1], act.shape
    taken.add(seq)
    return True


def _global_pools(nodes: list[Node], returned: list[str]) -> tuple[list[Node], list[str]]:
    """A module of just an adaptive pooling to 1 and a flatten (`nn.Sequential(nn.AdaptiveAvgPool2d(1),
    nn.Flatten())`) is one global pooling layer named after the module, as its ONNX export reads."""
    users: dict[str, int] = {}
    inside: dict[str, int] = {}
    for n in nodes:
        for i in n.inputs:
            users[i] = users.get(i, 0) + 1
        parts = n.name.split(".")
        for j in range(1, len(parts)):
            inside[".".join(parts[:j])] = inside.get(".".join(parts[:j]), 0) + 1
    renamed: dict[str, str] = {}
    keep: list[Node] = []
    for n in nodes:
        p = keep[-1] if keep else None
        head = n.name.rpartition(".")[0]
        if (p is not None and n.type == "flatten" and n.inputs == [p.name] and users.get(p.name) == 1
                and head and p.name.rpartition(".")[0] == head and inside.get(head) == 2 and not p.shares
                and p.type.startswith(("adaptive_avg_pool", "adaptive_max_pool", "global_max_pool"))
                and p.params.get("output_size", 1) == 1 and p.name not in returned):
            kind = "avg" if "avg" in p.type else "max"
            fused = Node(head, f"global_{kind}_pool{p.type[-2]}d", {}, p.inputs, n.shape, 0, "", n.where, n.cls)
            keep[-1] = fused
            renamed[n.name] = head
            continue
        if renamed:
            n.inputs = [renamed.get(i, i) for i in n.inputs]
        keep.append(n)
    return keep, [renamed.get(r, r) for r in returned]


def _per_position_bias(gm: Any, n: Any, ins: list[Any], data: dict[Any, str], out: list[Node],
                       shape: tuple[int, ...] | None) -> Node | None:
    """`conv(x) + bias`, a weight of the conv's output shape added to a convolution without bias (cnncalc's
    PerPositionBias, AlphaGo's last layer): the convolution, with bias per_position, named after the
    module holding both. None if `n` is not that."""
    if n.op != "call_function" or getattr(n.target, "__name__", "") not in ("add", "iadd") or len(ins) != 1 \
            or len(n.args) != 2 or shape is None:
        return None
    other: Any = next((a for a in n.args if a is not ins[0]), None)
    src = ins[0]
    if getattr(other, "op", "") != "get_attr" or src.op != "call_module" or len(src.users) != 1 or not out \
            or out[-1].name != data[src]:
        return None
    conv = out[-1]
    bias = gm.get_parameter(other.target) if isinstance(other.target, str) else None
    if conv.type not in ("conv1d", "conv2d", "conv3d") or conv.params.get("bias") is not False or conv.shares \
            or bias is None or tuple(bias.shape) not in (tuple(shape[1:]), tuple(shape)):
        return None
    scope = ".".join(str(other.target).split(".")[:-1])
    parts: list[str] = []
    for x, y in zip(conv.name.split("."), scope.split("."), strict=False):
        if x != y:
            break
        parts.append(x)
    common = ".".join(parts)
    conv.params["bias"] = "per_position"
    conv.weights = (conv.weights or 0) + bias.numel()
    if common and common != conv.name:
        conv.name = common
    return conv


def _layer_scale(gm: Any, n: Any, ins: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None]
                 ) -> tuple[str, Mapped, int] | None:
    """`γ * x`, a learned parameter scaling one axis of a computed tensor (torchvision's ConvNeXt
    `self.layer_scale * self.block(x)`, timm's LayerScale): (the parameter's path as the layer's name, a
    layer_scale, γ's size). None if `n` is not that (a constant or a buffer is no layer scale)."""
    if n.op not in ("call_function", "call_method") or len(ins) != 1 or len(n.args) != 2 or n.kwargs \
            or str(getattr(n.target, "__name__", n.target)) not in ("mul", "imul", "mul_"):
        return None
    other: Any = next((a for a in n.args if a is not ins[0]), None)
    if getattr(other, "op", "") != "get_attr" or not isinstance(other.target, str):
        return None
    try:
        gamma = gm.get_parameter(other.target)
    except AttributeError:
        return None
    x, g = shape_of(ins[0]), tuple(int(d) for d in gamma.shape)
    if x is None or shape_of(n) != x or not g or len(g) > len(x):
        return None
    scaled = [i for i, d in enumerate(g) if d != 1]
    if len(scaled) != 1:
        return None
    axis = len(x) - len(g) + scaled[0]
    if axis == 0 or g[scaled[0]] != x[axis]:
        return None
    return other.target, ("layer_scale", {} if axis == 1 else {"axis": axis}), gamma.numel()


# a use of a tensor that reads only its size: no data flows through it
_SIZE_ATTRS = ("shape", "ndim", "dtype", "device")
_SIZE_METHODS = ("size", "dim", "numel")


def _data_users(n: Any) -> list[Any]:
    """The users of `n` that read its values (not those that only ask its size, as torchvision's
    shape assertions do)."""
    return [u for u in n.users
            if not (u.op == "call_function" and getattr(u.target, "__name__", "") == "getattr"
                    and len(u.args) > 1 and u.args[1] in _SIZE_ATTRS)
            and not (u.op == "call_method" and u.target in _SIZE_METHODS)]


def _sole(n: Any) -> Any:
    users = _data_users(n)
    return users[0] if len(users) == 1 else None


def _parameter(gm: Any, n: Any) -> Any:
    """The learned parameter a get_attr node reads, or None (a buffer, a constant, a computed tensor)."""
    if getattr(n, "op", "") != "get_attr" or not isinstance(n.target, str):
        return None
    try:
        return gm.get_parameter(n.target)
    except AttributeError:
        return None


class Patch:
    """A ViT patch embedding found in the traced graph (`_patch_embeddings`)."""

    def __init__(self, conv: Any, parts: list[Any], mapped: Mapped, weights: int):
        self.conv = conv  # its convolution's call_module node: the layer is named after that module
        self.parts = parts  # the nodes before the last one
        self.mapped = mapped
        self.weights = weights


def _patch_embeddings(gm: Any, nodes: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None]
                      ) -> dict[Any, Patch]:
    """{last node: the patch embedding it ends}: a 2-D convolution with kernel = stride and no padding
    (torchvision's ViT conv_proj), its grid flattened to tokens x features (a reshape to N x dim x L and a
    transpose, or a transpose to N x h x w x dim and a reshape), then a learned class token (a parameter of
    dim elements, expanded to the batch) concatenated in front and/or a learned position embedding (a
    parameter of tokens x dim) added. Found by the shapes and the operations, not by the names; a
    convolution and a reshape alone are left as they are."""
    out: dict[Any, Patch] = {}
    for c in nodes:
        if c.op != "call_module":
            continue
        m = gm.get_submodule(c.target)
        if not any(k.__name__ == "Conv2d" and k.__module__.startswith("torch.nn") for k in type(m).__mro__):
            continue
        x, y = shape_of(c.args[0]) if c.args else None, shape_of(c)
        if x is None or y is None or len(y) != 4 or tuple(m.stride) != tuple(m.kernel_size) \
                or isinstance(m.padding, str) and m.padding != "valid" \
                or not isinstance(m.padding, str) and any(m.padding) or tuple(m.dilation) != (1, 1) \
                or m.groups != 1 or m.padding_mode != "zeros":
            continue
        n, dim, patches = y[0], y[1], y[2] * y[3]
        a = _sole(c)
        b = _sole(a) if a is not None else None
        if a is None or b is None or shape_of(b) != (n, patches, dim):
            continue
        first, second = rearrange.key(a), rearrange.key(b)
        flat = ("view", "reshape", "flatten")
        turn = ("permute", "transpose", "swapaxes")
        if first in flat and second in turn:  # N x dim x L, then its last two axes swapped
            if shape_of(a) != (n, dim, patches) or rearrange.permutation(b, 3) != [0, 2, 1]:
                continue
        elif first in turn and second in flat:  # N x h x w x dim, then h and w flattened
            if rearrange.permutation(a, 4) != [0, 2, 3, 1]:
                continue
        else:
            continue
        parts, t, tokens = [c, a], b, patches
        weights = sum(p.numel() for p in m.parameters())
        params: dict[str, Any] = {"dim": dim, "patch": compact(m.kernel_size), "class_token": False,
                                  "position_embedding": False, "bias": m.bias is not None}
        cat = _sole(t)
        if cat is not None and rearrange.key(cat) in ("cat", "concat", "concatenate") and cat.args \
                and isinstance(cat.args[0], list | tuple) and len(cat.args[0]) == 2 and cat.args[0][1] is t \
                and shape_of(cat) == (n, tokens + 1, dim) and not set(cat.args[0][0].users) - {cat}:
            token = cat.args[0][0]
            source = token.args[0] if rearrange.key(token) in ("expand", "expand_as", "broadcast_to") \
                and token.args else token
            weight = _parameter(gm, source)
            if weight is not None and weight.numel() == dim and (source is token or len(source.users) == 1):
                parts += [b] + ([token] if token is not source else [])
                params["class_token"] = True
                weights += dim
                tokens += 1
                t = cat
        add = _sole(t)
        if add is not None and rearrange.key(add) in ("add", "iadd", "add_") and len(add.args) == 2 \
                and not add.kwargs and shape_of(add) == (n, tokens, dim):
            pos = next((v for v in add.args if v is not t), None)
            weight = _parameter(gm, pos)
            if weight is not None and tuple(weight.shape)[-2:] == (tokens, dim) and weight.numel() == tokens * dim:
                parts.append(t)
                params["position_embedding"] = True
                weights += tokens * dim
                t = add
        if t is b:
            continue  # a convolution, a reshape and a transpose: what they are
        out[t] = Patch(c, [p for p in parts if p is not t], ("patch_embedding", params), weights)
    return out


def _flat(value: Any) -> list[Any]:
    """The fx nodes of forward's return value (a tensor, or a tuple, list or dict of them), in order."""
    if isinstance(value, tuple | list):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]
