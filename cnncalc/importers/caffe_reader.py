"""Caffe model definitions (`deploy.prototxt`): the format AlexNet, CaffeNet and GoogLeNet were
published in, read with protobuf's own text-format parser against Caffe's schema.

`caffe/caffe.proto` is BVLC Caffe's schema (BSD 2-clause, caffe/LICENSE); `caffe/caffe.desc` is that
file compiled by protoc into a FileDescriptorSet, so that no generated code (bound to one protobuf
version) is needed: regenerate it with
`python -m grpc_tools.protoc -I cnncalc/importers/caffe --descriptor_set_out=cnncalc/importers/caffe/caffe.desc caffe.proto`.
Each layer maps through `LAYERS` (Caffe type → function); Caffe's `a/b` names become `a.b`, so that
the modules of a network (GoogLeNet's inception_3a/...) fold into blocks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .model import (
    INPUT,
    MAX_NODES,
    Context,
    Imported,
    ImportFailure,
    Mapped,
    Node,
    Options,
    Unmapped,
    f32,
    missing,
    pending,
    unique_name,
    unpack,
    unreadable,
)

MAX_TEXT_BYTES = 16 * 1024 * 1024
TRAINING_ONLY = frozenset(("Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss",
                           "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss", "ContrastiveLoss", "Silence"))
DATA_LAYERS = frozenset(("Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "Python"))


def _net_class() -> Any:
    from importlib.resources import files

    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    data = files("cnncalc.importers").joinpath("caffe/caffe.desc").read_bytes()
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("caffe.NetParameter"))


def read(source: str, options: Options) -> Imported:
    ctx = Context(source, options)
    try:
        from google.protobuf import text_format
    except ImportError:
        raise missing(source, "protobuf", "caffe") from None
    try:
        if os.path.getsize(source) > MAX_TEXT_BYTES:
            raise unreadable(source, f"more than the {MAX_TEXT_BYTES:,} bytes cnncalc reads of a prototxt")
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(source, f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    net = _net_class()()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as exc:
        line, col = exc.GetLine() or 1, exc.GetColumn() or 1
        msg = str(exc).split(" : ", 1)[-1] if " : " in str(exc) else str(exc)
        raise ImportFailure(source, f"line {line}, column {col}: not a Caffe model definition: {msg[:300]}",
                            "unreadable") from None
    except RecursionError:
        raise unreadable(source, "nested too deeply for a Caffe model definition") from None
    if net.layers and not net.layer:
        raise ctx.fail("the file uses Caffe's old V1 `layers` format; upgrade it with Caffe's "
                       "upgrade_net_proto_text tool first", "unreadable")
    if len(net.layer) > MAX_NODES:
        raise ctx.fail(f"{len(net.layer):,} layers are more than the {MAX_NODES:,} cnncalc imports")
    return _map(net, text, source, ctx)


def _line(text: str, name: str) -> int:
    """The line of `name: "<name>"` (where the layer is), for messages; 0 if not found."""
    at = text.find(f'"{name}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else 0




def _pair(value: Any, h: int, w: int, default: int) -> Any:
    """Caffe's repeated size field or its _h/_w pair, as a spec size."""
    vals = list(value) if value is not None else []
    if h or w:
        out = [h, w]
    elif len(vals) == 1:
        out = [vals[0], vals[0]]
    elif len(vals) == 2:
        out = vals
    elif not vals:
        out = [default, default]
    else:
        raise Unmapped(f"{len(vals)}-D sizes")
    return out[0] if out[0] == out[1] else out


def convolution(layer: Any) -> Mapped:
    p = layer.convolution_param
    kernel = _pair(p.kernel_size, p.kernel_h, p.kernel_w, 0)
    params: dict[str, Any] = {"filters": p.num_output, "kernel": kernel,
                              "stride": _pair(p.stride, p.stride_h, p.stride_w, 1),
                              "padding": _pair(p.pad, p.pad_h, p.pad_w, 0),
                              "dilation": _pair(p.dilation, 0, 0, 1)}
    if p.group != 1:
        params["groups"] = p.group
    params["bias"] = p.bias_term
    kind = "conv_transpose2d" if layer.type == "Deconvolution" else "conv2d"
    return kind, params


def pooling(layer: Any) -> Mapped:
    p = layer.pooling_param
    method = p.PoolMethod.Name(p.pool) if hasattr(p, "PoolMethod") else ("MAX", "AVE", "STOCHASTIC")[p.pool]
    if method == "STOCHASTIC":
        raise Unmapped("stochastic pooling")
    if p.global_pooling:
        return ("global_max_pool2d" if method == "MAX" else "global_avg_pool2d"), {"keepdims": True}
    params = {"kernel": _pair([p.kernel_size] if p.HasField("kernel_size") else [], p.kernel_h, p.kernel_w, 0),
              "stride": _pair([p.stride] if p.HasField("stride") else [], p.stride_h, p.stride_w, 1),
              "padding": _pair([p.pad] if p.HasField("pad") else [], p.pad_h, p.pad_w, 0), "ceil_mode": True}
    return ("max_pool2d" if method == "MAX" else "avg_pool2d"), params, ""


def inner_product(layer: Any) -> Mapped:
    p = layer.inner_product_param
    if p.axis != 1 or p.transpose:
        raise Unmapped(f"InnerProduct over axis {p.axis}" + (" with transposed weights" if p.transpose else ""))
    return "dense", {"units": p.num_output, "bias": p.bias_term}


def relu(layer: Any) -> Mapped:
    slope = layer.relu_param.negative_slope
    return ("leaky_relu", {"negative_slope": f32(slope)}) if slope else ("relu", {})


def lrn(layer: Any) -> Mapped:
    p = layer.lrn_param
    if p.norm_region != 0:
        raise Unmapped("LRN within channels (cnncalc's normalises across channels)")
    return "local_response_norm", {"size": p.local_size, "alpha": f32(p.alpha), "beta": f32(p.beta), "k": f32(p.k)}


def concat(layer: Any) -> Mapped:
    p = layer.concat_param
    axis = p.axis if not p.HasField("concat_dim") else p.concat_dim
    if axis != 1:
        raise Unmapped(f"concatenation along axis {axis} (cnncalc concatenates channels)")
    return "concat", {}


def eltwise(layer: Any) -> Mapped:
    p = layer.eltwise_param
    op = ("PROD", "SUM", "MAX")[p.operation]
    if op == "MAX":
        raise Unmapped("elementwise maximum")
    note = "" if all(c == 1 for c in p.coeff) else f"coefficients {list(p.coeff)}: counted as a plain sum"
    return ("add" if op == "SUM" else "multiply"), {}, note


def softmax(layer: Any) -> Mapped:
    return "softmax", {"axis": layer.softmax_param.axis}


def dropout(layer: Any) -> Mapped:
    return "dropout", {"rate": f32(layer.dropout_param.dropout_ratio)}


# Caffe layer type → mapping; a new layer type Caffe has is one entry here
LAYERS: dict[str, Callable[[Any], Mapped]] = {
    "Convolution": convolution, "Deconvolution": convolution, "Pooling": pooling, "InnerProduct": inner_product,
    "ReLU": relu, "Sigmoid": lambda layer: ("sigmoid", {}), "TanH": lambda layer: ("tanh", {}),
    "ELU": lambda layer: ("elu", {"alpha": f32(layer.elu_param.alpha)}), "LRN": lrn, "Concat": concat,
    "Eltwise": eltwise, "Softmax": softmax, "Dropout": dropout, "Flatten": lambda layer: ("flatten", {}),
    "Split": lambda layer: ("identity", {}),
    "PReLU": pending("prelu"), "Scale": pending("scale"), "Crop": pending("crop"),
}


def _map(net: Any, text: str, source: str, ctx: Context) -> Imported:
    blob: dict[str, str] = {}  # blob name → the layer that last wrote it
    spatial: dict[str, bool] = {}  # layer → its output has spatial dims
    nodes: list[Node] = []
    dims: list[int] = []
    skipped: list[str] = []
    if net.input:  # the old net-level input
        blob[net.input[0]] = INPUT
        if net.input_shape:
            dims = list(net.input_shape[0].dim)
        elif net.input_dim:
            dims = list(net.input_dim)
    given = ctx.options.input_shape
    layers = list(net.layer)
    k = 0
    while k < len(layers):
        layer = layers[k]
        k += 1
        where = f"layer {k} ({layer.type} {layer.name!r}" + (f", line {_line(text, layer.name)})"
                                                               if _line(text, layer.name) else ")")
        phases = {r.phase for r in layer.include if r.HasField("phase")}
        if phases == {0} or layer.type in TRAINING_ONLY:  # 0 = TRAIN
            skipped.append(layer.name)
            continue
        if layer.type == "Input" or layer.type in DATA_LAYERS:
            if layer.type == "Input" and layer.input_param.shape:
                dims = list(layer.input_param.shape[0].dim)
            elif given is None:
                raise ctx.fail(f"{where}: a data layer does not say the input size; give it with --input "
                               "(e.g. --input 3x227x227)")
            if layer.top:
                blob[layer.top[0]] = INPUT
            continue
        if len(layer.top) > 1 and layer.type != "Split":
            raise ctx.fail(f"{where}: {len(layer.top)} outputs; cnncalc layers have one")
        try:
            inputs = [blob[b] for b in layer.bottom]
        except KeyError as exc:
            raise ctx.fail(f"{where}: reads the blob {exc.args[0]!r}, which no layer before it writes") from None
        name = unique_name(layer.name.replace("/", "."), ctx.taken)
        note = ""
        try:
            fn = LAYERS.get(layer.type)
            if layer.type == "BatchNorm":
                nxt = layers[k] if k < len(layers) else None
                if nxt is None or nxt.type != "Scale" or list(nxt.bottom) != list(layer.top) \
                        or not nxt.scale_param.bias_term:
                    raise Unmapped("BatchNorm without a Scale layer with bias after it (cnncalc's batch_norm is "
                                   "both)", "scale")
                k += 1
                m: Mapped = ("batch_norm", {"eps": f32(layer.batch_norm_param.eps), "momentum": round(
                    1 - f32(layer.batch_norm_param.moving_average_fraction), 10)},
                    f"Caffe BatchNorm + Scale {nxt.name}; Caffe also keeps a 1-value moving-average factor, "
                    "not counted")
                layer = nxt
            elif fn is None:
                raise Unmapped("no cnncalc layer type computes it")
            else:
                m = fn(layer)
        except Unmapped as exc:
            raise ctx.fail(f"{where}: {layer.type}: {exc.reason}"
                           + (f" (awaits the layer type `{exc.awaits}`)" if exc.awaits else ""), "unknown-op") \
                from None
        kind, params, note = unpack(m)
        if kind == "dense" and any(spatial.get(i, i == INPUT and len(dims) > 2) for i in inputs):
            flat = Node(unique_name(f"{name}_flatten", ctx.taken), "flatten", {}, inputs, None, None,
                        f"Caffe's InnerProduct {layer.name} flattens its input", where)
            nodes.append(flat)
            inputs = [flat.name]
        node = Node(name, kind, params, inputs, None, None, note, where)
        nodes.append(node)
        spatial[name] = kind not in ("dense", "flatten") and not (
            kind == "softmax" and not any(spatial.get(i, False) for i in inputs))
        for top in layer.top:
            blob[top] = name
    if given is not None:
        dims = [1, *given]
    if len(dims) < 2 or any(d < 1 for d in dims[1:]):
        raise ctx.fail("the model does not declare its input size; give it with --input (e.g. --input 3x227x227)")
    if skipped:
        ctx.notes.append(f"training-only layers left out: {', '.join(skipped)}")
    ctx.notes.insert(0, f"Caffe model definition; input {'x'.join(map(str, dims[1:]))} (channels first)")
    name = net.name or os.path.splitext(os.path.basename(source))[0]
    return Imported(name, "channels_first", tuple(dims[1:]), nodes, source, "Caffe", ctx.notes, ctx.warnings)
