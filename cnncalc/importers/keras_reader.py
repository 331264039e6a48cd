"""Keras 3 models: a `.keras` archive's config.json, a JSON config (`model.to_json()`), or a model a
factory returned. The config is data (json); no layer is built and no weight is read.

Each layer's config maps to a layer through `LAYERS` (class name → function). Output shapes are the
ones Keras itself recorded in the config (each layer's input tensors carry their shapes); the
weights of a `.keras` archive are counted from the shapes of its HDF5 datasets (h5py reads no data
to give them), and a model in memory is asked for each layer's `count_params()`.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Callable
from typing import Any

from ..layers import lookup
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
    compact,
    pending,
    unique_name,
    unpack,
    unreadable,
)

MAX_CONFIG_BYTES = 64 * 1024 * 1024  # config.json of the largest Keras applications is ~1 MB


def read(source: str, options: Options) -> Imported:
    weights_total = None
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as z:
                try:
                    info = z.getinfo("config.json")
                except KeyError:
                    raise unreadable(source, "a zip archive without config.json, not a .keras model") from None
                if info.file_size > MAX_CONFIG_BYTES:
                    raise unreadable(source, f"config.json is {info.file_size:,} bytes, more than the "
                                             f"{MAX_CONFIG_BYTES:,} cnncalc reads")
                text = z.read(info).decode("utf-8")
                weights_total = _h5_total(z)
        else:
            if os.path.getsize(source) > MAX_CONFIG_BYTES:
                raise unreadable(source, f"more than the {MAX_CONFIG_BYTES:,} bytes cnncalc reads of a config")
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        config = json.loads(text)
    except ImportFailure:
        raise
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise unreadable(source, f"not a Keras model file, or a damaged one ({type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    if isinstance(config, dict) and "config" in config and "class_name" in config:
        pass
    else:
        raise unreadable(source, "not a Keras model config (a JSON object with class_name and config)")
    imp = from_config(config, source, options, "Keras")
    if weights_total is not None:
        imp.notes.append(f"the archive's weights: {weights_total:,} values (counted from their shapes)")
        imp.total_weights = weights_total
    return imp


def _h5_total(z: zipfile.ZipFile) -> int | None:
    """Elements of the model's variables in model.weights.h5, from the datasets' shapes (no data read)."""
    if "model.weights.h5" not in z.namelist():
        return None
    try:
        import h5py
    except ImportError:
        return None
    total = 0
    with z.open("model.weights.h5") as fh, h5py.File(fh, "r") as h5:
        def visit(name: str, obj: Any) -> None:
            nonlocal total
            parts = name.split("/")
            if isinstance(obj, h5py.Dataset) and parts[0] == "layers" and "seed_generator" not in name \
                    and len(parts) >= 2 and parts[-2] == "vars":
                total += math.prod(obj.shape)
        h5.visititems(visit)
    return total


# ---- mapping ------------------------------------------------------------------------------------

ACTIVATIONS = {"linear": None, "relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh",
               "softmax": "softmax", "swish": "silu", "silu": "silu", "hard_sigmoid": "hardsigmoid",
               "hard_silu": "hardswish", "hard_swish": "hardswish", "gelu": "gelu", "elu": "elu",
               "leaky_relu": "leaky_relu"}


def _act_name(cfg: dict[str, Any]) -> str:
    a = cfg.get("activation", "linear")
    if isinstance(a, dict):  # a serialized function
        a = a.get("config", a.get("class_name", "?"))
        a = a if isinstance(a, str) else "?"
    return str(a)


def conv(kind: str) -> Callable[[dict[str, Any], dict[str, Any]], Mapped]:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        params: dict[str, Any] = {}
        if kind != "depthwise_conv2d":
            params["filters"] = c["filters"]
        params.update(kernel=compact(c["kernel_size"]), stride=compact(c.get("strides", 1)),
                      padding=c.get("padding", "valid"), dilation=compact(c.get("dilation_rate", 1)))
        if "pad" in piece and params["padding"] == "valid":
            params["padding"] = piece["pad"]
        if kind in ("conv2d", "conv1d") and c.get("groups", 1) != 1:
            params["groups"] = c["groups"]
        if kind in ("depthwise_conv2d", "separable_conv2d") and c.get("depth_multiplier", 1) != 1:
            params["depth_multiplier"] = c["depth_multiplier"]
        params["bias"] = c.get("use_bias", True)
        if params["padding"] == "valid":
            params["padding"] = 0
        return kind, params
    return mapped


def conv_transpose(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    if c.get("groups", 1) != 1:
        raise Unmapped("grouped transposed convolution")
    params = {"filters": c["filters"], "kernel": compact(c["kernel_size"]), "stride": compact(c.get("strides", 1)),
              "padding": c.get("padding", "valid"), "dilation": compact(c.get("dilation_rate", 1)),
              "bias": c.get("use_bias", True)}
    if c.get("output_padding"):
        params["output_padding"] = compact(c["output_padding"])
    return "conv_transpose2d", params


def dense(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "dense", {"units": c["units"], "bias": c.get("use_bias", True)}


def batch_norm(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    center, scale = c.get("center", True), c.get("scale", True)
    if center != scale:
        raise Unmapped("batch normalisation with only one of center and scale (cnncalc's has both or neither)")
    return "batch_norm", {"eps": c.get("epsilon", 1e-3), "momentum": round(1 - c.get("momentum", 0.99), 10),
                          "affine": bool(center)}


def pool(kind: str) -> Callable[[dict[str, Any], dict[str, Any]], Mapped]:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        kernel = c.get("pool_size", 2)
        stride = c.get("strides") or kernel
        padding: Any = c.get("padding", "valid")
        params: dict[str, Any] = {"kernel": compact(kernel), "stride": compact(stride)}
        if "pad" in piece and padding == "valid":
            padding = piece["pad"]
        params["padding"] = 0 if padding == "valid" else padding
        if kind == "avg_pool2d":
            params["count_include_pad"] = padding != "same"
        return kind, params
    return mapped


def global_pool(kind: str) -> Callable[[dict[str, Any], dict[str, Any]], Mapped]:
    return lambda c, p: (kind, {"keepdims": bool(c.get("keepdims", False))})


def activation(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    name = _act_name(c)
    kind = ACTIVATIONS.get(name, "")
    if name == "linear":
        return "identity", {}
    if not kind:
        raise Unmapped(f"activation {name!r}")
    return kind, {}


def relu(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    top, slope, threshold = c.get("max_value"), c.get("negative_slope", 0.0), c.get("threshold", 0.0)
    if threshold:
        raise Unmapped(f"ReLU with threshold {threshold}")
    if top is None and slope:
        return "leaky_relu", {"negative_slope": slope}
    if not slope and top in (None, 6.0, 6):
        return ("relu", {}) if top is None else ("relu6", {})
    raise Unmapped(f"ReLU(max_value={top}, negative_slope={slope})")


def zero_pad(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    p = c["padding"]
    if isinstance(p, int):
        p = [[p, p], [p, p]]
    elif isinstance(p[0], int):
        p = [[p[0], p[0]], [p[1], p[1]]]
    (t, b), (left, r) = p
    return "zero_pad2d", {"padding": [[t, b], [left, r]]}


def constant_pad(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export's ConstantPadding2D
    kind, params = zero_pad(c, piece)[:2]
    return kind, params, f"padding with {c.get('value', 0.0)}: counted as zero padding (same shape, no operations)"


def concat(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "concat", {}


def reshape(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "reshape", {"shape": list(c["target_shape"])}


def lrn(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export's LocalResponseNorm
    return "local_response_norm", {"size": c.get("size", 5), "alpha": c.get("alpha", 1e-4),
                                   "beta": c.get("beta", 0.75), "k": c.get("k", 1.0)}


def per_position(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export: conv + PerPositionBias
    if "conv" not in piece:
        raise Unmapped("a per-position bias without its convolution")
    kind, params = piece["conv"][:2]
    return kind, {**params, "bias": "per_position"}


def cropping(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    (t, b), (left, r) = _pairs(c["cropping"], 2)
    if "conv" in piece and piece["conv"][0] == "conv_transpose2d":  # cnncalc export: Conv2DTranspose + Cropping2D
        kind, params = piece["conv"][:2]
        return kind, {**params, "padding": [t, b, left, r]}
    return "crop2d", {"cropping": [[t, b], [left, r]]}


def _pairs(value: Any, nd: int) -> list[list[int]]:
    """Keras's cropping or padding: an int, one per dim, or (begin, end) per dim."""
    if isinstance(value, int):
        return [[value, value]] * nd
    if nd == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [list(value)]
    return [[v, v] if isinstance(v, int) else list(v) for v in value]


def _flat(value: Any) -> Any:
    """A number, or the numbers of a (nested) list in order."""
    if isinstance(value, list | tuple):
        return [e for v in value for e in (_flat(v) if isinstance(v, list | tuple) else [v])]
    return value


def upsampling(nd: int) -> Callable[[dict[str, Any], dict[str, Any]], Mapped]:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        params: dict[str, Any] = {"size": compact(c.get("size", 2))}
        if nd == 2:
            params["interpolation"] = c.get("interpolation", "nearest")
        return f"upsampling{nd}d", params
    return mapped


def resizing(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    if c.get("crop_to_aspect_ratio") or c.get("pad_to_aspect_ratio"):
        raise Unmapped("Resizing to another aspect ratio (a crop or a pad first)")
    return "resizing", {"height": c["height"], "width": c["width"], "interpolation": c.get("interpolation", "bilinear")}


def layer_norm(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    if c.get("rms_scaling"):
        raise Unmapped("RMS scaling")
    axis = c.get("axis", -1)
    return "layer_norm", {"axis": list(axis) if isinstance(axis, list | tuple) else [axis],
                          "eps": c.get("epsilon", 1e-3), "center": c.get("center", True), "scale": c.get("scale", True)}


def group_norm(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    center, scale = c.get("center", True), c.get("scale", True)
    if c.get("groups", 32) == -1:  # one group per channel: instance normalisation
        if center != scale:
            raise Unmapped("instance normalisation with only one of center and scale")
        return "instance_norm", {"eps": c.get("epsilon", 1e-3), "affine": bool(center)}
    return "group_norm", {"groups": c.get("groups", 32), "eps": c.get("epsilon", 1e-3), "center": center,
                          "scale": scale}


def normalization(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    axis = c.get("axis", -1)
    params: dict[str, Any] = {"axis": [] if axis is None else list(axis) if isinstance(axis, list | tuple) else [axis]}
    if c.get("mean") is not None:
        params.update(mean=_flat(c["mean"]), variance=_flat(c["variance"]))
    if c.get("invert"):
        params["invert"] = True
    return "normalization", params


def rescaling(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "rescaling", {"scale": _flat(c["scale"]), "offset": _flat(c.get("offset", 0.0))}


def simple(kind: str, **params: Any) -> Callable[[dict[str, Any], dict[str, Any]], Mapped]:
    return lambda c, p: (kind, dict(params))


# Keras class name → mapping; a new layer type Keras has is one entry here
LAYERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Mapped]] = {
    "Conv2D": conv("conv2d"), "Conv1D": conv("conv1d"), "DepthwiseConv2D": conv("depthwise_conv2d"),
    "SeparableConv2D": conv("separable_conv2d"), "Conv2DTranspose": conv_transpose, "Dense": dense,
    "BatchNormalization": batch_norm, "MaxPooling2D": pool("max_pool2d"), "AveragePooling2D": pool("avg_pool2d"),
    "GlobalAveragePooling2D": global_pool("global_avg_pool2d"), "GlobalMaxPooling2D": global_pool("global_max_pool2d"),
    "Activation": activation, "ReLU": relu, "LeakyReLU": lambda c, p: ("leaky_relu",
                                                                        {"negative_slope": c.get("negative_slope", 0.3)}),
    "ELU": lambda c, p: ("elu", {"alpha": c.get("alpha", 1.0)}), "Softmax": lambda c, p: ("softmax",
                                                                                      {"axis": c.get("axis", -1)}),
    "Flatten": simple("flatten"), "Reshape": reshape, "Dropout": lambda c, p: ("dropout", {"rate": c.get("rate", 0.5)}),
    "SpatialDropout2D": lambda c, p: ("dropout", {"rate": c.get("rate", 0.5)}), "Identity": simple("identity"),
    "ZeroPadding2D": zero_pad, "ConstantPadding2D": constant_pad, "Add": simple("add"),
    "Multiply": simple("multiply"), "Concatenate": concat, "LocalResponseNorm": lrn, "PerPositionBias": per_position,
    "Cropping2D": cropping, "Cropping1D": lambda c, p: ("crop1d", {"cropping": _pairs(c.get("cropping", 1), 1)[0]}),
    "Cropping3D": lambda c, p: ("crop3d", {"cropping": _pairs(c.get("cropping", 1), 3)}),
    "UpSampling1D": upsampling(1), "UpSampling2D": upsampling(2), "UpSampling3D": upsampling(3),
    "Resizing": resizing, "LayerNormalization": layer_norm, "GroupNormalization": group_norm,
    "Permute": lambda c, p: ("permute", {"dims": list(c["dims"])}), "Rescaling": rescaling,
    "Normalization": normalization, "Subtract": simple("subtract"), "Maximum": simple("maximum"),
    "Minimum": simple("minimum"), "Average": simple("average"),
    "SpatialDropout1D": lambda c, p: ("dropout", {"rate": c.get("rate", 0.5)}),
    "SpatialDropout3D": lambda c, p: ("dropout", {"rate": c.get("rate", 0.5)}),
    # the layers cnncalc's export defines for what Keras lacks
    "PixelShuffle": lambda c, p: ("pixel_unshuffle" if c.get("inverse") else "pixel_shuffle", {"factor": c["factor"]}),
    "ChannelShuffle": lambda c, p: ("channel_shuffle", {"groups": c["groups"]}),
    "Chunk": lambda c, p: ("chunk", {"chunks": c["chunks"], "index": c["index"]}),
    "CropOrPad": simple("crop_or_pad"),
    # layers whose layer type is being added
    "MultiHeadAttention": pending("attention"), "Conv3D": pending("conv3d"), "PReLU": pending("prelu"),
}


def _tensors(args: Any) -> list[dict[str, Any]]:
    """The Keras tensors among a Keras 3 call's arguments, in order."""
    if isinstance(args, dict):
        if args.get("class_name") == "__keras_tensor__":
            return [args["config"]]
        return [t for v in args.values() for t in _tensors(v)]
    if isinstance(args, list | tuple):
        return [t for v in args for t in _tensors(v)]
    return []


def from_config(config: dict[str, Any], source: str, options: Options, kind: str, model: Any = None) -> Imported:
    """An import from a Keras model config (Functional or Sequential); `model`: the built model, whose
    layers' count_params() are then checked."""
    ctx = Context(source, options)
    if "layers" in config and "class_name" not in config:  # model.get_config(): the inner config
        config = {"class_name": type(model).__name__ if model is not None else "Functional", "config": config}
    inner = config.get("config", {})
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list) or not layers:
        raise ctx.fail(f"the config of a {config.get('class_name')} has no layers", "unreadable")
    if len(layers) > MAX_NODES:
        raise ctx.fail(f"{len(layers):,} layers are more than the {MAX_NODES:,} cnncalc imports")
    # the layout of the layers that compute on images (Flatten's data_format only orders its output)
    formats = {lc.get("config", {}).get("data_format") for lc in layers
               if isinstance(lc, dict) and lc.get("class_name") != "Flatten"} - {None}
    if len(formats) > 1:
        raise ctx.fail("the model mixes channels_first and channels_last layers")
    layout = formats.pop() if formats else "channels_last"
    built = {layer.name: layer for layer in model.layers} if model is not None else {}
    sequential = config.get("class_name") == "Sequential"
    # consumers' records of each layer's output shape (Keras 3 configs carry them)
    shapes: dict[str, tuple[int, ...]] = {}
    for lc in layers:
        for node in lc.get("inbound_nodes") or []:
            if isinstance(node, dict):
                for t in _tensors(node.get("args", [])):
                    hist = t.get("keras_history")
                    if hist and t.get("shape") is not None:
                        shapes[hist[0]] = tuple(-1 if d is None else d for d in t["shape"])
    owner: dict[str, str] = {}
    nodes: list[Node] = []
    pieces: dict[str, dict[str, Any]] = {}
    input_shape: tuple[int, ...] | None = None
    prev = INPUT
    for k, lc in enumerate(layers):
        cls = lc.get("class_name", "?")
        cfg = lc.get("config", {}) or {}
        lname = str(cfg.get("name") or lc.get("name") or f"layer_{k}")
        where = f"layer {k} ({cls} {lname!r})"
        if cls == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            input_shape = _input_shape(shape, ctx, where)
            owner[lname] = INPUT
            continue
        if sequential and input_shape is None:
            build = (lc.get("build_config") or {}).get("input_shape") or cfg.get("batch_input_shape")
            input_shape = _input_shape(build, ctx, where)
        srcs = _sources(lc, sequential, prev, ctx, where)
        inputs = [owner[s] for s in srcs if s in owner]
        if len(inputs) != len(srcs):
            missing_src = next(s for s in srcs if s not in owner)
            raise ctx.fail(f"{where}: reads {missing_src!r}, which is not a layer before it")
        base, sep, role = lname.partition("__")
        out = shapes.get(lname)
        shape = tuple(out[1:]) if out and all(d > 0 for d in out[1:]) else None
        fn = LAYERS.get(cls)
        if sep and role and fn is not None and cls not in ("PerPositionBias", "Cropping2D", "LocalResponseNorm"):
            # an extra layer cnncalc's Keras export made for the spec layer `base` (`<layer>__<role>`)
            mapped = fn(cfg, {})
            piece = pieces.setdefault(base, {})
            if mapped[0] == "zero_pad2d":
                piece["pad"] = mapped[1]["padding"]
            elif mapped[0] in ("conv2d", "conv_transpose2d", "depthwise_conv2d", "separable_conv2d"):
                piece["conv"] = mapped
            owner[lname] = inputs[0]
            prev = lname
            continue
        name = unique_name(lname, ctx.taken)
        weights = None
        if lname in built:
            weights = int(built[lname].count_params()) + sum(int(p.count_params()) for p in
                                                             _pieces(built, lname))
        act = _act_name(cfg) if cls in ("Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D", "Dense",
                                          "Conv2DTranspose") else "linear"
        try:
            if fn is None:
                raise Unmapped("no cnncalc layer type computes it")
            if act != "linear" and act not in ACTIVATIONS:
                raise Unmapped(f"activation {act!r}")
            if cls == "Dense" and shape is not None and len(shape) > 1:
                raise Unmapped("a Dense layer over a tensor of more than 2 dimensions", "matmul")
            m = fn(cfg, pieces.get(base, {}) if not sep else {})
        except Unmapped as exc:
            node = ctx.unknown(where, cls, exc.reason, name, inputs, shape, weights, exc.awaits)
        else:
            kind_, params, note = unpack(m)
            layer_type = lookup(kind_)
            if act not in ("linear", "") and layer_type is not None and "activation" in layer_type.params:  # one layer
                params, act = {**params, "activation": ACTIVATIONS[act]}, "linear"
            node = Node(name, kind_, params, inputs, shape, weights, note, where)
        nodes.append(node)
        owner[lname] = node.name
        if act not in ("linear", "") and node.type != "opaque":
            act_type = ACTIVATIONS[act]
            assert act_type is not None
            extra = Node(unique_name(f"{name}_{act}", ctx.taken), act_type, {}, [node.name], shape, None,
                         f"the activation of {name}", where)
            nodes.append(extra)
            owner[lname] = extra.name
        prev = lname
    if input_shape is None:
        raise ctx.fail("the model has no input layer with a shape; give it with --input")
    ctx.notes.insert(0, f"{config.get('class_name')} model of {len(layers)} layers, {layout}"
                     + ("; every layer's weights checked against count_params()" if model is not None else ""))
    name = str(inner.get("name") or os.path.splitext(os.path.basename(source))[0])
    return Imported(name, layout, input_shape, nodes, source, kind, ctx.notes, ctx.warnings)


def _pieces(built: dict[str, Any], base: str) -> list[Any]:
    return [layer for n, layer in built.items() if n.startswith(base + "__")]


def _input_shape(shape: Any, ctx: Context, where: str) -> tuple[int, ...]:
    given = ctx.options.input_shape
    if given is not None:
        return tuple(given)
    if not isinstance(shape, list | tuple) or len(shape) < 2 or any(d is None for d in shape[1:]):
        raise ctx.fail(f"{where}: the input shape {shape} is not fixed; give it with --input "
                       "(e.g. --input 224x224x3)")
    return tuple(int(d) for d in shape[1:])


def _sources(lc: dict[str, Any], sequential: bool, prev: str, ctx: Context, where: str) -> list[str]:
    nodes = lc.get("inbound_nodes")
    if sequential or nodes is None:
        return [prev]
    if len(nodes) != 1:
        raise ctx.fail(f"{where}: the layer is called {len(nodes)} times (shared weights); cnncalc imports layers "
                       "called once")
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3
        return [t["keras_history"][0] for t in _tensors(node.get("args", []))]
    return [entry[0] for entry in node]  # Keras 2: [[layer, node index, tensor index, kwargs], ...]
