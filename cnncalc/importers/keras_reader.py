"""Keras 3 models: a `.keras` archive's config.json, a JSON config (`model.to_json()`), or a model a
factory returned. The config is data (json); no layer is built and no weight is read.

Each layer's config maps to a layer through `LAYERS` (class name → function). Output shapes are the
ones Keras itself recorded in the config (each layer's input tensors carry their shapes); the
weights of a `.keras` archive are counted from the shapes of its HDF5 datasets (h5py reads no data
to give them), and a model in memory is asked for each layer's `count_params()`.
"""

from __future__ import annotations

import functools
import json
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..layers import lookup
from ..layers.activations import keras_functions
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
    input_name,
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
    try:
        imp = from_config(config, source, options, "Keras")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:  # a part of the config not as Keras
        # writes it, where no layer names it (the layers' own fields are named by _mapping)
        raise unreadable(source, f"a damaged Keras model config ({type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
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

KERAS_ALIASES = {"swish": "silu", "hard_swish": "hardswish"}  # Keras's other names of silu and hard_silu


@functools.cache
def activations() -> dict[str, str | None]:
    """What Keras's activation= (or an Activation layer) names → the spec type: the activation
    declarations' Keras functions, Keras's aliases of them, and linear (no layer)."""
    return {"linear": None, **KERAS_ALIASES, **keras_functions(fusable=True)}


Layers = Callable[[dict[str, Any], dict[str, Any]], Mapped]


def _act_name(cfg: dict[str, Any]) -> str:
    a = cfg.get("activation", "linear")
    if isinstance(a, dict):  # a serialized function
        a = a.get("config", a.get("class_name", "?"))
        a = a if isinstance(a, str) else "?"
    return str(a)


def _pairs(value: Any, nd: int) -> list[list[int]]:
    """Keras's padding or cropping (an int, one per dim, or a pair per dim) as a [begin, end] pair per dim."""
    if isinstance(value, int):
        return [[value, value] for _ in range(nd)]
    value = list(value)
    if nd == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [[value[0], value[1]]]
    return [[v, v] if isinstance(v, int) else [int(v[0]), int(v[1])] for v in value]


def _pad_value(pairs: list[list[int]]) -> Any:
    """Pairs as the spec writes a padding: one int, one per dim, or the pairs."""
    if all(b == e for b, e in pairs):
        return compact([b for b, _ in pairs])
    return pairs


def conv(kind: str) -> Layers:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        params: dict[str, Any] = {}
        nd = len(c["kernel_size"]) if isinstance(c["kernel_size"], list | tuple) else 1
        depthwise = kind.startswith("depthwise")
        out_kind = kind
        if kind == "depthwise_conv1d":  # no such spec type: a grouped conv1d, one group per channel
            raise Unmapped("DepthwiseConv1D (a conv1d with groups = channels: give filters and groups)")
        if not depthwise:
            params["filters"] = c["filters"]
        params.update(kernel=compact(c["kernel_size"]), stride=compact(c.get("strides", 1)),
                      padding=c.get("padding", "valid"), dilation=compact(c.get("dilation_rate", 1)))
        if "pad" in piece and params["padding"] == "valid":
            params["padding"] = piece["pad"]
        if kind.startswith("conv") and c.get("groups", 1) != 1:
            params["groups"] = c["groups"]
        if kind in ("depthwise_conv2d", "separable_conv2d") and c.get("depth_multiplier", 1) != 1:
            params["depth_multiplier"] = c["depth_multiplier"]
        params["bias"] = c.get("use_bias", True)
        if params["padding"] == "valid":
            params["padding"] = 0
        if nd and kind == "conv":
            out_kind = f"conv{nd}d"
        return out_kind, params
    return mapped


def conv_transpose(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    if c.get("groups", 1) != 1:
        raise Unmapped("grouped transposed convolution")
    nd = len(c["kernel_size"]) if isinstance(c["kernel_size"], list | tuple) else 1
    params = {"filters": c["filters"], "kernel": compact(c["kernel_size"]), "stride": compact(c.get("strides", 1)),
              "padding": c.get("padding", "valid"), "dilation": compact(c.get("dilation_rate", 1)),
              "bias": c.get("use_bias", True)}
    if c.get("output_padding"):
        params["output_padding"] = compact(c["output_padding"])
    return f"conv_transpose{nd}d", params


def dense(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "dense", {"units": c["units"], "bias": c.get("use_bias", True)}


def batch_norm(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    center, scale = bool(c.get("center", True)), bool(c.get("scale", True))
    params = {"eps": c.get("epsilon", 1e-3), "momentum": round(1 - c.get("momentum", 0.99), 10),
              "affine": center or scale}
    if center != scale:  # β alone (InceptionV3's scale=False) or γ alone
        params.update(center=center, scale=scale)
    return "batch_norm", params


def pool(kind: str, nd: int) -> Layers:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        kernel = c.get("pool_size", 2)
        stride = c.get("strides") or kernel
        padding: Any = c.get("padding", "valid")
        params: dict[str, Any] = {"kernel": compact(kernel), "stride": compact(stride)}
        if "pad" in piece and padding == "valid":
            padding = piece["pad"]
        params["padding"] = 0 if padding == "valid" else padding
        if kind == "avg_pool":
            params["count_include_pad"] = padding != "same"
        return f"{kind}{nd}d", params
    return mapped


def global_pool(kind: str) -> Layers:
    return lambda c, p: (kind, {"keepdims": bool(c.get("keepdims", False))})


def adaptive(kind: str) -> Layers:
    return lambda c, p: (kind, {"output_size": compact(c["output_size"])})


def activation(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    name = _act_name(c)
    kind = activations().get(name, "")
    if name == "linear":
        return "identity", {}
    if not kind:
        raise Unmapped(f"activation {name!r}")
    return kind, {}


def activation_function(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    """cnncalc's ActivationFunction: a keras.activations function with arguments, named back to the
    spec's parameters by the activation type's own Keras argument table."""
    name = str(c.get("function", ""))
    kind = keras_functions().get(name)
    cls = lookup(kind) if kind else None
    if kind is None or cls is None:
        raise Unmapped(f"activation {name!r}")
    given = dict(c.get("arguments") or {})
    if name == "gelu" and set(given) <= {"approximate"}:  # Keras's approximate=True is PyTorch's "tanh"
        return kind, {"approximate": "tanh" if given.get("approximate") else "none"}
    if name == "log_softmax" and set(given) <= {"axis"}:
        return kind, {"axis": given.get("axis", -1)}
    spec_names = {arg: pname for pname, (arg, _) in getattr(cls, "keras_args", {}).items()}
    unknown = sorted(set(given) - set(spec_names))
    if unknown:
        raise Unmapped(f"activation {name!r} with argument {unknown[0]!r}")
    return kind, {spec_names[arg]: value for arg, value in given.items()}


def relu(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    top, slope, threshold = c.get("max_value"), c.get("negative_slope", 0.0), c.get("threshold", 0.0)
    if threshold:
        raise Unmapped(f"ReLU with threshold {threshold}")
    if top is None and slope:
        return "leaky_relu", {"negative_slope": slope}
    if not slope and top in (None, 6.0, 6):
        return ("relu", {}) if top is None else ("relu6", {})
    raise Unmapped(f"ReLU(max_value={top}, negative_slope={slope})")


def prelu(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    return "prelu", {"shared_axes": [int(a) for a in (c.get("shared_axes") or [])]}


def zero_pad(nd: int) -> Layers:
    return lambda c, p: (f"zero_pad{nd}d", {"padding": _pad_value(_pairs(c["padding"], nd))})


def constant_pad(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export's ConstantPadding2D
    params: dict[str, Any] = {"padding": _pad_value(_pairs(c["padding"], 2))}
    value = float(c.get("value", 0.0))
    if not value:
        return "zero_pad2d", params
    return "constant_pad2d", {**params, "value": value}


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


def cropping(nd: int) -> Layers:
    def mapped(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
        pairs = _pairs(c["cropping"], nd)
        if "conv" in piece and piece["conv"][0].startswith("conv_transpose"):  # cnncalc export: ConvNDTranspose + CroppingND
            kind, params = piece["conv"][:2]
            if nd == 2:
                return kind, {**params, "padding": [v for pair in pairs for v in pair]}
            return kind, {**params, "padding": pairs if nd > 1 else pairs[0]}
        return f"crop{nd}d", {"cropping": pairs if nd > 1 else pairs[0]}
    return mapped


def _flat(value: Any) -> Any:
    """A number, or the numbers of a (nested) list in order."""
    if isinstance(value, list | tuple):
        return [e for v in value for e in (_flat(v) if isinstance(v, list | tuple) else [v])]
    return value


def upsampling(nd: int) -> Layers:
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


def layer_norm_axes(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export's LayerNormAxes
    return "layer_norm", {"axis": [int(a) for a in c["axes"]], "eps": c.get("epsilon", 1e-3),
                          "center": c.get("center", True), "scale": c.get("scale", True)}


def patch_embedding(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:  # cnncalc export's PatchEmbedding
    return "patch_embedding", {"dim": c["dim"], "patch": compact(c["patch"]), "class_token": c.get("class_token", False),
                               "position_embedding": c.get("position_embedding", False),
                               "bias": c.get("use_bias", True)}


def group_norm(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    center, scale, groups = c.get("center", True), c.get("scale", True), c.get("groups", 32)
    shape, axis = piece.get("input"), c.get("axis", -1)
    channels = shape[axis] if shape and isinstance(axis, int) and -len(shape) <= axis < len(shape) else None
    # one group per channel (groups=-1, which Keras saves as the channels once built) is instance normalisation;
    # cnncalc's instance_norm has γ and β both or neither, and spatial dims
    if (groups == -1 or groups == channels) and center == scale and (shape is None or len(shape) > 2):
        note = "" if groups == -1 else f"GroupNormalization(groups={groups}): one channel per group"
        return "instance_norm", {"eps": c.get("epsilon", 1e-3), "affine": bool(center)}, note
    if groups == -1:
        if channels is None:
            raise Unmapped("GroupNormalization(groups=-1) with only one of center and scale, of unknown channels")
        groups = channels
    return "group_norm", {"groups": groups, "eps": c.get("epsilon", 1e-3), "center": center, "scale": scale}


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


def attention(c: dict[str, Any], piece: dict[str, Any]) -> Mapped:
    axes = c.get("attention_axes")
    rank = len(piece["input"]) if "input" in piece else None  # of the query, with the batch: Keras records
    # the default axes once built
    if axes is not None and not (rank and sorted(int(a) % rank for a in axes) == list(range(1, rank - 1))):
        raise Unmapped(f"attention over the axes {c['attention_axes']} (cnncalc's attends over every axis but "
                       "the features)")
    params: dict[str, Any] = {"heads": c["num_heads"], "key_dim": c["key_dim"], "bias": c.get("use_bias", True)}
    if c.get("value_dim") not in (None, c["key_dim"]):  # Keras records its default, key_dim
        params["value_dim"] = c["value_dim"]
    if c.get("output_shape") is not None:
        shape = c["output_shape"]
        shape = list(shape) if isinstance(shape, list | tuple) else [shape]
        if len(shape) != 1:
            raise Unmapped(f"attention output of shape {shape}")
        params["output_dim"] = int(shape[0])
    if c.get("dropout"):
        params["dropout"] = float(c["dropout"])
    return "multi_head_attention", params


def simple(kind: str, **params: Any) -> Layers:
    return lambda c, p: (kind, dict(params))


def _rate(c: dict[str, Any], p: dict[str, Any]) -> Mapped:
    return "dropout", {"rate": c.get("rate", 0.5)}


# Keras class name → mapping; a new layer type Keras has is one entry here
LAYERS: dict[str, Layers] = {
    "Conv1D": conv("conv"), "Conv2D": conv("conv"), "Conv3D": conv("conv"), "DepthwiseConv1D": conv("depthwise_conv1d"),
    "DepthwiseConv2D": conv("depthwise_conv2d"), "SeparableConv2D": conv("separable_conv2d"),
    "Conv1DTranspose": conv_transpose, "Conv2DTranspose": conv_transpose, "Conv3DTranspose": conv_transpose,
    "Dense": dense, "BatchNormalization": batch_norm,
    "Activation": activation, "ReLU": relu, "LeakyReLU": lambda c, p: ("leaky_relu",
                                                                        {"negative_slope": c.get("negative_slope", 0.3)}),
    "ELU": lambda c, p: ("elu", {"alpha": c.get("alpha", 1.0)}), "PReLU": prelu,
    "Softmax": lambda c, p: ("softmax", {"axis": c.get("axis", -1)}),
    "Flatten": simple("flatten"), "Reshape": reshape, "Dropout": _rate, "Identity": simple("identity"),
    "ConstantPadding2D": constant_pad, "Add": simple("add"),
    "Multiply": simple("multiply"), "Concatenate": concat, "LocalResponseNorm": lrn, "PerPositionBias": per_position,
    "MultiHeadAttention": attention,
    "UpSampling1D": upsampling(1), "UpSampling2D": upsampling(2), "UpSampling3D": upsampling(3),
    "Resizing": resizing, "LayerNormalization": layer_norm, "GroupNormalization": group_norm,
    "Permute": lambda c, p: ("permute", {"dims": list(c["dims"])}), "Rescaling": rescaling,
    "Normalization": normalization, "Subtract": simple("subtract"), "Maximum": simple("maximum"),
    "Minimum": simple("minimum"), "Average": simple("average"),
    # keras.applications' own (ConvNeXt): a residual branch dropped in training, the identity at inference
    "StochasticDepth": lambda c, p: ("dropout", {"rate": float(c.get("drop_path_rate", 0.0))},
                                     "stochastic depth: the identity at inference, as dropout"),
    # the layers cnncalc's export defines for what Keras lacks
    "PixelShuffle": lambda c, p: ("pixel_unshuffle" if c.get("inverse") else "pixel_shuffle", {"factor": c["factor"]}),
    "ChannelShuffle": lambda c, p: ("channel_shuffle", {"groups": c["groups"]}),
    "Chunk": lambda c, p: ("chunk", {"chunks": c["chunks"], "index": c["index"]}),
    "CropOrPad": simple("crop_or_pad"),
    "LayerScale": lambda c, p: ("layer_scale", {"init_values": c["init_values"], "projection_dim": c["projection_dim"],
                                                "axis": c.get("axis", -1)}),
    "LayerNormAxes": layer_norm_axes, "PatchEmbedding": patch_embedding, "SelfAttention": attention,
    "SelectToken": lambda c, p: ("select_token", {"index": c.get("index", 0)}),
    "ActivationFunction": activation_function,
}
for _nd in (1, 2, 3):
    LAYERS.update({f"MaxPooling{_nd}D": pool("max_pool", _nd), f"AveragePooling{_nd}D": pool("avg_pool", _nd),
                   f"GlobalAveragePooling{_nd}D": global_pool(f"global_avg_pool{_nd}d"),
                   f"GlobalMaxPooling{_nd}D": global_pool(f"global_max_pool{_nd}d"),
                   f"AdaptiveAveragePooling{_nd}D": adaptive(f"adaptive_avg_pool{_nd}d"),
                   f"AdaptiveMaxPooling{_nd}D": adaptive(f"adaptive_max_pool{_nd}d"),
                   f"ZeroPadding{_nd}D": zero_pad(_nd), f"Cropping{_nd}D": cropping(_nd),
                   f"SpatialDropout{_nd}D": _rate})


def _tensors(args: Any) -> list[dict[str, Any]]:
    """The Keras tensors among a Keras 3 call's arguments, in order."""
    if isinstance(args, dict):
        if args.get("class_name") == "__keras_tensor__":
            return [args["config"]]
        return [t for v in args.values() for t in _tensors(v)]
    if isinstance(args, list | tuple):
        return [t for v in args for t in _tensors(v)]
    return []


FUSED_ACTIVATION = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv2D", "Dense",
                    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")


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
    sequential = config.get("class_name") == "Sequential"
    returned_refs = _refs(inner.get("output_layers"))
    state = _Inlining()
    if any(_nested(lc) for lc in layers):  # models used as layers: read as their layers, `<model>.<layer>`
        layers, _, outs = _graph(inner, sequential, "", 0, state, ctx)
        sequential, returned_refs = False, [(r[0], r[1]) for r in outs]
        calls_total = sum(len(lc.get("inbound_nodes") or []) for lc in layers)
        if calls_total > MAX_NODES:
            raise ctx.fail(f"the nested models expand to {calls_total:,} layer calls, more than the "
                           f"{MAX_NODES:,} cnncalc imports")
    # the layout of the layers that compute on images (Flatten's data_format only orders its output)
    formats = {lc.get("config", {}).get("data_format") for lc in layers
               if isinstance(lc, dict) and lc.get("class_name") != "Flatten"} - {None}
    if len(formats) > 1:
        raise ctx.fail("the model mixes channels_first and channels_last layers")
    layout = formats.pop() if formats else "channels_last"
    built = _built(model, "", 0) if model is not None else {}
    calls = _calls(layers, sequential, ctx)
    # consumers' records of each call's output shape (Keras 3 configs carry them)
    shapes: dict[tuple[str, int], tuple[int, ...]] = {}
    for lc in layers:
        for node in lc.get("inbound_nodes") or []:
            if isinstance(node, dict):
                for t in _tensors([node.get("args", []), node.get("kwargs", {})]):
                    hist = t.get("keras_history")
                    if hist and isinstance(t.get("shape"), list | tuple):
                        shapes[(hist[0], int(hist[1]))] = tuple(-1 if d is None else d for d in t["shape"])
    given = list(options.input_shapes)
    input_layers = [(k, lc) for k, lc in enumerate(layers) if lc.get("class_name") == "InputLayer"]
    if given and input_layers and len(given) != len(input_layers):
        raise ctx.fail(f"--input gives {len(given)} shapes, the model has {len(input_layers)} inputs")
    owner: dict[tuple[str, int], str] = {}
    inputs: dict[str, tuple[int, ...]] = {}
    for j, (k, lc) in enumerate(input_layers):
        cfg = lc.get("config", {}) or {}
        lname = str(cfg.get("name") or lc.get("name") or f"input_{k}")
        where = f"layer {k} ({lc.get('class_name')} {lname!r})"
        in_shape = _input_shape(cfg.get("batch_shape") or cfg.get("batch_input_shape"), given[j] if given else None,
                                where, ctx)
        name = INPUT if len(input_layers) == 1 else input_name(lname, ctx.taken)
        owner[(lname, 0)] = name
        inputs[name] = in_shape
    nodes: list[Node] = []
    pieces: dict[str, dict[str, Any]] = {}
    first: dict[str, Node] = {}  # layer → the node of its first call
    prev: str = INPUT
    for k, lc, call, srcs in calls:
        cls = lc.get("class_name", "?")
        cfg = lc.get("config", {}) or {}
        lname = str(cfg.get("name") or lc.get("name") or f"layer_{k}")
        where = f"layer {k} ({cls} {lname!r})" + (f", call {call + 1}" if call else "")
        if sequential:
            if not inputs:
                build = (lc.get("build_config") or {}).get("input_shape") or cfg.get("batch_input_shape")
                inputs[INPUT] = _input_shape(build, given[0] if given else None, where, ctx)
            srcs = [(prev, 0)] if prev != INPUT else []
            layer_inputs = [owner[srcs[0]]] if srcs else [INPUT]
        else:
            missing_src = next((s for s in srcs if s not in owner), None)
            if missing_src is not None:
                raise ctx.fail(f"{where}: reads {missing_src[0]!r}, which is not a layer before it")
            layer_inputs = [owner[s] for s in srcs]
        if cls == "MultiHeadAttention":
            layer_inputs = list(dict.fromkeys(layer_inputs))
        base, sep, role = lname.partition("__")
        recorded = shapes.get((lname, call))
        shape = tuple(recorded[1:]) if recorded and all(d > 0 for d in recorded[1:]) else None
        fn = LAYERS.get(cls)
        if sep and role and fn is not None and cls not in ("PerPositionBias", "Cropping1D", "Cropping2D",
                                                            "Cropping3D", "LocalResponseNorm"):
            # an extra layer cnncalc's Keras export made for the spec layer `base` (`<layer>__<role>`)
            mapped = _mapping(fn, cfg, {}, where, ctx)
            piece = pieces.setdefault(base, {})
            if mapped[0].startswith(("zero_pad", "constant_pad")):  # the padding of a conv or a pool
                piece["pad"] = mapped[1]["padding"]
            elif mapped[0].startswith(("conv", "depthwise_conv", "separable_conv")):
                piece["conv"] = mapped
            owner[(lname, call)] = layer_inputs[0]
            prev = lname
            continue
        again = first.get(lname)
        name = unique_name(lname if again is None else f"{lname}_{call}", ctx.taken)
        weights = None
        if lname in built:
            weights = int(built[lname].count_params()) + sum(int(p.count_params()) for p in
                                                             _pieces(built, lname))
        act = _act_name(cfg) if cls in FUSED_ACTIVATION else "linear"
        try:
            if fn is None:
                raise Unmapped("no cnncalc layer type computes it")
            if act != "linear" and act not in activations():
                raise Unmapped(f"activation {act!r}")
            piece = pieces.get(base, {}) if not sep else {}
            if srcs and srcs[0] in shapes:  # the (first) input's shape, with the batch
                piece = {**piece, "input": shapes[srcs[0]]}
            elif isinstance((lc.get("build_config") or {}).get("input_shape"), list):
                piece = {**piece, "input": tuple(-1 if d is None else d for d in lc["build_config"]["input_shape"])}
            m = _mapping(fn, cfg, piece, where, ctx)
        except Unmapped as exc:
            node = ctx.unknown(where, cls, exc.reason, name, layer_inputs, shape, weights, exc.awaits)
        else:
            kind_, params, note = unpack(m)
            layer_type = lookup(kind_)
            if act not in ("linear", "") and layer_type is not None and "activation" in layer_type.params:  # one layer
                params, act = {**params, "activation": activations()[act]}, "linear"
            node = Node(name, kind_, params, layer_inputs, shape, weights, note, where)
            if again is not None:  # the layer called again: the same weights (`share:`)
                node.shares, node.weights = again.name, 0
        if again is None:
            first[lname] = node
        nodes.append(node)
        owner[(lname, call)] = node.name
        if act not in ("linear", "") and node.type != "opaque":
            act_type = activations()[act]
            assert act_type is not None
            extra = Node(unique_name(f"{name}_{act}", ctx.taken), act_type, {}, [node.name], shape, None,
                         f"the activation of {name}", where)
            nodes.append(extra)
            owner[(lname, call)] = extra.name
        prev = lname
    if not inputs:
        raise ctx.fail("the model has no input layer with a shape; give it with --input")
    returned: list[str] = []
    if not sequential:
        for ref in returned_refs:
            if ref in owner and owner[ref] not in inputs:
                returned.append(owner[ref])
    if state.models:
        shown = ", ".join(state.models[:5]) + (f" and {len(state.models) - 5:,} more" if len(state.models) > 5 else "")
        ctx.notes.insert(0, f"models used as layers, read as their layers (`<model>.<layer>`): {shown}")
    ctx.notes.insert(0, f"{config.get('class_name')} model of {len(layers)} layers, {layout}"
                     + ("; every layer's weights checked against count_params()" if model is not None else ""))
    name = str(inner.get("name") or os.path.splitext(os.path.basename(source))[0])
    first_shape = next(iter(inputs.values()))
    return Imported(name, layout, first_shape, nodes, source, kind, ctx.notes, ctx.warnings,
                    inputs=inputs if len(inputs) > 1 else {}, outputs=list(dict.fromkeys(returned)))


def _mapping(fn: Layers, cfg: dict[str, Any], piece: dict[str, Any], where: str, ctx: Context) -> Mapped:
    """fn's mapping of a layer's config; a config without a field fn reads, or with a value of a type it
    cannot take (which Keras cannot load either), is an error naming the layer."""
    try:
        return fn(cfg, piece)
    except KeyError as exc:
        raise ctx.fail(f"{where}: its config has no {exc.args[0]!r}", "unreadable") from None
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ctx.fail(f"{where}: a value in its config is of a type it cannot have ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0][:200] if str(exc) else ''})", "unreadable") from None


NESTED_MODELS = ("Sequential", "Functional", "Model")  # a model used as a layer of another
MAX_NESTING = 32  # models inside models
Ref = tuple[str, int, int]  # a Keras tensor: [layer, call (node index), output (tensor index)]


@dataclass
class _Inlining:
    work: int = 0  # layer calls written so far, over every level of nesting
    models: list[str] = field(default_factory=list)  # the nested models read, as module paths


def _nested(lc: Any) -> bool:
    """A layer that is a Keras model of its own (a Sequential or Functional with its layers in its config)."""
    return isinstance(lc, dict) and lc.get("class_name") in NESTED_MODELS \
        and isinstance((lc.get("config") or {}).get("layers"), list)


def _lname(lc: dict[str, Any], k: int) -> str:
    return str((lc.get("config") or {}).get("name") or lc.get("name") or f"layer_{k}")


def _graph(cfg: dict[str, Any], sequential: bool, path: str, depth: int, state: _Inlining, ctx: Context
           ) -> tuple[list[dict[str, Any]], list[str], list[Ref]]:
    """A model's config as the layers of a Functional with no model among them: each model used as a layer
    replaced by its own layers (recursively), named `<model>.<layer>`, called once per call of the model
    (a model called twice: its layers called twice, the same weights). Returns the layers, the names of
    the input layers (in their order) and the tensors the model returns."""
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ctx.fail(f"the nested model {path.rstrip('.')!r} has no layers", "unreadable")
    bad = next((k for k, lc in enumerate(layers) if not isinstance(lc, dict)), None)
    if bad is not None:
        raise ctx.fail(f"layer {bad} of {path.rstrip('.') or 'the model'!r} is not a layer config", "unreadable")
    if sequential:
        layers, ins, outs = _chain(layers)
    else:
        what = f"the model {path.rstrip('.') or 'itself'!r}"
        ins = [r[0] for r in _refs3(cfg.get("input_layers"), what, ctx)]
        outs = _refs3(cfg.get("output_layers"), what, ctx)
    names = {_lname(lc, k) for k, lc in enumerate(layers)}
    for k, lc in enumerate(layers):
        _nodes(lc, f"layer {k} ({lc.get('class_name')} {path + _lname(lc, k)!r})", ctx)
    flat: list[dict[str, Any]] = []
    alias: dict[Ref, Ref] = {}  # a nested model's output → the tensor of the layer inside it that computes it
    alias_out: dict[Ref, Ref] = {}  # the same, as output_layers name it: Keras counts a Functional's own node
    # (linking its inputs to its outputs) there, so its first call is node 1 (its consumers count from 0)
    for k, lc in enumerate(layers):
        if not _nested(lc):
            flat.append(lc)
            continue
        name = _lname(lc, k)
        where = f"layer {k} ({lc['class_name']} {path + name!r})"
        if depth >= MAX_NESTING:
            raise ctx.fail(f"{where}: models nested more than {MAX_NESTING} deep")
        state.models.append(path + name)
        sub, sub_ins, sub_outs = _graph(lc["config"], lc["class_name"] == "Sequential", f"{path}{name}.", depth + 1,
                                        state, ctx)
        calls = [n for n in lc.get("inbound_nodes") or [] if isinstance(n, dict | list)]
        if any(isinstance(n, list) for n in calls):
            raise ctx.fail(f"{where}: a model used as a layer in a Keras 2 config (cnncalc reads nested models "
                           "from Keras 3 configs: save the model with Keras 3)")
        own = 1 if lc["class_name"] != "Sequential" else 0
        counts = {_lname(s, i): len(s.get("inbound_nodes") or []) for i, s in enumerate(sub)
                  if s.get("class_name") != "InputLayer"}
        state.work += sum(counts.values()) * len(calls)
        if state.work > 4 * MAX_NODES:
            raise ctx.fail(f"{where}: the nested models expand to more than the {MAX_NODES:,} layer calls "
                           "cnncalc imports")
        moves: list[Callable[[Ref], Ref]] = []
        for c, node in enumerate(calls):
            srcs = _node_refs(node, where, ctx)
            if len(srcs) != len(sub_ins):
                raise ctx.fail(f"{where}, call {c + 1}: called on {len(srcs)} tensors, the model has "
                               f"{len(sub_ins)} inputs")

            move = functools.partial(_move, name=name, call=c, counts=counts,
                                     bind=dict(zip(sub_ins, srcs, strict=True)), where=where, ctx=ctx)
            moves.append(move)
            for t, out in enumerate(sub_outs):
                alias[(name, c, t)] = alias_out[(name, c + own, t)] = move(out)
        for i, s in enumerate(sub):
            if s.get("class_name") == "InputLayer":
                continue
            full = f"{name}.{_lname(s, i)}"
            if full in names:
                raise ctx.fail(f"{where}: its layer {_lname(s, i)!r} would be named {full!r}, the name of "
                               "another layer of the model")
            nodes = s.get("inbound_nodes") or []
            flat.append({**s, "name": full, "config": {**(s.get("config") or {}), "name": full},
                         "inbound_nodes": [_rewrite(n, move) for move in moves for n in nodes]})
    outs = [alias_out.get(r, r) for r in outs]
    if alias:
        def resolve(ref: Ref) -> Ref:
            for _ in range(len(alias) + 1):
                if ref not in alias:
                    return ref
                ref = alias[ref]
            raise ctx.fail(f"the nested models of {path.rstrip('.') or 'the model'!r} read each other in a cycle")
        flat = [{**lc, "inbound_nodes": [_rewrite(n, resolve) for n in lc["inbound_nodes"]]}
                if lc.get("inbound_nodes") else lc for lc in flat]
        outs = [resolve(r) for r in outs]
    return flat, ins, outs


def _move(ref: Ref, name: str, call: int, counts: dict[str, int], bind: dict[str, Ref], where: str,
          ctx: Context) -> Ref:
    """A tensor inside the nested model `name`, at its call `call`, as a tensor of the model around it:
    one of its inputs is the tensor the call reads, its layer `x` is `<name>.x`, called `counts[x]` times
    at each call of the model."""
    if ref[0] in bind:
        return bind[ref[0]]
    if ref[0] not in counts:
        raise ctx.fail(f"{where}: a layer inside it reads {ref[0]!r}, which is not one of its layers")
    return f"{name}.{ref[0]}", call * counts[ref[0]] + ref[1], ref[2]


def _chain(layers: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str], list[Ref]]:
    """A Sequential's layers as a Functional's: each reads the one before it (the shape it reads: its
    build_config's input_shape); an input layer made from the first layer's shape if there is none."""
    start = next((lc for lc in layers if lc.get("class_name") == "InputLayer"), None)
    rest = [lc for lc in layers if lc.get("class_name") != "InputLayer"]
    if start is None:
        first = rest[0] if rest else {}
        shape = (first.get("build_config") or {}).get("input_shape") or \
            (first.get("config") or {}).get("batch_input_shape")
        taken = {_lname(lc, k) for k, lc in enumerate(layers)}
        iname = next(n for n in ("input", *(f"input_{i}" for i in range(1, len(taken) + 2))) if n not in taken)
        start = {"class_name": "InputLayer", "name": iname, "config": {"name": iname, "batch_shape": shape},
                 "inbound_nodes": []}
    prev: Ref = (_lname(start, 0), 0, 0)
    out = [start]
    for k, lc in enumerate(rest, 1):
        shape = (lc.get("build_config") or {}).get("input_shape")
        tensor = {"keras_history": list(prev), **({"shape": shape} if isinstance(shape, list) else {})}
        out.append({**lc, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": tensor}],
                                             "kwargs": {}}]})
        prev = (_lname(lc, k), 0, 0)
    return out, [_lname(start, 0)], [prev]


def _ref(h: Any, where: str, ctx: Context) -> Ref:
    """A tensor reference of a config, [layer, node index(, tensor index)], checked."""
    if isinstance(h, list | tuple) and len(h) >= 2 and isinstance(h[0], str) \
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in h[1:3]):
        return h[0], h[1], h[2] if len(h) > 2 else 0
    raise ctx.fail(f"{where}: {str(h)[:80]} is not a tensor reference ([layer, node, tensor])", "unreadable")


def _node_refs(node: Any, where: str, ctx: Context) -> list[Ref]:
    """The tensors one call (inbound node) reads, in order."""
    if isinstance(node, dict):  # Keras 3
        return [_ref(t.get("keras_history"), where, ctx)
                for t in _tensors([node.get("args", []), node.get("kwargs", {})]) if t.get("keras_history")]
    if isinstance(node, list):  # Keras 2
        return [_ref(e, where, ctx) for e in node]
    raise ctx.fail(f"{where}: an inbound node that is neither a Keras 3 nor a Keras 2 one", "unreadable")


def _nodes(lc: dict[str, Any], where: str, ctx: Context) -> list[Any]:
    """A layer's inbound nodes (a list), each checked."""
    nodes = lc.get("inbound_nodes") or []
    if not isinstance(nodes, list):
        raise ctx.fail(f"{where}: its inbound_nodes are not a list", "unreadable")
    for node in nodes:
        _node_refs(node, where, ctx)
    return nodes


def _rewrite(node: Any, fn: Callable[[Ref], Ref]) -> Any:
    """An inbound node with each tensor it reads replaced by fn(tensor) (the rest, and each shape, kept)."""
    if isinstance(node, list) and all(isinstance(e, list) and e and isinstance(e[0], str) for e in node):  # Keras 2
        return [[*fn((str(e[0]), int(e[1]), int(e[2]) if len(e) > 2 else 0)), *e[3:]] for e in node]
    if isinstance(node, dict):
        t = node.get("config")
        if node.get("class_name") == "__keras_tensor__" and isinstance(t, dict) and t.get("keras_history"):
            h = t["keras_history"]
            return {**node, "config": {**t, "keras_history": list(fn((str(h[0]), int(h[1]),
                                                                      int(h[2]) if len(h) > 2 else 0)))}}
        return {k: _rewrite(v, fn) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_rewrite(v, fn) for v in node]
    return node


def _built(model: Any, prefix: str, depth: int) -> dict[str, Any]:
    """A built model's layers by the names the import gives them (a nested model's: `<model>.<layer>`)."""
    out: dict[str, Any] = {}
    for layer in model.layers:
        if type(layer).__name__ in NESTED_MODELS and depth < MAX_NESTING and hasattr(layer, "layers"):
            out.update(_built(layer, f"{prefix}{layer.name}.", depth + 1))
        else:
            out[prefix + layer.name] = layer
    return out


def _refs3(value: Any, what: str, ctx: Context) -> list[Ref]:
    """[layer, node index, tensor index] of each entry of a config's input_layers or output_layers."""
    if not isinstance(value, list) or not value:
        return []
    if isinstance(value[0], str):
        value = [value]
    return [_ref(v, f"{what}: input_layers or output_layers", ctx) for v in value]


def _refs(value: Any) -> list[tuple[str, int]]:
    """[layer, node index] of each entry of a config's output_layers ([name, i, j], or a list of them)."""
    if not isinstance(value, list) or not value:
        return []
    if isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1])) for v in value if isinstance(v, list) and len(v) >= 2]


def _calls(layers: list[Any], sequential: bool, ctx: Context
           ) -> list[tuple[int, dict[str, Any], int, list[tuple[str, int]]]]:
    """Every call of every layer but the inputs, (layer index, config, call index, the [layer, call] each of
    its inputs comes from), in an order where each call comes after the calls it reads (a layer called
    again on a later tensor is listed once in the config, at its first call)."""
    out: list[tuple[int, dict[str, Any], int, list[tuple[str, int]]]] = []
    for k, lc in enumerate(layers):
        if not isinstance(lc, dict):
            raise ctx.fail(f"layer {k} is not a layer config", "unreadable")
        if lc.get("class_name") == "InputLayer":
            continue
        if sequential or lc.get("inbound_nodes") is None:
            out.append((k, lc, 0, []))
            continue
        where = f"layer {k} ({lc.get('class_name')} {_lname(lc, k)!r})"
        nodes = _nodes(lc, where, ctx)
        if not nodes:
            continue  # a layer never called: no part of the graph
        for j, node in enumerate(nodes):  # Keras 3, or Keras 2: [[layer, node index, tensor index, kwargs], ...]
            out.append((k, lc, j, [(r[0], r[1]) for r in _node_refs(node, where, ctx)]))
    if sequential:
        return out
    done = {(str((lc.get("config") or {}).get("name") or lc.get("name")), 0) for lc in layers
            if isinstance(lc, dict) and lc.get("class_name") == "InputLayer"}
    order: list[tuple[int, dict[str, Any], int, list[tuple[str, int]]]] = []
    waiting: dict[tuple[str, int], list[int]] = {}
    missing = [0] * len(out)
    ready = []
    keys = [(str((lc.get("config") or {}).get("name") or lc.get("name")), j) for _, lc, j, _ in out]
    for i, (_, _, _, srcs) in enumerate(out):
        need = {s for s in srcs if s not in done}
        missing[i] = len(need)
        for s in need:
            waiting.setdefault(s, []).append(i)
        if not need:
            ready.append(i)
    import heapq

    heapq.heapify(ready)
    while ready:
        i = heapq.heappop(ready)
        order.append(out[i])
        for w in waiting.pop(keys[i], []):
            missing[w] -= 1
            if missing[w] == 0:
                heapq.heappush(ready, w)
    if len(order) != len(out):
        k, lc, j, srcs = next(c for i, c in enumerate(out) if missing[i])
        name = (lc.get("config") or {}).get("name") or lc.get("name")
        bad = next(s for s in srcs if s not in done and s not in {keys[i] for i in range(len(out)) if not missing[i]})
        raise ctx.fail(f"layer {k} ({lc.get('class_name')} {name!r}): reads {bad[0]!r}, which is not a layer "
                       "of the model (or the layers read each other in a cycle)")
    return order


def _pieces(built: dict[str, Any], base: str) -> list[Any]:
    return [layer for n, layer in built.items() if n.startswith(base + "__")]


def _input_shape(shape: Any, given: tuple[int, ...] | None, where: str, ctx: Context) -> tuple[int, ...]:
    if given is not None:
        return tuple(given)
    if not isinstance(shape, list | tuple) or len(shape) < 2 or any(d is None for d in shape[1:]):
        raise ctx.fail(f"{where}: the input shape {shape} is not fixed; give it with --input "
                       "(e.g. --input 224x224x3)")
    sizes = tuple(int(d) for d in shape[1:])
    if any(d < 1 for d in sizes):
        raise ctx.fail(f"{where}: the input shape {shape} has a size below 1")
    return sizes
