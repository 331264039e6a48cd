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
    missing,
    pending,
    unique_name,
    unpack,
)


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
        raise ctx.fail(f"importing {module_name} raised {_one_line(exc)}") from None
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
                        not isinstance(m, torch.nn.Sequential | torch.nn.ModuleList | torch.nn.ModuleDict)
                        or rearrange.helper(m) is not None)

        return Tracer()


def _trace(model: Any, source: str, ctx: Context, torch: Any, name: str = "") -> Imported:
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    shape = ctx.options.input_shape
    if shape is None:
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
    if len(placeholders) != 1:
        raise ctx.fail(f"forward takes {len(placeholders)} tensors; cnncalc imports networks of one input")
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(torch.zeros((1, *shape), device="meta"))
    except Exception as exc:
        raise ctx.fail(f"running the module on the meta device (shapes only, no weights) failed at "
                       f"{_one_line(exc)}; the model needs the values of its weights or input, or does not take "
                       f"an input of {'x'.join(map(str, shape))}") from None
    classes = {path: type(m).__name__ for path, m in model.named_modules() if path}
    nodes = _map(gm, ctx, torch)
    name = name or type(model).__name__
    ctx.notes.insert(0, f"traced with torch.fx on the meta device ({torch.__version__}); input "
                        f"{'x'.join(map(str, shape))}")
    return Imported(name, "channels_first", tuple(shape), nodes, source, "PyTorch", ctx.notes, ctx.warnings,
                    classes)


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
    if nd not in (1, 2):
        raise Unmapped(f"{nd}-D convolution", "conv3d" if nd == 3 else "")
    note = "" if m.padding_mode == "zeros" else f"padding_mode {m.padding_mode}: counted as zero padding (same shape)"
    params: dict[str, Any] = {}
    depthwise = nd == 2 and m.groups == m.in_channels and m.groups > 1
    if depthwise:
        kind = "depthwise_conv2d"
        if m.out_channels != m.groups:
            params["depth_multiplier"] = m.out_channels // m.groups
    else:
        kind = "conv1d" if nd == 1 else "conv2d"
        params["filters"] = m.out_channels
    params.update(kernel=compact(m.kernel_size), stride=compact(m.stride), padding=_padding(m, nd),
                  dilation=compact(m.dilation))
    if not depthwise:
        params["groups"] = m.groups
    params["bias"] = m.bias is not None
    return kind, params, note


def m_conv_transpose(c: Call) -> Mapped:
    m = c.m
    if len(m.kernel_size) != 2:
        raise Unmapped(f"{len(m.kernel_size)}-D transposed convolution")
    return "conv_transpose2d", {"filters": m.out_channels, "kernel": compact(m.kernel_size), "stride": compact(m.stride),
                                "padding": compact(m.padding), "output_padding": compact(m.output_padding),
                                "dilation": compact(m.dilation), "groups": m.groups, "bias": m.bias is not None}


def m_linear(c: Call) -> Mapped:
    if len(c.x) != 2:
        raise Unmapped("a Linear over a tensor of more than 2 dimensions", "matmul")
    return "dense", {"units": c.m.out_features, "bias": c.m.bias is not None}


def m_batch_norm(c: Call) -> Mapped:
    m = c.m
    if not m.track_running_stats:
        raise Unmapped("batch normalisation without running statistics (cnncalc counts them)")
    return "batch_norm", {"eps": m.eps, "momentum": m.momentum if m.momentum is not None else 0.1,
                          "affine": m.affine}


def m_pool(kind: str) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        m = c.m
        params: dict[str, Any] = {"kernel": compact(m.kernel_size), "stride": compact(m.stride or m.kernel_size),
                                  "padding": compact(m.padding)}
        if m.ceil_mode:
            params["ceil_mode"] = True
        if kind == "max_pool2d":
            if getattr(m, "return_indices", False):
                raise Unmapped("max pooling that also returns the indices")
            params["dilation"] = compact(m.dilation)
        else:
            params["count_include_pad"] = m.count_include_pad
        return kind, params
    return mapped


def _outputcompact(v: Any, x: tuple[int, ...]) -> Any:
    v = list(v) if isinstance(v, list | tuple) else [v, v]
    return compact([x[2 + k] if s is None else s for k, s in enumerate(v)])


def m_adaptive_avg(c: Call) -> Mapped:
    return "adaptive_avg_pool2d", {"output_size": _outputcompact(c.m.output_size, c.x)}


def m_adaptive_max(c: Call) -> Mapped:
    if _outputcompact(c.m.output_size, c.x) != 1:
        raise Unmapped("adaptive max pooling to more than 1x1")
    return "global_max_pool2d", {"keepdims": True}


def m_act(kind: str, **params: Any) -> Callable[[Call], Mapped]:
    return lambda c: (kind, dict(params))


def m_hardtanh(c: Call) -> Mapped:
    if (c.m.min_val, c.m.max_val) == (0.0, 6.0):
        return "relu6", {}
    raise Unmapped(f"Hardtanh({c.m.min_val}, {c.m.max_val}) (only (0, 6) is relu6)")


def m_softmax(c: Call) -> Mapped:
    dim = c.m.dim
    return "softmax", {"axis": -1 if dim is None else dim}


def m_flatten(c: Call) -> Mapped:
    if c.m.start_dim != 1 or c.m.end_dim != -1:
        return _reshape(c)
    return "flatten", {}


def m_pad(c: Call) -> Mapped:
    p = list(c.m.padding) if isinstance(c.m.padding, tuple | list) else [c.m.padding] * 4
    if len(p) != 4 or len(c.x) != 4:
        raise Unmapped("padding of other than height and width")
    left, right, top, bottom = p
    value = getattr(c.m, "value", 0.0)
    note = ""
    if type(c.m).__name__ not in ("ZeroPad2d", "ConstantPad2d") or value:
        note = f"{type(c.m).__name__}: counted as zero padding (same shape, no operations)"
    return "zero_pad2d", {"padding": [[top, bottom], [left, right]]}, note


def m_lrn(c: Call) -> Mapped:
    m = c.m
    return "local_response_norm", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}


# nn.Module class name → mapping (a subclass of a torch.nn class maps as that class)
MODULES: dict[str, Callable[[Call], Mapped]] = {
    "Conv1d": m_conv, "Conv2d": m_conv, "ConvTranspose2d": m_conv_transpose, "Linear": m_linear,
    "BatchNorm1d": m_batch_norm, "BatchNorm2d": m_batch_norm,
    "MaxPool2d": m_pool("max_pool2d"), "AvgPool2d": m_pool("avg_pool2d"),
    "AdaptiveAvgPool2d": m_adaptive_avg, "AdaptiveMaxPool2d": m_adaptive_max,
    "ReLU": m_act("relu"), "ReLU6": m_act("relu6"), "Hardtanh": m_hardtanh, "Sigmoid": m_act("sigmoid"),
    "Tanh": m_act("tanh"), "SiLU": m_act("silu"), "Hardswish": m_act("hardswish"),
    "Hardsigmoid": m_act("hardsigmoid"), "GELU": lambda c: ("gelu", {}),
    "LeakyReLU": lambda c: ("leaky_relu", {"negative_slope": c.m.negative_slope}),
    "ELU": lambda c: ("elu", {"alpha": c.m.alpha}), "Softmax": m_softmax,
    "Dropout": lambda c: ("dropout", {"rate": c.m.p}), "Dropout2d": lambda c: ("dropout", {"rate": c.m.p}),
    "Dropout1d": lambda c: ("dropout", {"rate": c.m.p}), "AlphaDropout": lambda c: ("dropout", {"rate": c.m.p}),
    "Identity": m_act("identity"), "Flatten": m_flatten, "LocalResponseNorm": m_lrn,
    "ZeroPad2d": m_pad, "ConstantPad2d": m_pad, "ReflectionPad2d": m_pad, "ReplicationPad2d": m_pad,
    **rearrange.MODULES,  # resizing, rearranging, statistics
    # modules whose layer type is being added
    "MultiheadAttention": pending("attention"), "Conv3d": pending("conv3d"), "PReLU": pending("prelu"),
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
            raise Unmapped("arithmetic with a constant or a weight (only tensors computed by the network merge)")
        return kind, {}
    return mapped


def f_cat(c: Call) -> Mapped:
    if len(c.data) == 1:  # DenseNet concatenates a list of one tensor: that tensor
        return "identity", {}, "torch.cat of one tensor"
    dim = c.arg(1, "dim", 0)
    rank = len(c.out or ())
    if rank and dim % rank != 1:
        raise Unmapped(f"concatenation along dim {dim} (cnncalc concatenates channels, dim 1)")
    return "concat", {}


def f_adaptive_avg(c: Call) -> Mapped:
    return "adaptive_avg_pool2d", {"output_size": _outputcompact(c.arg(1, "output_size"), c.x)}


def f_pool(kind: str) -> Callable[[Call], Mapped]:
    def mapped(c: Call) -> Mapped:
        kernel = c.arg(1, "kernel_size")
        stride = c.arg(2, "stride") or kernel
        params: dict[str, Any] = {"kernel": compact(kernel), "stride": compact(stride), "padding": compact(c.arg(3, "padding", 0))}
        if kind == "max_pool2d":
            params["dilation"] = compact(c.arg(4, "dilation", 1))
            ceil = c.arg(5, "ceil_mode", False)
        else:
            ceil = c.arg(4, "ceil_mode", False)
            params["count_include_pad"] = bool(c.arg(5, "count_include_pad", True))
        if ceil:
            params["ceil_mode"] = True
        return kind, params
    return mapped


def f_mean(c: Call) -> Mapped:
    dims = c.arg(1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    rank = len(c.x)
    if rank != 4 or sorted(d % rank for d in dims) != [2, 3]:
        raise Unmapped(f"a mean over dims {dims} (only the spatial dims of an image are a global pooling)")
    return "global_avg_pool2d", {"keepdims": bool(c.arg(2, "keepdim", False))}


def f_softmax(c: Call) -> Mapped:
    return "softmax", {"axis": c.arg(1, "dim", -1)}


def f_dropout(c: Call) -> Mapped:
    return "dropout", {"rate": float(c.arg(1, "p", 0.5))}


def f_hardtanh(c: Call) -> Mapped:
    if (c.arg(1, "min_val", -1.0), c.arg(2, "max_val", 1.0)) == (0.0, 6.0):
        return "relu6", {}
    raise Unmapped("hardtanh other than (0, 6)")


# functions (by __name__) and tensor methods → mapping
FUNCTIONS: dict[str, Callable[[Call], Mapped]] = {
    "flatten": f_flatten, "add": f_merge("add"), "iadd": f_merge("add"), "mul": f_merge("multiply"),
    "imul": f_merge("multiply"), "cat": f_cat, "concat": f_cat, "relu": m_act("relu"), "relu_": m_act("relu"),
    "relu6": m_act("relu6"), "hardtanh": f_hardtanh, "sigmoid": m_act("sigmoid"), "tanh": m_act("tanh"),
    "silu": m_act("silu"), "hardswish": m_act("hardswish"), "hardsigmoid": m_act("hardsigmoid"),
    "gelu": m_act("gelu"), "adaptive_avg_pool2d": f_adaptive_avg, "max_pool2d": f_pool("max_pool2d"),
    "_max_pool2d": f_pool("max_pool2d"), "avg_pool2d": f_pool("avg_pool2d"), "dropout": f_dropout,
    "softmax": f_softmax, "mean": f_mean,
    "stochastic_depth": lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))},
                                   "stochastic depth: the identity at inference, as dropout"),
    **rearrange.FUNCTIONS,  # resizing, rearranging, statistics, merges
    "matmul": pending("matmul"), "bmm": pending("matmul"), "scaled_dot_product_attention": pending("attention"),
}
METHODS: dict[str, Callable[[Call], Mapped]] = {
    "view": _reshape, "reshape": _reshape, "flatten": f_flatten, "mean": f_mean, "relu": m_act("relu"),
    "relu_": m_act("relu"), "sigmoid": m_act("sigmoid"), "tanh": m_act("tanh"), "add": f_merge("add"),
    "add_": f_merge("add"), "mul": f_merge("multiply"), "mul_": f_merge("multiply"), "contiguous": m_act("identity"),
    "clone": m_act("identity"), "squeeze": _reshape, "unsqueeze": _reshape, "softmax": f_softmax,
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


def _global_pools(gm: Any, nodes: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None]
                  ) -> dict[Any, tuple[list[Any], Mapped, Any]]:
    """nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), the whole of a module (cnncalc's PyTorch export
    of global_avg_pool2d): one layer, named as the Sequential."""
    out: dict[Any, tuple[list[Any], Mapped, Any]] = {}
    for n in nodes:
        if n.op != "call_module" or not str(n.target).endswith(".1") or not n.args or not hasattr(n.args[0], "op"):
            continue
        p = n.args[0]
        seq = str(n.target)[:-2]
        if p.op != "call_module" or p.target != f"{seq}.0" or len(p.users) != 1:
            continue
        parent = gm.get_submodule(seq)
        pool, flat = gm.get_submodule(p.target), gm.get_submodule(n.target)
        shape = shape_of(n)
        if [name for name, _ in parent.named_children()] == ["0", "1"] and type(pool).__name__ == "AdaptiveAvgPool2d" \
                and type(flat).__name__ == "Flatten" and shape is not None and len(shape) == 2 \
                and _outputcompact(pool.output_size, shape_of(p.args[0]) or (0, 0, 0, 0)) == 1:
            out[n] = ([p], ("global_avg_pool2d", {}), p.args[0])
    return out


def _map(gm: Any, ctx: Context, torch: Any) -> list[Node]:
    def shape_of(n: Any) -> tuple[int, ...] | None:
        tm = n.meta.get("tensor_meta") if hasattr(n, "meta") else None
        return tuple(int(d) for d in tm.shape) if tm is not None and hasattr(tm, "shape") else None

    def shape_any(a: Any) -> tuple[int, ...] | None:
        return shape_of(a) if hasattr(a, "meta") else None

    data: dict[Any, str] = {}  # fx node → the layer name holding its value
    calls: dict[str, int] = {}
    out: list[Node] = []
    warned: set[str] = set()
    nodes = list(gm.graph.nodes)
    chains = rearrange.fuse(nodes, shape_of, lambda a: Call(a, None, shape_any, []))  # channel_shuffle, ...
    pools = _global_pools(gm, nodes, shape_of)
    chains.update(pools)
    inner = {j for before, _, _ in chains.values() for j in before}
    alone = _alone(nodes, shape_of, inner)
    pieces: dict[Any, tuple[Call, str, str]] = {}  # chunk, split → (the call, its key, the scope's name)
    for k, n in enumerate(nodes):
        if n.op == "placeholder":
            data[n] = INPUT
            continue
        if n.op in ("output", "get_attr") or n in inner:
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
        if not ins or shape_of(n) is None:
            continue  # sizes and constants: no layer
        where = f"fx node {k} ({n.op} {n.target if isinstance(n.target, str) else getattr(n.target, '__name__', n.target)})"
        module = gm.get_submodule(n.target) if n.op == "call_module" else None
        if n.op == "call_module":
            calls[n.target] = calls.get(n.target, 0) + 1
            base = n.target if calls[n.target] == 1 else f"{n.target}_{calls[n.target] - 1}"
            if n in pools:
                base = str(n.target)[:-2]
            table = MODULES
            key = next((c.__name__ for c in type(module).__mro__ if c.__module__.startswith("torch.nn")
                        and c.__name__ in MODULES), type(module).__name__)
            helper = rearrange.helper(module)
            if helper is not None:
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
        name = unique_name(base, ctx.taken)
        shape = shape_of(n)
        call = Call(n, module, shape_any, ins)
        weights = None
        if module is not None and n not in pools:
            weights = sum(p.numel() for p in module.parameters()) + sum(
                b.numel() for bn, b in module.named_buffers() if not bn.endswith("num_batches_tracked"))
            if calls[n.target] > 1 and weights and n.target not in warned:
                warned.add(n.target)
                ctx.warnings.append(f"module {n.target} is called {calls[n.target]}+ times: cnncalc counts its "
                                    f"{weights:,} weights at each call, PyTorch's parameters() once")
        inputs = [data[a] for a in ins]
        try:
            if whole and not taken:
                raise Unmapped(f"it reads every piece of a {pieces[whole[0]][1]} at once (cnncalc's chunk is one piece)")
            if n in chains:
                m = chains[n][1]
            elif taken:
                m = rearrange.piece(pieces[whole[0]][0], pieces[whole[0]][1], n.args[1])
            else:
                fn = table.get(key)
                if fn is None:
                    raise Unmapped("no cnncalc layer type computes it")
                m = fn(call)
        except Unmapped as exc:
            node = ctx.unknown(where, op_text, exc.reason, name, inputs, shape[1:] if shape else None, weights,
                               exc.awaits)
        else:
            kind, params, note = unpack(m)
            node = Node(name, kind, params, inputs, shape[1:] if shape else None, weights, note, where)
        data[n] = node.name
        out.append(node)
    return out
