"""ONNX files: the graph and the initializers' shapes, never their data.

protobuf reads a message whole, and an ONNX file is mostly weights, so `skim` splits the file (read by
position, a window at a time) at the field boundaries of the model, the graph and each initializer, and hands every
piece except the weight data to onnx's own message classes. Memory then grows with the graph, not
with the weights; each size is checked against the file before it is used, and the number of
operations is bounded, so a hostile file is refused with one line. Shapes come from onnx's shape
inference; each operation maps to a layer through the table `OPS` (op type → function).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from . import onnx_attention as attention
from . import onnx_rearrange as rearrange
from .model import (
    INPUT,
    MAX_NODES,
    MAX_SOURCE_BYTES,
    Context,
    Imported,
    ImportFailure,
    Mapped,
    Node,
    Options,
    Unmapped,
    compact,
    f32,
    input_name,
    missing,
    pending,
    unique_name,
    unpack,
    unreadable,
)
from .onnx_fold import Folder, data_tensors, settle
from .patterns import PAD_TYPES, with_activation

SMALL_TENSOR = 4096  # bytes of initializer data kept: shape constants (Reshape, Pad, Resize need their values)
TENSOR_META = (1, 2, 8, 13, 14)  # TensorProto: dims, data_type, name, external_data, data_location
MODEL_GRAPH, GRAPH_INITIALIZER = 7, 5
MODEL_DROPPED = (20,)  # training_info: the training algorithm's own graphs and weights


# ---- reading the file ----------------------------------------------------------------------------

def _varint(buf: Any, i: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= end or shift > 63:
            raise ValueError("a varint runs past its message")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: Any, start: int, end: int) -> Any:
    """(field number, start of the field's bytes, start of its value, end) of one message's fields."""
    i = start
    while i < end:
        first = i
        tag, i = _varint(buf, i, end)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, j = _varint(buf, i, end)
        elif wire == 1:
            j = i + 8
        elif wire == 5:
            j = i + 4
        elif wire == 2:
            length, i = _varint(buf, i, end)
            j = i + length
        else:
            raise ValueError(f"wire type {wire} (groups) does not occur in ONNX")
        if j > end or number == 0:
            raise ValueError("a field runs past the end of its message")
        yield number, first, i, j
        i = j


class _Window:
    """A file read by position, a window of WINDOW bytes at a time: scanning the fields touches a few
    bytes at each field's start, and the weights between are never read (a memory map would count
    the pages around every touched byte as the process's memory)."""

    WINDOW = 1 << 16

    def __init__(self, fh: Any):
        self.fh = fh
        self.start = 0
        self.data = b""

    def _load(self, i: int) -> None:
        self.fh.seek(i)
        self.start, self.data = i, self.fh.read(self.WINDOW)

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            a, b = key.start, key.stop
            if not (self.start <= a and b <= self.start + len(self.data)):
                if b - a > self.WINDOW:
                    self.fh.seek(a)
                    return self.fh.read(b - a)
                self._load(a)
            return self.data[a - self.start:b - self.start]
        if not self.start <= key < self.start + len(self.data):
            self._load(key)
            if not self.data:
                raise ValueError("the file ends inside a field")
        return self.data[key - self.start]


def skim(path: str, onnx: Any) -> Any:
    """The ModelProto of `path` with each initializer's dims, type and name but not its data (data up to
    SMALL_TENSOR bytes is kept: those are shape constants)."""
    try:
        size = os.path.getsize(path)
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after the mapping
    except OSError as exc:
        raise unreadable(path, f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        fh.close()
        raise unreadable(path, "the file is empty, not an ONNX model")
    if size > MAX_SOURCE_BYTES:
        fh.close()
        raise unreadable(path, f"{size:,} bytes is more than an ONNX file can be ({MAX_SOURCE_BYTES:,})")
    with fh:
        buf = _Window(fh)
        try:
            return _split(buf, size, onnx, path)
        except ImportFailure:
            raise
        except (ValueError, RecursionError) as exc:
            raise unreadable(path, f"not an ONNX model, or a truncated one ({exc})") from None
        except Exception as exc:  # protobuf's DecodeError and its kin: the bytes are no ONNX message
            raise unreadable(path, f"not an ONNX model, or a truncated one ({type(exc).__name__}: "
                                   f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'cannot parse'})"
                             ) from None


def _split(buf: Any, size: int, onnx: Any, path: str) -> Any:
    model_rest = bytearray()
    graph: tuple[int, int] | None = None
    for number, first, start, end in _fields(buf, 0, size):
        if number == MODEL_GRAPH:
            graph = (start, end)
        elif number not in MODEL_DROPPED:
            model_rest += buf[first:end]
    model = onnx.ModelProto.FromString(bytes(model_rest))
    if graph is None:
        raise ValueError("no graph in the file")
    graph_rest = bytearray()
    tensors = []
    count = 0
    for number, first, start, end in _fields(buf, *graph):
        count += 1
        if count > 4 * MAX_NODES:
            raise ImportFailure(path, f"the graph has more than {4 * MAX_NODES:,} entries (nodes, tensors, "
                                      "names); cnncalc imports smaller graphs", "too-large")
        if number == GRAPH_INITIALIZER:
            keep = bytearray()
            data = 0
            for n2, f2, _, e2 in _fields(buf, start, end):
                if n2 in TENSOR_META:
                    keep += buf[f2:e2]
                else:
                    data += e2 - f2
            small = end - start <= SMALL_TENSOR + 512
            tensors.append(onnx.TensorProto.FromString(bytes(buf[start:end]) if small else bytes(keep)))
        else:
            graph_rest += buf[first:end]
    model.graph.ParseFromString(bytes(graph_rest))
    model.graph.initializer.extend(tensors)
    return model


# ---- the graph -----------------------------------------------------------------------------------

class Graph:
    """The model's tensors and nodes as the mapping functions see them."""

    def __init__(self, model: Any, onnx: Any, ctx: Context):
        self.onnx = onnx
        self.ctx = ctx
        g = model.graph
        self.init: dict[str, tuple[int, ...]] = {t.name: tuple(t.dims) for t in g.initializer}
        self.tensors = {t.name: t for t in g.initializer}
        self.consts: dict[str, Any] = {}  # name → numpy value, for small constants
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.folder: Folder | None = None  # computes the values of small tensors made of constants
        self.data: set[str] = set()  # the tensors computed from the network's inputs
        self.origin: dict[str, str] = {}  # a stored weight reshaped or cast → the initializer it is
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            self.shapes[vi.name] = _dims(vi)

    def const(self, name: str) -> Any:
        """The value of a constant input (initializer, Constant, Identity of one, or a small computation of
        those, by the folder: torch writes a Pad's sizes as a dozen nodes), or None."""
        if name in self.consts:
            return self.consts[name]
        t = self.tensors.get(name)
        if t is not None and (t.raw_data or t.int64_data or t.float_data or t.int32_data or t.double_data):
            from onnx import numpy_helper

            return numpy_helper.to_array(t)
        return self.folder.value(name) if self.folder is not None else None

    def numel(self, name: str) -> int | None:
        name = self.origin.get(name, name)
        if name in self.init:
            return math.prod(self.init[name])
        v = self.consts.get(name)
        return int(v.size) if v is not None else None

    def shape(self, name: str) -> tuple[int, ...] | None:
        if name in self.init:
            return self.init[name]
        return self.shapes.get(name)


def _all_dims(model: Any) -> dict[str, tuple[int, ...] | None]:
    g = model.graph
    out = {vi.name: _dims(vi) for vi in list(g.input) + list(g.value_info) + list(g.output)}
    out.update({t.name: tuple(t.dims) for t in g.initializer})
    return out


def _dims(vi: Any) -> tuple[int, ...] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if not d.HasField("dim_value"):
            dims.append(-1)
        else:
            dims.append(d.dim_value)
    return tuple(dims)


# ---- mapping helpers -----------------------------------------------------------------------------

def _attrs(node: Any, onnx: Any) -> dict[str, Any]:
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode(errors="replace")
        elif isinstance(v, float):  # a float32 attribute, written as its shortest decimal (1e-05)
            v = f32(v)
        out[a.name] = v
    return out


def _padding(pads: list[int] | None, nd: int) -> Any:
    """ONNX pads [b1, b2, e1, e2] as the spec's padding: an int, a pair, or [top, bottom, left, right]."""
    if not pads:
        return 0
    begin, end = list(pads[:nd]), list(pads[nd:])
    if begin == end:
        return compact(begin)
    if nd == 1:
        return [begin[0], end[0]]
    if nd == 2:
        return [v for pair in zip(begin, end, strict=True) for v in pair]
    return [[b, e] for b, e in zip(begin, end, strict=True)]


def _auto_pad(mode: str, sizes: tuple[int, ...], kernel: list[int], stride: list[int], dilation: list[int],
              pads: list[int] | None) -> Any:
    nd = len(kernel)
    if mode in ("", "NOTSET"):
        return _padding(pads, nd)
    if mode == "VALID":
        return 0
    if mode == "SAME_UPPER":
        return "same"
    begin, end = [], []  # SAME_LOWER: the extra pixel at the top/left
    for i, k, s, d in zip(sizes, kernel, stride, dilation, strict=True):
        total = max((-(-i // s) - 1) * s + d * (k - 1) + 1 - i, 0)
        begin.append(total - total // 2)
        end.append(total // 2)
    return _padding(begin + end, nd)


class Op:
    """One ONNX node being mapped: its attributes, tensors and shapes."""

    def __init__(self, g: Graph, node: Any, index: int, data: list[str]):
        self.g = g
        self.node = node
        self.type = node.op_type
        self.attrs = _attrs(node, g.onnx)
        self.index = index
        self.data = data  # the inputs that carry data (not constants)
        self.where = f"node {index} ({node.op_type} {node.name!r})" if node.name else f"node {index} ({node.op_type})"

    def a(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    @property
    def x(self) -> tuple[int, ...]:
        s = self.g.shape(self.node.input[0])
        if s is None or any(d < 0 for d in s[1:]):
            raise self.g.ctx.fail(f"{self.where}: the shape of its input {self.node.input[0]!r} is not known; "
                                  "give the input size with --input")
        return s

    def out(self, k: int = 0) -> tuple[int, ...] | None:
        s = self.g.shape(self.node.output[k])
        return None if s is None or any(d < 0 for d in s[1:]) else s

    def const_in(self, k: int) -> Any:
        if len(self.node.input) <= k or not self.node.input[k]:
            return None
        return self.g.const(self.node.input[k])

    def weight(self, k: int) -> tuple[int, ...]:
        name = self.node.input[k] if len(self.node.input) > k else ""
        shape = self.g.init.get(name)
        if shape is None and name in self.g.consts:
            shape = tuple(self.g.consts[name].shape)
        if shape is None and name in self.g.origin:  # a stored weight reshaped (PRelu's slopes as C x 1 x 1)
            shape = self.g.shapes.get(name) or self.g.init[self.g.origin[name]]
        if shape is None:
            raise Unmapped("its weights are computed, not stored in the file", "")
        return shape

    def has(self, k: int) -> bool:
        return len(self.node.input) > k and bool(self.node.input[k])




def conv(op: Op) -> Mapped:
    w = op.weight(1)
    x = op.x
    nd = len(w) - 2
    if nd not in (1, 2, 3):
        raise Unmapped(f"{nd}-D convolution")
    kernel = list(w[2:])
    stride = list(op.a("strides", [1] * nd))
    dilation = list(op.a("dilations", [1] * nd))
    groups = op.a("group", 1)
    params: dict[str, Any] = {}
    depthwise = nd == 2 and groups == x[1] and groups > 1 and w[0] % groups == 0
    if depthwise:
        kind = "depthwise_conv2d"
        if w[0] != groups:
            params["depth_multiplier"] = w[0] // groups
    else:
        kind = f"conv{nd}d"
        params["filters"] = w[0]
    params["kernel"] = compact(kernel)
    params["stride"] = compact(stride)
    params["padding"] = _auto_pad(op.a("auto_pad", "NOTSET"), x[2:], kernel, stride, dilation, op.a("pads"))
    params["dilation"] = compact(dilation)
    if not depthwise:
        params["groups"] = groups
    params["bias"] = op.has(2)
    return kind, params


def conv_transpose(op: Op) -> Mapped:
    w = op.weight(1)
    x = op.x
    nd = len(w) - 2
    if nd not in (1, 2, 3):
        raise Unmapped(f"{nd}-D transposed convolution")
    groups = op.a("group", 1)
    kernel = list(w[2:])
    stride = list(op.a("strides", [1] * nd))
    dilation = list(op.a("dilations", [1] * nd))
    out_pad = list(op.a("output_padding", [0] * nd))
    pads = op.a("pads")
    target = op.a("output_shape")
    mode = op.a("auto_pad", "NOTSET")
    if target or mode in ("SAME_UPPER", "SAME_LOWER"):
        goal = list(target)[-nd:] if target else [i * s for i, s in zip(x[2:], stride, strict=True)]
        begin, end = [], []
        for i, k, s, d, o, t in zip(x[2:], kernel, stride, dilation, out_pad, goal, strict=True):
            total = s * (i - 1) + o + (k - 1) * d + 1 - t
            small = total // 2
            big = total - small
            begin.append(big if mode == "SAME_LOWER" else small)
            end.append(small if mode == "SAME_LOWER" else big)
        pads = begin + end
    elif mode == "VALID":
        pads = None
    return f"conv_transpose{nd}d", {"filters": w[1] * groups, "kernel": compact(kernel), "stride": compact(stride),
                                "padding": _padding(pads, nd), "output_padding": compact(out_pad),
                                "dilation": compact(dilation), "groups": groups, "bias": op.has(2)}


def pool(kind: str) -> Callable[[Op], Mapped]:
    def mapped(op: Op) -> Mapped:
        if len(op.node.output) > 1 and op.node.output[1]:
            raise Unmapped("max pooling that also returns the indices")
        x = op.x
        kernel = list(op.a("kernel_shape"))
        nd = len(kernel)
        if nd not in (1, 2, 3):
            raise Unmapped(f"{nd}-D pooling")
        stride = list(op.a("strides", [1] * nd))
        dilation = list(op.a("dilations", [1] * nd))
        params: dict[str, Any] = {"kernel": compact(kernel), "stride": compact(stride),
                                  "padding": _auto_pad(op.a("auto_pad", "NOTSET"), x[2:], kernel, stride, dilation,
                                                       op.a("pads"))}
        if op.a("ceil_mode", 0):
            params["ceil_mode"] = True
        if kind == "max_pool":
            params["dilation"] = compact(dilation)
        else:
            params["count_include_pad"] = bool(op.a("count_include_pad", 0))
        return f"{kind}{nd}d", params
    return mapped


def global_pool(kind: str) -> Callable[[Op], Mapped]:
    def mapped(op: Op) -> Mapped:
        nd = len(op.x) - 2
        if nd not in (1, 2, 3):
            raise Unmapped(f"global pooling over {nd} spatial dims")
        return f"{kind}{nd}d", {"keepdims": True}
    return mapped


def reduce(kind: str) -> Callable[[Op], Mapped]:
    def mapped(op: Op) -> Mapped:
        axes = op.a("axes")
        if axes is None and op.has(1):
            c = op.const_in(1)
            axes = None if c is None else [int(v) for v in c.reshape(-1)]
        rank = len(op.x)
        if rank not in (3, 4, 5) or sorted(a % rank for a in (axes or [])) != list(range(2, rank)):
            raise Unmapped(f"{op.type} over axes {axes} (only all the spatial axes are a global pooling)")
        return f"{kind}{rank - 2}d", {"keepdims": bool(op.a("keepdims", 1))}
    return mapped


def gemm(op: Op) -> Mapped:
    if op.a("transA", 0) or len(op.x) != 2:
        raise Unmapped("Gemm with a transposed or non-matrix first input")
    w = op.weight(1)
    units = w[0] if op.a("transB", 0) else w[1]
    return "dense", {"units": units, "bias": op.has(2)}


def matmul(op: Op) -> Mapped:
    a_in, w_in = op.node.input[0], op.node.input[1]
    if w_in in op.data or w_in not in op.g.init and w_in not in op.g.origin and op.const_in(1) is None:
        if a_in not in op.data:
            raise Unmapped(f"the stored weight {a_in!r} times a computed tensor (a product over the tensor's "
                           "positions, not its last axis as a dense layer)", "matmul")
        raise Unmapped("a matrix product of two computed tensors", "matmul")
    w = op.weight(1)
    if len(op.x) < 2 or len(w) != 2:
        raise Unmapped(f"a matrix product with a weight of {len(w)} dimension{'s' if len(w) != 1 else ''} (a "
                       "dense layer's has 2)" if len(w) != 2 else "a matrix product of a vector", "matmul")
    return "dense", {"units": w[1], "bias": False}


def batch_norm(op: Op) -> Mapped:
    return "batch_norm", {"eps": float(op.a("epsilon", 1e-5)), "momentum": round(1 - op.a("momentum", 0.9), 10)}


def simple(kind: str, **params: Any) -> Callable[[Op], Mapped]:
    return lambda op: (kind, dict(params))


def leaky_relu(op: Op) -> Mapped:
    return "leaky_relu", {"negative_slope": float(op.a("alpha", 0.01))}


def elu(op: Op) -> Mapped:
    return "elu", {"alpha": float(op.a("alpha", 1.0))}


def hard_sigmoid(op: Op) -> Mapped:
    alpha, beta = op.a("alpha", 0.2), op.a("beta", 0.5)
    note = "" if abs(alpha - 1 / 6) < 1e-6 and beta == 0.5 else \
        f"HardSigmoid alpha {alpha:g}, beta {beta:g}: counted as hardsigmoid (same shape and counts)"
    return "hardsigmoid", {}, note


def gelu(op: Op) -> Mapped:
    return "gelu", {"approximate": op.a("approximate", "none")}


def prelu(op: Op) -> Mapped:
    slope = op.weight(1)
    n = math.prod(slope)
    x = op.x
    if n == 1:
        return "prelu", {}
    if len(x) >= 2 and n == x[1] and len(slope) >= 1 and slope[0] == n and len(slope) <= len(x) - 1:
        return "prelu", {"num_parameters": n}
    raise Unmapped(f"PRelu with slopes of shape {list(slope)} (only one, or one per channel)")


def selu(op: Op) -> Mapped:
    alpha, gamma = op.a("alpha", 1.6732632), op.a("gamma", 1.050701)
    if abs(alpha - 1.6732632423543772) > 1e-6 or abs(gamma - 1.0507009873554805) > 1e-6:
        raise Unmapped(f"Selu with alpha {alpha}, gamma {gamma} (cnncalc's selu has the standard constants)")
    return "selu", {}


def shrink(op: Op) -> Mapped:
    lambd, bias = float(op.a("lambd", 0.5)), float(op.a("bias", 0.0))
    if bias == 0:
        return "hardshrink", {"lambd": lambd}
    if bias == lambd:
        return "softshrink", {"lambd": lambd}
    raise Unmapped(f"Shrink with bias {bias} and lambd {lambd} (only 0: hardshrink, or lambd: softshrink)")


def gather(op: Op) -> Mapped:
    index = op.const_in(1)
    rank = len(op.x)
    if rank != 3 or op.a("axis", 0) % rank != 1 or index is None or index.ndim != 0:
        raise Unmapped("Gather other than one token of a tokens x features sequence (x[:, i])")
    return "select_token", {"index": int(index)}


def softmax(op: Op) -> Mapped:
    axis = op.a("axis", -1 if op.g.opset >= 13 else 1)
    rank = len(op.x)
    if op.g.opset < 13 and axis % rank != rank - 1:
        raise Unmapped(f"Softmax of opset {op.g.opset} over the flattened axes from {axis}")
    return "softmax", {"axis": axis if axis < 0 else axis}


def clip(op: Op) -> Mapped:
    lo, hi = op.a("min"), op.a("max")
    if op.has(1):
        c = op.const_in(1)
        lo = None if c is None or c.size != 1 else float(c.reshape(-1)[0])
    if op.has(2):
        c = op.const_in(2)
        hi = None if c is None or c.size != 1 else float(c.reshape(-1)[0])
    if lo == 0 and hi == 6:
        return "relu6", {}
    if lo == 0 and hi is None:
        return "relu", {}
    if lo is not None and hi is not None:
        return "hardtanh", {"min_val": lo, "max_val": hi}
    raise Unmapped(f"Clip to [{lo}, {hi}] (a clip to one bound other than [0, ∞) is no layer type)")


def dropout(op: Op) -> Mapped:
    rate = op.a("ratio", 0.5)
    c = op.const_in(1)
    if c is not None:
        rate = float(c)
    return "dropout", {"rate": float(rate)}


def flatten(op: Op) -> Mapped:
    if op.a("axis", 1) != 1:
        raise Unmapped(f"Flatten from axis {op.a('axis')} (only from axis 1: the batch stays)")
    return "flatten", {}


def reshape(op: Op) -> Mapped:
    out = op.out()
    if out is None:
        raise Unmapped("a reshape whose output shape is not known")
    if len(out) == 2 and len(op.x) > 2:
        return "flatten", {}
    if len(out) < 2:
        raise Unmapped("a reshape that merges the batch")
    return "reshape", {"shape": list(out[1:])}


def concat(op: Op) -> Mapped:
    axis = op.a("axis", 1)
    rank = len(op.x)
    if axis % rank != 1:
        raise Unmapped(f"concatenation along axis {axis} (cnncalc concatenates channels, axis 1)")
    if len(op.data) != len(op.node.input):
        raise Unmapped("Concat with a constant (only tensors computed by the network are concatenated)")
    if len(op.data) == 1:  # torch.cat of a one-tensor list: the tensor itself
        return "identity", {}
    return "concat", {}


def merge(kind: str) -> Callable[[Op], Mapped]:
    def mapped(op: Op) -> Mapped:
        if len(op.data) != len(op.node.input) or len(op.data) < 2:
            raise Unmapped(f"{op.type} with a constant (only tensors computed by the network are merged)")
        return kind, {}
    return mapped


PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pads(op: Op) -> tuple[str, list[int], list[int], float]:
    """(spec mode, begin and end of each spatial dim, value) of a Pad node."""
    mode = op.a("mode", "constant")
    pads = op.a("pads")
    if pads is None:
        c = op.const_in(1)
        pads = None if c is None else [int(v) for v in c.reshape(-1)]
    if op.has(3):
        raise Unmapped("Pad of chosen axes (only pads given for every axis)")
    c = op.const_in(2)
    value = float(c) if c is not None else float(op.a("value", 0.0))
    rank = len(op.x)
    nd = rank - 2
    if pads is None or len(pads) != 2 * rank or nd not in (1, 2, 3) or any(pads[i] for i in (0, 1, rank, rank + 1)) \
            or any(p < 0 for p in pads):
        raise Unmapped(f"Pad {pads} (only non-negative padding of the 1 to 3 spatial dims)")
    if mode not in PAD_MODES:
        raise Unmapped(f"Pad mode {mode!r}")
    spec_mode = PAD_MODES[mode]
    if spec_mode == "zeros" and value != 0:
        spec_mode = "constant"
    return spec_mode, list(pads[2:rank]), list(pads[rank + 2:]), value


def _negative(op: Op) -> list[int] | None:
    """The pads of a Pad by negative amounts (torch's F.pad crops so), else None."""
    pads = op.a("pads")
    if pads is None:
        c = op.const_in(1)
        pads = None if c is None else [int(v) for v in c.reshape(-1)]
    return pads if pads is not None and any(p < 0 for p in pads) else None


def pad(op: Op) -> Mapped:
    negative = _negative(op)
    if negative is not None:
        return rearrange.crop_pad(op.x, negative)
    mode, begin, end, value = _pads(op)
    params: dict[str, Any] = {"padding": compact(begin) if begin == end else
                              [[b, e] for b, e in zip(begin, end, strict=True)]}
    if mode == "constant":
        params["value"] = value
    return f"{PAD_TYPES[mode]}{len(begin)}d", params


def _pad_fuses(g: Graph, nodes: Any, p: int, k: int) -> bool:
    """Pad node p before node k (a Conv, MaxPool or AveragePool that pads nothing itself) is that layer's
    padding: zeros for all three, reflect/replicate/circular (PyTorch's padding_mode) for a Conv."""
    last = Op(g, nodes[k], k, [])
    if last.a("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or any(last.a("pads") or []):
        return False
    try:
        mode = _pads(Op(g, nodes[p], p, []))[0]
    except (Unmapped, ImportFailure):
        return False
    return mode == "zeros" or mode != "constant" and nodes[k].op_type == "Conv"


def lrn(op: Op) -> Mapped:
    return "local_response_norm", {"size": op.a("size"), "alpha": float(op.a("alpha", 1e-4)),
                                   "beta": float(op.a("beta", 0.75)), "k": float(op.a("bias", 1.0))}


def squeeze(op: Op) -> Mapped:
    return reshape(op)


# op type → mapping. A new layer type that an ONNX op computes is one entry here.
OPS: dict[str, Callable[[Op], Mapped]] = {
    "Conv": conv, "ConvTranspose": conv_transpose,
    "MaxPool": pool("max_pool"), "AveragePool": pool("avg_pool"),
    "GlobalAveragePool": global_pool("global_avg_pool"), "GlobalMaxPool": global_pool("global_max_pool"),
    "ReduceMean": reduce("global_avg_pool"), "ReduceMax": reduce("global_max_pool"),
    "Gemm": gemm, "MatMul": matmul, "BatchNormalization": batch_norm, "LRN": lrn,
    "Relu": simple("relu"), "LeakyRelu": leaky_relu, "Elu": elu, "Sigmoid": simple("sigmoid"),
    "Tanh": simple("tanh"), "HardSigmoid": hard_sigmoid, "HardSwish": simple("hardswish"), "Gelu": gelu,
    "Softmax": softmax, "Clip": clip, "Dropout": dropout, "Identity": simple("identity"),
    "Flatten": flatten, "Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": squeeze,
    "Concat": concat, "Add": merge("add"), "Sum": merge("add"), "Mul": rearrange.multiply, "Pad": pad,
    "PRelu": prelu, "Selu": selu, "Celu": lambda op: ("celu", {"alpha": float(op.a("alpha", 1.0))}),
    "Softplus": simple("softplus"), "Softsign": simple("softsign"), "Mish": simple("mish"), "Shrink": shrink,
    "ThresholdedRelu": lambda op: ("threshold", {"threshold": float(op.a("alpha", 1.0)), "value": 0.0}),
    "LogSoftmax": lambda op: ("log_softmax", {"axis": unpack(softmax(op))[1]["axis"]}), "Gather": gather,
    "Resize": rearrange.resize, "Upsample": rearrange.resize, "DepthToSpace": rearrange.depth_to_space,
    "SpaceToDepth": rearrange.space_to_depth, "Transpose": rearrange.transpose, "Slice": rearrange.slice_op,
    "LayerNormalization": rearrange.layer_norm, "GroupNormalization": rearrange.group_norm,
    "InstanceNormalization": rearrange.instance_norm, "Sub": rearrange.merge("subtract"),
    "Max": rearrange.merge("maximum"), "Min": rearrange.merge("minimum"), "Mean": rearrange.merge("average"),
    "Div": rearrange.divide,
    # operators whose layer type is being added
    "Einsum": pending("matmul"),
}

# the inputs of an op that carry data; the others are sizes, axes or constants
DATA_INPUTS = {"Gather": 1, "Reshape": 1, "Resize": 1, "Upsample": 1, "Pad": 1, "Slice": 1, "Expand": 1, "Tile": 1,
               "Squeeze": 1, "Unsqueeze": 1, "Clip": 1, "Dropout": 1, "ReduceMean": 1, "ReduceMax": 1,
               "ReduceSum": 1, "TopK": 1, "Split": 1}
NO_DATA = frozenset(("Shape", "Size", "Constant", "ConstantOfShape", "EyeLike", "RandomNormal", "RandomUniform"))
# ops that are an activation, which a convolution or dense layer before them can take as its parameter
ACTIVATIONS = frozenset(("Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu", "Softmax",
                         "Clip"))
# ops that keep a stored weight's values (reshaped or cast): their output is still that weight
RESHAPING = frozenset(("Unsqueeze", "Squeeze", "Reshape", "Cast", "Transpose", "Flatten"))
# ops whose weights are their inputs after the first
WEIGHTED = frozenset(("Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "PRelu",
                      "LayerNormalization", "GroupNormalization", "InstanceNormalization"))


# ---- the import ----------------------------------------------------------------------------------

def read(source: str, options: Options) -> Imported:
    try:
        import onnx
    except ImportError:
        raise missing(source, "onnx", "onnx") from None
    ctx = Context(source, options)
    model = skim(source, onnx)
    g0 = model.graph
    if len(g0.node) > MAX_NODES:
        raise ctx.fail(f"the graph has {len(g0.node):,} nodes, more than the {MAX_NODES:,} cnncalc imports")
    inits = {t.name for t in g0.initializer}
    real = [vi for vi in g0.input if vi.name not in inits]
    if not real:
        raise ctx.fail("the graph has no input")
    given = options.input_shapes
    if given and len(given) != len(real):
        raise ctx.fail(f"--input gives {len(given)} shape{'s' if len(given) != 1 else ''}, the model has "
                       f"{len(real)} input{'s' if len(real) != 1 else ''} ({', '.join(vi.name for vi in real[:5])})")
    shapes: list[tuple[int, ...]] = []
    for k, inp in enumerate(real):
        dims = _dims(inp)
        if dims is None or len(dims) < 2:
            raise ctx.fail(f"input {inp.name!r} has no declared shape; give it with --input")
        if given:
            if len(given[k]) != len(dims) - 1:
                raise ctx.fail(f"--input {'x'.join(map(str, given[k]))} has {len(given[k])} dims, the model's input "
                               f"{inp.name!r} has {len(dims) - 1} besides the batch")
            dims = (1, *given[k])
        if any(d < 1 for d in dims[1:]):
            raise ctx.fail(f"input {inp.name!r} has the shape {list(dims)}, with sizes not fixed in the file; "
                           "give them with --input (e.g. --input 3x224x224)")
        shape = inp.type.tensor_type.shape
        for j, d in enumerate(dims):
            shape.dim[j].Clear()
            shape.dim[j].dim_value = d if j else 1
        shapes.append(tuple(dims[1:]))
    names = {inp.name: input_name(inp.name, ctx.taken) for inp in real} if len(real) > 1 else {real[0].name: INPUT}

    def infer(m: Any) -> Any:
        try:
            return onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ctx.fail(f"onnx shape inference failed: {msg[:300]}") from None

    model = settle(infer(model), set(names), DATA_INPUTS, NO_DATA, _all_dims, infer)
    g = Graph(model, onnx, ctx)
    g.data = data_tensors(model.graph, set(names), DATA_INPUTS, NO_DATA)
    g.folder = Folder(model.graph, model.opset_import, _all_dims(model), set(g.data))
    nodes, outputs = _map(g, model.graph, names, ctx)
    producer = f"{model.producer_name} {model.producer_version}".strip()
    ctx.notes.insert(0, f"ONNX opset {g.opset}" + (f", written by {producer}" if producer else "")
                     + f"; {len(model.graph.node):,} nodes, {len(inits):,} initializers")
    name = model.graph.name
    if name in ("", "main_graph", "torch_jit", "torch-jit-export"):  # the exporters' placeholders
        name = os.path.splitext(os.path.basename(source))[0]
    inputs = {names[inp.name]: s for inp, s in zip(real, shapes, strict=True)} if len(real) > 1 else {}
    return Imported(name, "channels_first", shapes[0], nodes, source, "ONNX", ctx.notes, ctx.warnings,
                    inputs=inputs, outputs=outputs)


def _map(g: Graph, graph: Any, input_names: dict[str, str], ctx: Context) -> tuple[list[Node], list[str]]:
    from onnx import numpy_helper

    data: set[str] = g.data
    data.update(input_names)
    producer: dict[str, int] = {}
    consumers: dict[str, list[int]] = {}
    for k, n in enumerate(graph.node):
        for t in n.input:
            consumers.setdefault(t, []).append(k)
        for t in n.output:
            producer[t] = k
    is_data: list[list[str]] = []
    skipped = 0
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.ByteSize() <= SMALL_TENSOR + 512:
                    g.consts[n.output[0]] = numpy_helper.to_array(a.t)
        limit = DATA_INPUTS.get(n.op_type, len(n.input))
        ins = [t for t in n.input[:limit] if t in data] if n.op_type not in NO_DATA else []
        is_data.append(ins)
        if ins:
            data.update(t for t in n.output if t)
        else:
            skipped += 1
            if n.op_type == "Identity" and n.input and n.input[0] in g.init:
                g.init[n.output[0]] = g.init[n.input[0]]
            elif n.op_type in RESHAPING and n.input and n.output and (n.input[0] in g.init or n.input[0] in g.origin):
                g.origin[n.output[0]] = g.origin.get(n.input[0], n.input[0])
            elif n.op_type == "Identity" and n.input and n.input[0] in g.consts:
                g.consts[n.output[0]] = g.consts[n.input[0]]
    # fusions: a chain of nodes of one source module that is one layer (a Linear as MatMul + Add, SiLU as
    # Sigmoid + Mul, a padded convolution as Pad + Conv): each absorbs its nodes into the node that ends it
    nodes = graph.node
    paths = {k: _scope(n)[0] for k, n in enumerate(nodes) if is_data[k]}
    inside: dict[str, int] = {}
    for path in paths.values():
        segs = path.split(".") if path else []
        for j in range(1, len(segs) + 1):
            inside[".".join(segs[:j])] = inside.get(".".join(segs[:j]), 0) + 1
    absorbed: dict[int, int] = {}  # node → the node it is part of
    mapped: dict[int, Mapped] = {}
    outputs = {o.name for o in graph.output}
    single = lambda t: len(consumers.get(t, ())) == 1 and t not in outputs  # noqa: E731

    def module(*ks: int) -> str:
        """The source module that holds exactly these nodes, or ''."""
        common = attention.common_path([paths[j] for j in ks])
        return common if common and inside.get(common) == len(ks) else ""

    def busy(j: int) -> bool:
        return j in absorbed or j in mapped

    # layers of many nodes found by the graph's structure, before the chains below (multi-head attention,
    # a ViT patch embedding): see onnx_attention
    held_by: dict[int, int] = {}  # the stored weights such a layer holds
    named: dict[int, str] = {}  # such a layer's name where no module holds just its nodes
    finder = attention.Finder(g, nodes, producer, consumers, is_data, outputs, paths)
    for region in finder.find(ctx.options.allow_unknown, lambda message: ctx.fail(message, "unknown-op"), module):
        last = region.parts[-1]
        absorbed.update(dict.fromkeys(region.parts[:-1], last))
        mapped[last] = region.mapped
        is_data[last] = region.reads
        held_by[last] = region.weights
        if region.name:
            named[last] = region.name
    for k, n in enumerate(nodes):
        if not is_data[k] or busy(k):
            continue
        op = n.op_type
        chain = rearrange.fuse(g, nodes, k, producer, consumers, single, is_data, busy,
                               lambda j: Op(g, nodes[j], j, is_data[j]))
        if chain is not None:  # resizing, rearranging, statistics, constants: see onnx_rearrange
            before, mapped[k], reads = chain
            absorbed.update(dict.fromkeys(before, k))
            if reads is not None:
                is_data[k] = reads
            continue
        if op == "Mul" and len(n.input) == 2:  # x · sigmoid(x) = SiLU
            for a, b in ((0, 1), (1, 0)):
                s = producer.get(n.input[b])
                if s is not None and nodes[s].op_type == "Sigmoid" and nodes[s].input[0] == n.input[a] \
                        and single(n.input[b]) and module(s, k):
                    absorbed[s] = k
                    mapped[k] = ("silu", {})
                    break
                t = producer.get(n.input[b])  # x · tanh(softplus(x)) = Mish (torch's export before opset 18)
                sp = producer.get(nodes[t].input[0]) if t is not None and nodes[t].op_type == "Tanh" else None
                if sp is not None and t is not None and nodes[sp].op_type == "Softplus" \
                        and nodes[sp].input[0] == n.input[a] and single(n.input[b]) and single(nodes[t].input[0]) \
                        and module(sp, t, k):
                    absorbed[sp] = absorbed[t] = k
                    mapped[k] = ("mish", {})
                    break
        if op in ("Mul", "Add") and k not in mapped and len(is_data[k]) == len(n.input) >= 2:
            for t in n.input:  # cnncalc's Multiply reshapes a [C] scale to broadcast it
                src = producer.get(t)
                if src is not None and nodes[src].op_type in ("Reshape", "Unsqueeze") and single(t):
                    absorbed[src] = k
            if not module(k, *(j for j, t in absorbed.items() if t == k)):
                for j in [j for j, t in absorbed.items() if t == k]:
                    del absorbed[j]
        elif op == "Add" and len(is_data[k]) == 1 and len(n.input) == 2:  # MatMul + bias, conv + per-position bias
            c = next(t for t in n.input if t not in data)
            src = producer.get(is_data[k][0])
            if src is not None and not busy(src) and c in g.init and single(is_data[k][0]) and module(src, k):
                p = nodes[src]
                out = g.shape(n.output[0])
                if p.op_type == "MatMul" and len(g.init[c]) == 1:
                    absorbed[src] = k
                elif p.op_type == "Conv" and len(p.input) == 2 and out is not None \
                        and tuple(g.init[c]) in (tuple(out), tuple(out[1:])):
                    absorbed[src] = k
        elif op in ("Flatten", "Reshape", "Squeeze") and is_data[k]:
            src = producer.get(is_data[k][0])
            out = g.shape(n.output[0])
            if src is not None and nodes[src].op_type in ("GlobalAveragePool", "GlobalMaxPool") \
                    and single(is_data[k][0]) and out is not None and len(out) == 2 and module(src, k):
                rank = len(g.shape(is_data[k][0]) or ())
                if rank in (3, 4, 5):
                    absorbed[src] = k
                    kind = "avg" if nodes[src].op_type == "GlobalAveragePool" else "max"
                    mapped[k] = (f"global_{kind}_pool{rank - 2}d", {})
        elif op in ("Conv", "MaxPool", "AveragePool") and is_data[k]:  # explicit padding before
            src = producer.get(is_data[k][0])
            if src is not None and nodes[src].op_type == "Pad" and single(is_data[k][0]) and module(src, k) \
                    and _pad_fuses(g, nodes, src, k):
                absorbed[src] = k
        if op in ACTIVATIONS or mapped.get(k, ("",))[0] == "silu":
            _activation(g, nodes, k, producer, consumers, outputs, is_data, absorbed, mapped, paths, module)
    out_nodes: list[Node] = []
    owner: dict[str, str] = dict(input_names)
    by_name: dict[str, Node] = {}
    weights_of: dict[str, str] = {}  # initializer → the layer that first used it

    def resolve(t: str) -> str:
        """The tensor a fused chain really reads for its input `t`."""
        while producer.get(t) in absorbed:
            t = is_data[producer[t]][0]
        return t

    names = _names(graph, is_data, absorbed)
    members: dict[int, list[int]] = {}  # the nodes absorbed into each layer's node, in order
    for j, t in sorted(absorbed.items()):
        members.setdefault(t, []).append(j)
    for k, held_nodes in members.items():
        names[k] = module(k, *held_nodes) or named.get(k) or names[k]
    for k, n in enumerate(nodes):
        if not is_data[k] or k in absorbed:
            continue
        parts = [*members.get(k, ()), k]
        op = Op(g, n, k, is_data[k])
        name = unique_name(names[k], ctx.taken)
        inputs = [owner[resolve(t)] for t in is_data[k]]
        if len(parts) > 1:  # a fused chain reads a tensor once (SiLU: x and sigmoid(x))
            inputs = list(dict.fromkeys(inputs))
        held = [t for j in parts for t in nodes[j].input
                if t and t not in data and (nodes[j].op_type in WEIGHTED or nodes[j].op_type == "Add")]
        weights = held_by[k] if k in held_by else sum(g.numel(t) or 0 for t in held)
        stored = [t for t in dict.fromkeys(g.origin.get(t, t) for t in held) if t in g.init]
        out = op.out()
        shape = out[1:] if out is not None else None
        if n.op_type == "Split" and k not in mapped:  # a layer for each piece read
            pieces = _split_pieces(op, name, inputs, consumers, outputs, ctx)
            for t, node in pieces:
                owner[t] = node.name
            out_nodes.extend(node for _, node in pieces)
            continue
        try:
            m = mapped.get(k) or _fused(g, nodes, parts, k) or OPS[n.op_type](op) if n.op_type in OPS or k in mapped \
                or len(parts) > 1 else None
            if m is None:
                raise Unmapped("no cnncalc layer type computes it")
        except Unmapped as exc:
            node = ctx.unknown(op.where, n.op_type, exc.reason, name, inputs, shape, weights or None, exc.awaits)
        else:
            kind, params, note = unpack(m)
            if kind in rearrange.KINDS:
                weights = rearrange.weights(g, kind, params, [nodes[j] for j in parts], data)  # type: ignore[assignment]
            node = Node(name, kind, params, inputs, shape, weights, note, op.where)
            _share(node, stored, weights_of, by_name, ctx)
        for t in n.output:
            owner[t] = node.name
        out_nodes.append(node)
        by_name[node.name] = node
    if skipped:
        ctx.notes.append(f"{skipped} nodes compute sizes or constants, not data (Shape, Constant, Identity of "
                         "weights, ...): they are no layers")
    returned: list[str] = []
    for o in graph.output:
        t = o.name
        if t not in owner or owner[t] in input_names.values():
            raise ctx.fail(f"graph output {o.name!r} is not computed by any layer (an input, or a constant)")
        returned.append(owner[t])
    return out_nodes, list(dict.fromkeys(returned))


def _share(node: Node, stored: list[str], weights_of: dict[str, str], by_name: dict[str, Node],
           ctx: Context) -> None:
    """A node whose stored weights an earlier layer used becomes that layer called again (`share:`); one
    that shares only some of them, or the weights of a layer of another kind, cannot be written."""
    firsts = {weights_of.get(t) for t in stored}
    if firsts == {None}:
        for t in stored:
            weights_of[t] = node.name
        return
    if not stored:
        return
    owners = sorted(n for n in firsts if n is not None)
    first = by_name[owners[0]]
    mine = [t for t in stored]
    theirs = [t for t, o in weights_of.items() if o == first.name]
    if len(owners) > 1 or None in firsts or sorted(mine) != sorted(theirs):
        raise ctx.fail(f"{node.where}: uses some of the weights of {', '.join(owners)} and not others; cnncalc "
                       "shares whole layers (`share:`), so this sharing cannot be written", "import-mismatch")
    if (first.type, first.params) != (node.type, node.params):
        raise ctx.fail(f"{node.where}: uses the weights of {first.name} ({first.type}) as a {node.type} with "
                       "other settings; a shared layer is the same layer called again", "import-mismatch")
    node.shares = first.shares or first.name
    node.weights = 0


def _activation(g: Graph, nodes: Any, k: int, producer: dict[str, int], consumers: dict[str, list[int]],
                outputs: set[str], is_data: list[list[str]], absorbed: dict[int, int], mapped: dict[int, Mapped],
                paths: dict[int, str], module: Callable[..., str]) -> None:
    """A convolution or a dense layer and its activation, the two children of one nn.Sequential
    (cnncalc's PyTorch export of a layer's activation=): one layer, the activation its parameter."""
    from ..errors import LayerError

    n = nodes[k]
    group = [j for t in is_data[k] if (j := producer.get(t, -1)) in absorbed and absorbed[j] == k]  # SiLU's Sigmoid
    x = next((t for t in is_data[k] if producer.get(t) not in group), None)
    src = producer.get(x) if x is not None else None
    if x is None or src is None or nodes[src].op_type not in ("Conv", "Gemm") or src in absorbed or src in mapped \
            or any(absorbed.get(producer.get(t, -1)) == src for t in is_data[src]) or x in outputs \
            or any(c != k and c not in group for c in consumers.get(x, ())):
        return
    seq = module(src, *group, k)
    if not seq or paths[src] != f"{seq}.0" or any(paths[j] != f"{seq}.1" for j in (*group, k)):
        return
    try:
        fused = with_activation(OPS[nodes[src].op_type](Op(g, nodes[src], src, is_data[src])),
                                mapped.get(k) or OPS[n.op_type](Op(g, n, k, is_data[k])))
    except (Unmapped, LayerError, KeyError):
        return
    if fused is None:
        return
    absorbed[src] = k
    mapped[k] = fused


def _split_pieces(op: Op, name: str, inputs: list[str], consumers: dict[str, list[int]], outputs: set[str],
                  ctx: Context) -> list[tuple[str, Node]]:
    """A chunk layer for each output of a Split that is read (the first named as the node, the others
    `<name>_<output>`)."""
    read = [(i, t) for i, t in enumerate(op.node.output) if t and (consumers.get(t) or t in outputs)]
    out = []
    for j, (i, t) in enumerate(read):
        piece = name if j == 0 else unique_name(f"{name}_{i}", ctx.taken)
        s = op.g.shape(t)
        shape = s[1:] if s is not None and all(d >= 0 for d in s[1:]) else None
        try:
            axis, sizes = rearrange.split(op)
            kind, params, note = unpack(rearrange.chunk_of(axis, sizes, i, op.x[axis]))
        except Unmapped as exc:
            node = ctx.unknown(op.where, "Split", exc.reason, piece, inputs, shape, None)
        else:
            node = Node(piece, kind, params, inputs, shape, 0, note, op.where)
        out.append((t, node))
    return out


def _fused(g: Graph, nodes: Any, parts: list[int], k: int) -> Mapped | None:
    """The layer of a fused chain (parts, ending with node k), or None for a single node."""
    if len(parts) == 1:
        return None
    first = Op(g, nodes[parts[0]], parts[0], [])
    last = nodes[k]
    if first.type == "MatMul":
        kind, params = matmul(first)[:2]
        return kind, {**params, "bias": True}
    if first.type == "Conv" and last.op_type == "Add":
        kind, params = conv(first)[:2]
        return kind, {**params, "bias": "per_position"}
    if first.type == "Pad":
        mode, begin, end, _ = _pads(first)
        kind, params = unpack(OPS[last.op_type](Op(g, last, k, [last.input[0]])))[:2]
        params["padding"] = _padding(begin + end, len(begin))
        if mode != "zeros":
            params["padding_mode"] = mode
        return kind, params
    return None


def _scope(n: Any) -> tuple[str, str]:
    """(module path, op) of a node. PyTorch's exporter names a node `/layer1/layer1.0/conv1/Conv`, each
    scope the module's name within the one before (`downsample.0` within `layer1.0`)."""
    if "/" not in n.name:
        return "", n.name
    segs = n.name.strip("/").split("/")
    path: list[str] = []
    for s in segs[:-1]:
        if path and s.startswith(path[-1] + "."):
            path[-1] = s
        elif s:
            path.append(s)
    return ".".join(path), segs[-1]


def _names(graph: Any, is_data: list[list[str]], absorbed: dict[int, int]) -> dict[int, str]:
    """Layer names from node names: a node alone in its module takes the module's path, the others
    `<module>.<op>` (`layer1.0.add`); nodes without scopes keep their names."""
    scope: dict[int, tuple[str, str]] = {}
    direct: dict[str, int] = {}
    parents: set[str] = set()
    for k, n in enumerate(graph.node):
        if not is_data[k] or k in absorbed:
            continue
        full, op = _scope(n)
        scope[k] = (full, op or f"{n.op_type.lower()}_{k}")
        direct[full] = direct.get(full, 0) + 1
        parts = full.split(".") if full else []
        for j in range(1, len(parts)):
            parents.add(".".join(parts[:j]))
    out = {}
    for k, (full, op) in scope.items():
        if full and direct.get(full) == 1 and full not in parents:
            out[k] = full
        elif full:
            out[k] = f"{full}.{op.lower()}"
        else:
            out[k] = op.lower() if "/" in graph.node[k].name else op
    return out
