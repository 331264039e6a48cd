"""torch.nn modules and the functions torch.fx records of the resizing, rearranging, cropping,
statistics-normalising, preprocessing and merging layers, for the factory importer.

Besides torch.nn's own modules (Upsample, PixelShuffle, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d,
...), the modules cnncalc's PyTorch export defines for what torch lacks (CropOrPad, Crop, Chunk,
ChannelShuffle, Permute, Rescaling, Normalization, LayerNormAxes, LayerScale, Subtract, Maximum,
Minimum, Average) are read as one layer each: such a module is recognised by its class name and its
docstring, both as the export writes them, so that a user's module of the same name is traced as
any other. What fx records as several calls is fused by `fuse`: torchvision's channel_shuffle
(view, transpose, contiguous, view) and a layer norm between two permutes (ConvNeXt's LayerNorm2d);
a call that returns several tensors (chunk, split) becomes a layer at each piece taken (`piece`).
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable
from typing import Any

from .model import Mapped, Unmapped, compact
from .patterns import affine, chunk_piece, shuffle_layer

INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _number(v: Any) -> float | int:
    v = float(v)
    return int(v) if v.is_integer() else v


def _interpolate(size: Any, scale: Any, mode: str, align: Any, recompute: Any, antialias: Any = False) -> Mapped:
    if antialias:
        raise Unmapped("an antialiased interpolation")
    if mode == "area":
        raise Unmapped("area interpolation (an adaptive average pooling)")
    params: dict[str, Any] = {}
    if size is not None:
        params["size"] = compact(size)
    elif scale is not None:
        params["scale_factor"] = [_number(s) for s in scale] if isinstance(scale, list | tuple) else _number(scale)
    else:
        raise Unmapped("an interpolation without a size or a scale factor")
    params["mode"] = mode
    if align is not None and mode in INTERPOLATING:
        params["align_corners"] = bool(align)
    if recompute is not None:
        params["recompute_scale_factor"] = bool(recompute)
    return "upsample", params


def m_upsample(c: Any) -> Mapped:
    m = c.m
    return _interpolate(m.size, m.scale_factor, m.mode, m.align_corners, getattr(m, "recompute_scale_factor", None))


def m_upsampling_bilinear(c: Any) -> Mapped:
    m = c.m
    if m.size is not None:
        return "upsampling_bilinear2d", {"size": compact(m.size)}
    scale = m.scale_factor
    return "upsampling_bilinear2d", {"scale_factor": [_number(s) for s in scale] if isinstance(scale, list | tuple)
                                     else _number(scale)}


def f_interpolate(c: Any) -> Mapped:
    return _interpolate(c.arg(1, "size"), c.arg(2, "scale_factor"), c.arg(3, "mode", "nearest"),
                        c.arg(4, "align_corners"), c.arg(5, "recompute_scale_factor"), c.arg(6, "antialias", False))


def m_layer_norm(c: Any) -> Mapped:
    m = c.m
    return "layer_norm", {"normalized_shape": list(m.normalized_shape), "eps": m.eps,
                          **affine(m.weight is not None, getattr(m, "bias", None) is not None)}


def f_layer_norm(c: Any) -> Mapped:
    shape = c.arg(1, "normalized_shape")
    return "layer_norm", {"normalized_shape": [shape] if isinstance(shape, int) else list(shape),
                          "eps": c.arg(4, "eps", 1e-5), **affine(c.arg(2, "weight") is not None,
                                                                     c.arg(3, "bias") is not None)}


def m_group_norm(c: Any) -> Mapped:
    m = c.m
    return "group_norm", {"groups": m.num_groups, "eps": m.eps, **({} if m.affine else {"affine": False})}


def f_group_norm(c: Any) -> Mapped:
    return "group_norm", {"groups": c.arg(1, "num_groups"), "eps": c.arg(4, "eps", 1e-5),
                          **affine(c.arg(2, "weight") is not None, c.arg(3, "bias") is not None)}


def m_instance_norm(c: Any) -> Mapped:
    m = c.m
    params: dict[str, Any] = {"eps": m.eps, "affine": m.affine, "track_running_stats": m.track_running_stats}
    note = ""
    if m.momentum is None:
        note = "momentum None (a cumulative average): counted as instance_norm (same counts)"
    elif m.momentum != 0.1:
        params["momentum"] = m.momentum
    return "instance_norm", params, note


def f_instance_norm(c: Any) -> Mapped:
    if c.arg(5, "use_input_stats", True) is False:
        raise Unmapped("instance normalisation with the running statistics")
    affine = c.arg(3, "weight") is not None
    if affine != (c.arg(4, "bias") is not None):
        raise Unmapped("instance normalisation with only one of weight and bias")
    return "instance_norm", {"eps": c.arg(7, "eps", 1e-5), "affine": affine}


def _dims(c: Any, first: int = 1) -> list[int]:
    """The dims of a permute call: permute(x, dims), x.permute(dims) or x.permute(*dims)."""
    if "dims" in c.node.kwargs:
        dims = c.node.kwargs["dims"]
    else:
        dims = c.node.args[first:]
        if len(dims) == 1 and isinstance(dims[0], list | tuple):
            dims = dims[0]
    if not all(isinstance(d, int) for d in dims):
        raise Unmapped("a permute of computed dims")
    return list(dims)


def f_permute(c: Any) -> Mapped:
    rank = len(c.x)
    dims = [d % rank if -rank <= d < rank else d for d in _dims(c)]
    if sorted(dims) != list(range(rank)):
        raise Unmapped(f"permute({dims}) of a tensor of {rank} dimensions")
    if dims[0] != 0:
        raise Unmapped(f"a permute that moves the batch axis ({dims})")
    if dims == sorted(dims):
        return "identity", {}, "a permute that keeps the order of the axes"
    return "permute", {"dims": dims[1:]}


def f_transpose(c: Any) -> Mapped:
    rank = len(c.x)
    pair = [c.arg(1, "dim0"), c.arg(2, "dim1")]
    if not all(isinstance(d, int) and -rank <= d < rank for d in pair):
        raise Unmapped(f"transpose of dims {pair} of a tensor of {rank} dimensions")
    d0, d1 = (d % rank for d in pair)
    if 0 in (d0, d1) and d0 != d1:
        raise Unmapped("a transpose of the batch axis")
    if d0 == d1:
        return "identity", {}, "a transpose of an axis with itself"
    return "transpose", {"dim0": d0, "dim1": d1}


def f_pixel_shuffle(c: Any) -> Mapped:
    return "pixel_shuffle", {"factor": c.arg(1, "upscale_factor")}


def f_pixel_unshuffle(c: Any) -> Mapped:
    return "pixel_unshuffle", {"factor": c.arg(1, "downscale_factor")}


def f_channel_shuffle(c: Any) -> Mapped:
    return "channel_shuffle", {"groups": c.arg(1, "groups")}


def merge(kind: str) -> Callable[[Any], Mapped]:
    """torch.sub, torch.maximum, torch.max of two tensors, ...: a merge of two computed tensors."""
    def mapped(c: Any) -> Mapped:
        if len(c.data) != 2 or len(c.node.args) + len(c.node.kwargs) != 2:
            raise Unmapped("arithmetic with a constant, or a reduction (only two tensors computed by the network "
                           "merge)")
        return kind, {}
    return mapped


# ---- cnncalc's own helper modules ----------------------------------------------------------------

def _crop(c: Any) -> Mapped:
    sides = [int(s) for s in c.m.sides]
    nd = len(sides) // 2
    if not 1 <= nd <= 3 or len(sides) != 2 * nd:
        raise Unmapped(f"a crop of {sides}")
    pairs = [sides[2 * d:2 * d + 2] for d in range(nd)]
    return f"crop{nd}d", {"cropping": pairs[0] if nd == 1 else pairs}


def _normalization(c: Any) -> Mapped:
    m = c.m
    params: dict[str, Any] = {"axis": [k + 1 for k, d in enumerate(m.shape) if d != 1]}
    if m.values is not None:
        mean, variance = m.values
        params.update(mean=mean, variance=variance)
    if m.invert:
        params["invert"] = True
    return "normalization", params


def _layer_norm_axes(c: Any) -> Mapped:
    norm = c.m.norm
    return "layer_norm", {"axis": list(c.m.axes), "eps": norm.eps,
                          **affine(norm.weight is not None, getattr(norm, "bias", None) is not None)}


def _layer_scale(c: Any) -> Mapped:
    """cnncalc's LayerScale: γ scales `axis` of a channels-first tensor (batch 0), as the spec's axis;
    the channels (axis 1) are its default. γ's initial value is not read (the weights may be on the meta
    device) and changes no number."""
    rank = len(c.x)
    axis = c.m.axis
    if not isinstance(axis, int) or not -rank <= axis < rank or axis % rank == 0:
        raise Unmapped(f"a layer scale of axis {axis} of a tensor of {rank} dimensions")
    return "layer_scale", {} if axis % rank == 1 else {"axis": axis % rank}


def _values(v: Any) -> Any:
    return [_number(e) for e in v] if isinstance(v, list | tuple) else _number(v)


HELPERS: dict[str, Callable[[Any], Mapped]] = {
    "CropOrPad": lambda c: ("crop_or_pad", {}), "Crop": _crop,
    "Chunk": lambda c: ("chunk", {"chunks": c.m.chunks, "index": c.m.index}),
    "ChannelShuffle": lambda c: ("channel_shuffle", {"groups": c.m.groups}),
    "Permute": lambda c: ("permute", {"dims": list(c.m.dims)}),
    "Rescaling": lambda c: ("rescaling", {"scale": _values(c.m.scale), "offset": _values(c.m.offset)}),
    "Normalization": _normalization, "LayerNormAxes": _layer_norm_axes, "LayerScale": _layer_scale,
    "Subtract": lambda c: ("subtract", {}), "Maximum": lambda c: ("maximum", {}),
    "Minimum": lambda c: ("minimum", {}), "Average": lambda c: ("average", {}),
}


@functools.cache
def _helper_docs() -> dict[str, str]:
    """Class name → docstring of the PyTorch modules cnncalc's export defines (and HELPERS reads)."""
    from ..layers import all_types

    out = {}
    for cls in all_types().values():
        for name, src in cls.torch_helpers.items():
            if name in HELPERS:
                tree = ast.parse(src)
                node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
                if node is not None:
                    out[name] = ast.get_docstring(node) or ""
    return out


def helper(m: Any) -> str | None:
    """The HELPERS key of a module that is one of cnncalc's export helpers, or None."""
    cls = type(m)
    name = cls.__name__
    if cls.__module__.startswith("torch") or name not in HELPERS:
        return None
    doc = _helper_docs().get(name)
    return name if doc is not None and inspect.cleandoc(cls.__doc__ or "") == doc else None


# ---- tables --------------------------------------------------------------------------------------

MODULES: dict[str, Callable[[Any], Mapped]] = {
    "Upsample": m_upsample, "UpsamplingNearest2d": m_upsample, "UpsamplingBilinear2d": m_upsampling_bilinear,
    "PixelShuffle": lambda c: ("pixel_shuffle", {"factor": c.m.upscale_factor}),
    "PixelUnshuffle": lambda c: ("pixel_unshuffle", {"factor": c.m.downscale_factor}),
    "ChannelShuffle": lambda c: ("channel_shuffle", {"groups": c.m.groups}),
    "LayerNorm": m_layer_norm, "GroupNorm": m_group_norm,
    "InstanceNorm1d": m_instance_norm, "InstanceNorm2d": m_instance_norm, "InstanceNorm3d": m_instance_norm,
}
FUNCTIONS: dict[str, Callable[[Any], Mapped]] = {
    "interpolate": f_interpolate, "upsample": f_interpolate, "layer_norm": f_layer_norm,
    "group_norm": f_group_norm, "instance_norm": f_instance_norm, "pixel_shuffle": f_pixel_shuffle,
    "pixel_unshuffle": f_pixel_unshuffle, "channel_shuffle": f_channel_shuffle,
    "native_channel_shuffle": f_channel_shuffle, "permute": f_permute, "transpose": f_transpose,
    "swapaxes": f_transpose, "swapdims": f_transpose, "sub": merge("subtract"), "subtract": merge("subtract"),
    "isub": merge("subtract"), "maximum": merge("maximum"), "max": merge("maximum"), "minimum": merge("minimum"),
    "min": merge("minimum"),
}
METHODS: dict[str, Callable[[Any], Mapped]] = {
    "permute": f_permute, "transpose": f_transpose, "swapaxes": f_transpose, "swapdims": f_transpose,
    "sub": merge("subtract"), "sub_": merge("subtract"), "maximum": merge("maximum"), "minimum": merge("minimum"),
}


# ---- several tensors from one call ----------------------------------------------------------------

def piece(c: Any, key: str, index: int) -> Mapped:
    """Piece `index` of x.chunk(...) or x.split(...) (`c` the call) as a chunk of the channels."""
    x = c.x
    rank = len(x)
    dim = c.arg(2, "dim", 0)
    if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank != 1:
        raise Unmapped(f"a {key} along dim {dim} (cnncalc's chunk cuts the channels, dim 1)")
    n = x[1]
    if key == "chunk":
        chunks = c.arg(1, "chunks")
        size = -(-n // chunks)
        return chunk_piece(n, index * size, min((index + 1) * size, n))
    sizes = c.arg(1, "split_size_or_sections", c.node.kwargs.get("split_size"))
    if isinstance(sizes, int):
        return chunk_piece(n, index * sizes, min((index + 1) * sizes, n))
    if not isinstance(sizes, list | tuple) or not all(isinstance(s, int) for s in sizes) or index >= len(sizes):
        raise Unmapped(f"a split into {sizes}")
    start = sum(sizes[:index])
    return chunk_piece(n, start, start + sizes[index])


PIECES = ("chunk", "split")


# ---- chains of calls -----------------------------------------------------------------------------

def key(n: Any) -> str:
    if n.op == "call_method":
        return str(n.target)
    if n.op == "call_function":
        return str(getattr(n.target, "__name__", n.target)).lstrip("_")
    return ""


def fuse(nodes: list[Any], shape_of: Callable[[Any], tuple[int, ...] | None], as_call: Callable[[Any], Any]
         ) -> dict[Any, tuple[list[Any], Mapped, Any]]:
    """{last node: (the nodes before it, the layer, the node it reads)} for the chains that are one layer."""
    out: dict[Any, tuple[list[Any], Mapped, Any]] = {}
    taken: set[Any] = set()

    def alone(n: Any, *keys: str) -> bool:
        return key(n) in keys and len(n.users) == 1 and n not in taken and bool(n.args) and hasattr(n.args[0], "op")

    for v2 in nodes:
        try:
            if key(v2) in ("view", "reshape") and v2.args and hasattr(v2.args[0], "op"):
                u = v2.args[0]
                between = []
                if alone(u, "contiguous"):
                    between.append(u)
                    u = u.args[0]
                if not alone(u, "transpose", "permute", "swapaxes") or not alone(u.args[0], "view", "reshape"):
                    continue
                v1 = u.args[0]
                a, b, c = shape_of(v1.args[0]), shape_of(v1), shape_of(v2)
                m = shuffle_layer(a, b, c, permutation(u, len(b) if b else 0))
                if m is not None:
                    out[v2] = ([v1, u, *between], m, v1.args[0])
                    taken.update((v1, u, *between))
            elif key(v2) == "permute" and v2.args and hasattr(v2.args[0], "op"):  # ConvNeXt's LayerNorm2d
                ln = v2.args[0]
                if not (ln.op == "call_function" and key(ln) == "layer_norm" and len(ln.users) == 1
                        and ln not in taken and alone(ln.args[0], "permute")):
                    continue
                p0 = ln.args[0]
                x = shape_of(p0.args[0])
                if x is None:
                    continue
                rank = len(x)
                first, second = permutation(p0, rank), permutation(v2, rank)
                if not first or [first[p] for p in second] != list(range(rank)):
                    continue
                params = dict(f_layer_norm(as_call(ln))[1])
                axes = sorted(first[a] for a in range(rank - len(params.pop("normalized_shape")), rank))
                if 0 in axes:
                    continue
                out[v2] = ([p0, ln], ("layer_norm", {"axis": axes, **params}), p0.args[0])
                taken.update((p0, ln))
        except (Unmapped, TypeError, ValueError, IndexError, KeyError):
            continue
    return out


def permutation(n: Any, rank: int) -> list[int]:
    """The permutation a transpose or permute call applies."""
    if key(n) in ("transpose", "swapaxes"):
        d0, d1 = n.args[1:3] if len(n.args) >= 3 else (n.kwargs.get("dim0"), n.kwargs.get("dim1"))
        if not isinstance(d0, int) or not isinstance(d1, int) or not rank:
            return []
        perm = list(range(rank))
        perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
        return perm
    first = 1
    dims = n.kwargs.get("dims", n.args[first:])
    if len(dims) == 1 and isinstance(dims[0], list | tuple):
        dims = dims[0]
    if not all(isinstance(d, int) for d in dims) or len(dims) != rank:
        return []
    return [d % rank for d in dims]

