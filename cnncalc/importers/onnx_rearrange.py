"""ONNX operators of the resizing, rearranging, cropping, statistics-normalising, preprocessing and
merging layers, and the chains of nodes torch's exporter writes for the ones ONNX has no operator for.

Single operators map through the functions the reader's `OPS` table names (Resize, DepthToSpace,
LayerNormalization, Transpose, Slice, ...). `fuse` recognises chains that are one layer:

- Reshape, Transpose, Reshape: channel_shuffle (torchvision's channel_shuffle), pixel_unshuffle and
  pixel_shuffle (torch's decompositions);
- Transpose, LayerNormalization, the inverse Transpose: a layer_norm over other axes than the last;
- Reshape, InstanceNormalization, Reshape, Mul, Add: torch's group_norm;
- x · scale (+ offset) by constants: rescaling (Keras Rescaling); (x − mean) / √variance and its
  inverse: normalization (Keras Normalization, its statistics stored weights or constants);
- (a + b) / 2: average; Max(Max(a, b), c): maximum of three (and Min);
- consecutive Slices: a crop of the spatial axes, or a chunk of the channels.

A weight is *stored* when it is an initializer of the file (or computed from one by Unsqueeze,
Reshape, ...): torch writes its parameters and buffers so, and a Constant node holds what is not
learned (the ones and zeros of a normalisation without affine parameters).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .model import Mapped, Unmapped, compact, f32
from .patterns import affine, chunk_piece, shuffle_layer

# the layer types mapped here; their weights are counted by `weights`
KINDS = frozenset(("upsample", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "permute", "chunk",
                   "crop1d", "crop2d", "crop3d", "layer_norm", "group_norm", "instance_norm", "normalization",
                   "rescaling", "subtract", "maximum", "minimum", "average", "layer_scale", "gelu"))
STATISTICS = frozenset(("layer_norm", "group_norm", "instance_norm"))
PASS = frozenset(("Identity", "Unsqueeze", "Reshape", "Squeeze", "Cast", "Flatten"))  # a stored value passes
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
HALF_PIXEL = ("half_pixel", "pytorch_half_pixel")


# ---- values and stored weights -------------------------------------------------------------------

def value(g: Any, t: str) -> Any:
    """The value of a non-data tensor (an initializer, a Constant, or computed from them), or None."""
    if not t:
        return None
    v = g.const(t)
    if v is None and g.folder is not None:
        v = g.folder.value(t)
    return v


def stored(g: Any, t: str) -> list[str]:
    """The initializers of the file that the non-data tensor `t` is (or is computed from by PASS ops)."""
    producer = g.folder.producer if g.folder is not None else {}
    out = []
    for _ in range(64):
        if not t:
            break
        if t in g.init and not t.startswith("cnncalc_folded_"):
            out.append(t)
            break
        p = producer.get(t)
        if p is None or p.op_type not in PASS or not p.input:
            break
        t = p.input[0]
    return out


def weights(g: Any, kind: str, params: dict[str, Any], nodes: list[Any], data: set[str]) -> int | None:
    """The weights the file stores for a layer of `kind` made of `nodes`; None where it cannot say."""
    if kind == "normalization":  # Keras keeps a count beside the mean and variance: not in the file
        return 0 if "mean" in params else None
    if kind not in STATISTICS and kind != "layer_scale":
        return 0
    names = dict.fromkeys(s for n in nodes for t in n.input if t and t not in data for s in stored(g, t))
    return sum(math.prod(g.init[s]) for s in names)


def _number(v: float) -> float | int:
    v = f32(v)
    return int(v) if float(v).is_integer() else v


# ---- resizing ------------------------------------------------------------------------------------

def resize(op: Any) -> Mapped:
    """Resize (opset 10+) and Upsample (opsets 7 to 9) as upsample."""
    x = op.x
    rank = len(x)
    nd = rank - 2
    if not 1 <= nd <= 3:
        raise Unmapped(f"a resize of a tensor of {rank} dimensions (cnncalc resizes 1 to 3 spatial dims)")
    mode = op.a("mode", "nearest")
    sizes = scales = None
    if op.type == "Upsample":
        ctm, nearest = "asymmetric", "floor"
        scales = op.a("scales")  # opset 7: an attribute
        if scales is not None:
            import numpy as np

            scales = np.array(scales, dtype=np.float32)
        elif op.has(1):
            scales = value(op.g, op.node.input[1])
    else:
        if op.a("antialias", 0):
            raise Unmapped("an antialiased resize")
        if op.a("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise Unmapped(f"a resize that keeps the aspect ratio ({op.a('keep_aspect_ratio_policy')})")
        ctm = op.a("coordinate_transformation_mode", "half_pixel" if op.g.opset >= 11 else "asymmetric")
        nearest = op.a("nearest_mode", "round_prefer_floor")
        if ctm == "tf_crop_and_resize":
            raise Unmapped("a resize of a region (tf_crop_and_resize)")
        if op.g.opset < 11:
            scales = value(op.g, op.node.input[1]) if op.has(1) else None
        else:
            scales = value(op.g, op.node.input[2]) if op.has(2) else None
            sizes = value(op.g, op.node.input[3]) if op.has(3) else None
    axes = op.a("axes")
    params: dict[str, Any] = {}
    if sizes is not None and sizes.size:
        full = _full([int(v) for v in sizes.reshape(-1)], axes, list(x), rank)
        if full[:2] != list(x[:2]):
            raise Unmapped(f"a resize of the batch or the channels (sizes {full})")
        if any(v < 1 for v in full):
            raise Unmapped(f"a resize to the sizes {full}")
        params["size"] = compact(full[2:])
    elif scales is not None and scales.size:
        fs = _full([_number(float(v)) for v in scales.reshape(-1)], axes, [1] * rank, rank)
        if fs[:2] != [1, 1]:
            raise Unmapped(f"a resize of the batch or the channels (scales {fs})")
        if any(v <= 0 for v in fs):
            raise Unmapped(f"a resize by the scales {fs}")
        params["scale_factor"] = fs[2] if len(set(fs[2:])) == 1 else fs[2:]
    else:
        raise Unmapped("a resize whose scales or sizes are computed from the data")
    note = ""
    if mode == "nearest":
        kind = "nearest"
        if ctm in HALF_PIXEL and nearest == "round_prefer_ceil":
            kind = "nearest-exact"
        elif (ctm, nearest) != ("asymmetric", "floor"):
            note = f"nearest with {ctm} coordinates, {nearest} rounding: counted as torch's nearest (same shape, " \
                   "no operations)"
    elif mode in ("linear", "cubic"):
        if mode == "cubic" and nd != 2:
            raise Unmapped(f"cubic resizing of {nd} spatial dims (torch's bicubic resizes images)")
        kind = LINEAR[nd] if mode == "linear" else "bicubic"
        if ctm == "align_corners":
            params["align_corners"] = True
        elif ctm not in HALF_PIXEL:
            note = f"{mode} with {ctm} coordinates: counted as torch's {kind} (same shape and operations)"
        if mode == "cubic" and op.a("cubic_coeff_a", -0.75) != -0.75:
            note = f"cubic_coeff_a {op.a('cubic_coeff_a'):g} (torch's is -0.75): counted as torch's bicubic (same " \
                   "shape and operations)"
    else:
        raise Unmapped(f"resize mode {mode!r}")
    params["mode"] = kind
    return "upsample", params, note


def _full(values: list[Any], axes: Any, fill: list[Any], rank: int) -> list[Any]:
    """Per-dimension values given for `axes` (all dims if none), the others from `fill`."""
    if not axes:
        if len(values) != rank:
            raise Unmapped(f"{len(values)} resize values for a tensor of {rank} dimensions")
        return values
    out = list(fill)
    if len(axes) != len(values):
        raise Unmapped("a resize with more axes than values")
    for a, v in zip(axes, values, strict=True):
        if not -rank <= a < rank:
            raise Unmapped(f"a resize along axis {a}, which a tensor of {rank} dimensions does not have")
        out[a % rank] = v
    return out


# ---- rearranging ---------------------------------------------------------------------------------

def _block(op: Any, divided: Callable[[int], tuple[int, ...]]) -> int:
    """The blocksize of DepthToSpace or SpaceToDepth, checked against the sizes it must divide."""
    x = op.x
    r = op.a("blocksize")
    if len(x) != 4:
        raise Unmapped(f"{op.type} of a tensor that is not an image")
    if not isinstance(r, int) or r < 1 or any(s % r for s in divided(r)):
        raise Unmapped(f"{op.type} with blocksize {r} of a {'x'.join(map(str, x[1:]))} tensor")
    return r


def depth_to_space(op: Any) -> Mapped:
    r = _block(op, lambda r: (op.x[1], op.x[1] // r))  # r² divides the channels
    mode = op.a("mode", "DCR")
    note = "" if mode == "CRD" else \
        f"DepthToSpace in {mode} order (TensorFlow's; torch's pixel_shuffle is CRD): counted as pixel_shuffle " \
        "(same shape, no operations)"
    return "pixel_shuffle", {"factor": r}, note


def space_to_depth(op: Any) -> Mapped:
    return "pixel_unshuffle", {"factor": _block(op, lambda r: tuple(op.x[2:]))}, \
        "SpaceToDepth orders the channels as TensorFlow does, not as torch's pixel_unshuffle: counted as " \
        "pixel_unshuffle (same shape, no operations)"


def transpose(op: Any) -> Mapped:
    rank = len(op.x)
    perm = list(op.a("perm") or range(rank - 1, -1, -1))
    if sorted(perm) != list(range(rank)):
        raise Unmapped(f"Transpose with perm {perm}, not an order of the {rank} axes")
    if perm[0] != 0:
        raise Unmapped(f"a transpose that moves the batch axis (perm {perm})")
    if perm == sorted(perm):
        return "identity", {}, "a Transpose that keeps the order of the axes"
    return "permute", {"dims": perm[1:]}


def split(op: Any) -> tuple[int, list[int]]:
    """(axis, sizes) of a Split."""
    x = op.x
    rank = len(x)
    axis = op.a("axis", 0)
    if not -rank <= axis < rank:
        raise Unmapped(f"a Split along axis {axis}, which a tensor of {rank} dimensions does not have")
    axis %= rank
    sizes = op.a("split")
    if sizes is None and op.has(1):
        v = value(op.g, op.node.input[1])
        if v is None:
            raise Unmapped("a Split whose sizes are computed from the data")
        sizes = [int(s) for s in v.reshape(-1)]
    n = x[axis]
    if sizes is None:
        pieces = op.a("num_outputs") or len(op.node.output)
        size = -(-n // pieces)
        sizes = [min(size, n - i * size) for i in range(pieces)]
    sizes = [int(s) for s in sizes]
    if sum(sizes) != n or any(s < 0 for s in sizes) or len(sizes) != len(op.node.output):
        raise Unmapped(f"a Split of {n} into {sizes}")
    return axis, sizes


def chunk_of(axis: int, sizes: list[int], index: int, n: int) -> Mapped:
    """Piece `index` of a split of the channels into `sizes`, as a chunk."""
    if axis != 1:
        raise Unmapped(f"a split along axis {axis} (cnncalc's chunk cuts the channels, axis 1)")
    size = sizes[0]
    if size < 1 or any(s != size for s in sizes[:-1]) or not 0 < sizes[-1] <= size:
        raise Unmapped(f"a split of the channels into {sizes} (torch.chunk's pieces are equal, the last one smaller)")
    return "chunk", {"chunks": -(-n // size), "index": index}


def slices(op_of: Callable[[int], Any], parts: list[int]) -> Mapped:
    """The layer of consecutive Slice nodes: a crop of the spatial axes, or a piece of the channels."""
    begin: dict[int, int] = {}
    end: dict[int, int] = {}
    first = op_of(parts[0]).x
    rank = len(first)
    for j in parts:
        op = op_of(j)
        x = op.x
        starts, ends, axes, steps = _slice_args(op, len(x))
        if len({a % rank if -rank <= a < rank else a for a in axes}) != len(axes):
            raise Unmapped(f"a Slice along the axes {axes}, one of them twice")
        for s, e, a, step in zip(starts, ends, axes, steps, strict=True):
            if not -rank <= a < rank:
                raise Unmapped(f"a Slice along axis {a}, which a tensor of {rank} dimensions does not have")
            a %= rank
            n = x[a]
            if step != 1:
                raise Unmapped(f"a Slice with step {step} (only contiguous slices are crops and chunks)")
            s = min(max(s + n if s < 0 else s, 0), n)
            e = min(max(e + n if e < 0 else e, 0), n)
            if e <= s:
                raise Unmapped("an empty Slice")
            begin[a] = begin.get(a, 0) + s
            end[a] = end.get(a, 0) + n - e
    moved = sorted(a for a in begin if begin[a] or end[a])
    if not moved:
        return "identity", {}, "a Slice that keeps the whole tensor"
    if 0 in moved:
        raise Unmapped("a Slice of the batch axis")
    if moved == [1]:
        if len(parts) > 1:
            raise Unmapped("consecutive Slices of the channels")
        return chunk_piece(first[1], begin[1], first[1] - end[1])
    if 1 in moved:
        raise Unmapped("a Slice of the channels and the spatial axes at once")
    nd = rank - 2
    if not 1 <= nd <= 3:
        raise Unmapped(f"a crop of {nd} spatial dims")
    pairs = [[begin.get(a, 0), end.get(a, 0)] for a in range(2, rank)]
    return f"crop{nd}d", {"cropping": pairs[0] if nd == 1 else pairs}


def _slice_args(op: Any, rank: int) -> tuple[list[int], list[int], list[int], list[int]]:
    if op.g.opset < 10:
        starts, ends = list(op.a("starts", [])), list(op.a("ends", []))
        axes = list(op.a("axes", range(len(starts))))
        return starts, ends, axes, [1] * len(starts)
    got: list[list[int] | None] = []
    for k in (1, 2, 3, 4):
        v = value(op.g, op.node.input[k]) if op.has(k) else None
        if v is None and k in (1, 2):
            raise Unmapped("a Slice whose starts or ends are computed from the data")
        got.append(None if v is None else [int(i) for i in v.reshape(-1)])
    starts, ends = got[0] or [], got[1] or []
    axes = got[2] if got[2] is not None else list(range(len(starts)))
    steps = got[3] if got[3] is not None else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise Unmapped("a Slice whose starts, ends, axes and steps differ in number")
    return starts, ends, axes, steps


def slice_op(op: Any) -> Mapped:
    return slices(lambda j: op, [op.index])


def crop_pad(x: tuple[int, ...], pads: list[int]) -> Mapped:
    """A Pad by negative amounts (torch's F.pad crops so) as a crop."""
    rank = len(x)
    if len(pads) != 2 * rank:
        raise Unmapped(f"Pad {pads} for a tensor of {rank} dimensions")
    begin, end = pads[:rank], pads[rank:]
    if begin[0] or end[0] or begin[1] or end[1]:
        raise Unmapped(f"Pad {pads} of the batch or the channels")
    if any(p > 0 for p in pads):
        raise Unmapped(f"Pad {pads}, which crops some sides and pads others (the target size is fixed in the file; "
                       "no single cnncalc layer does both to a fixed size)")
    nd = rank - 2
    if not 1 <= nd <= 3:
        raise Unmapped(f"a crop of {nd} spatial dims")
    pairs = [[-b, -e] for b, e in zip(begin[2:], end[2:], strict=True)]
    return f"crop{nd}d", {"cropping": pairs[0] if nd == 1 else pairs}, "a Pad by negative amounts: a crop"


# ---- statistics ----------------------------------------------------------------------------------

def _learned(op: Any, k: int) -> bool:
    return op.has(k) and bool(stored(op.g, op.node.input[k]))


def layer_norm(op: Any) -> Mapped:
    x = op.x
    rank = len(x)
    axis = op.a("axis", -1)
    if not -rank <= axis < rank or axis % rank == 0:
        raise Unmapped(f"a layer normalisation from axis {axis} (the batch axis is not normalised)")
    return "layer_norm", {"normalized_shape": list(x[axis % rank:]), "eps": op.a("epsilon", 1e-5),
                          **affine(_learned(op, 1), _learned(op, 2))}


def instance_norm(op: Any) -> Mapped:
    x = op.x
    if len(x) < 3 or math.prod(x[2:]) < 2:
        raise Unmapped(f"instance normalisation of a {'x'.join(map(str, x[1:]))} tensor (its statistics need "
                       "more than one value per channel)")
    scale, center = _learned(op, 1), _learned(op, 2)
    if scale != center:
        raise Unmapped("instance normalisation with only one of scale and bias stored")
    params: dict[str, Any] = {"eps": op.a("epsilon", 1e-5)}
    if scale:
        params["affine"] = True
    return "instance_norm", params


def group_norm(op: Any) -> Mapped:
    x = op.x
    groups = op.a("num_groups")
    if not isinstance(groups, int) or groups < 1 or len(x) < 2 or x[1] % groups or math.prod(x[1:]) < 2 * groups:
        raise Unmapped(f"GroupNormalization into {groups} groups of {x[1] if len(x) > 1 else 0} channels")
    scale = op.g.shape(op.node.input[1]) if op.has(1) else None
    if scale is not None and tuple(scale) != (x[1],):
        raise Unmapped(f"GroupNormalization with a scale of shape {list(scale)} (opset 18's per group; cnncalc "
                       "counts torch's, one per channel)")
    return "group_norm", {"groups": op.a("num_groups"), "eps": op.a("epsilon", 1e-5),
                          **affine(_learned(op, 1), _learned(op, 2))}


# ---- constants: rescaling and normalization ------------------------------------------------------

def per_channel(v: Any, x: tuple[int, ...]) -> list[float] | None:
    """A constant's values as one number or one per channel of `x` (broadcast as numpy does), else None."""
    if v.size == 1:
        return [_number(float(v.reshape(-1)[0]))]
    shape = list(v.shape)
    if len(shape) > len(x):
        return None
    shape = [1] * (len(x) - len(shape)) + shape
    if any(d != 1 for k, d in enumerate(shape) if k != 1) or shape[1] != x[1]:
        return None
    return [_number(float(e)) for e in v.reshape(-1)]


def multiply(op: Any) -> Mapped:
    """Mul of two computed tensors (multiply), of one by a stored scale per channel (layer_scale), or of
    one by constants (rescaling)."""
    if len(op.data) == len(op.node.input) >= 2:
        return "multiply", {}
    c = next(t for t in op.node.input if t not in op.data)
    x = op.g.shape(op.data[0]) if op.data else None
    if x is not None and all(d >= 0 for d in x) and stored(op.g, c):
        m = layer_scale(op.g.shape(c), x)
        if m is not None:
            return m
    return rescaling(op.g, op.x, c, "")


def layer_scale(scale: tuple[int, ...] | None, x: tuple[int, ...]) -> Mapped | None:
    """x · γ with a stored γ of one value per position of one axis of x (other than the batch), broadcast:
    torchvision's CNBlock.layer_scale (C x 1 x 1), cnncalc's LayerScale (γ reshaped to broadcast)."""
    if scale is None or len(scale) > len(x):
        return None
    shape = (1,) * (len(x) - len(scale)) + tuple(scale)
    kept = [a for a, d in enumerate(shape) if d != 1]
    if len(kept) != 1 or kept[0] == 0 or shape[kept[0]] != x[kept[0]]:
        return None
    axis = kept[0]
    return "layer_scale", {} if axis == 1 else {"axis": -1 if axis == len(x) - 1 else axis}


def rescaling(g: Any, x: tuple[int, ...], scale: str, offset: str) -> Mapped:
    params: dict[str, Any] = {}
    for key, t in (("scale", scale), ("offset", offset)):
        if not t:
            continue
        if stored(g, t):
            raise Unmapped(f"arithmetic with a stored tensor {t!r} (a learned scale or shift, which no cnncalc layer "
                           "type computes; Keras's Rescaling has constants)")
        v = value(g, t)
        values = per_channel(v, x) if v is not None else None
        if values is None:
            raise Unmapped("arithmetic with a constant that is neither one number nor one per channel")
        params[key] = values[0] if len(values) == 1 else values
    return "rescaling", params


def _statistic(g: Any, t: str, x: tuple[int, ...]) -> tuple[str, list[float] | None, tuple[int, ...] | None]:
    """('stored', None, shape) for a tensor computed from stored weights; ('const', values, shape) for a
    constant; ('', None, None) else."""
    producer = g.folder.producer if g.folder is not None else {}
    src = t
    for _ in range(8):  # std = variance.sqrt().clamp(min=ε): through Clip, Sqrt, Cast
        if stored(g, src):
            return "stored", None, g.shape(t)
        p = producer.get(src)
        if p is None or p.op_type not in ("Clip", "Sqrt", "Cast", "Max") or not p.input:
            break
        src = p.input[0]
    v = value(g, t)
    if v is None:
        return "", None, None
    return "const", per_channel(v, x), tuple(v.shape)


def normalization(g: Any, x: tuple[int, ...], mean: str, std: str, invert: bool) -> Mapped | None:
    """(x − mean) / std, or mean + x · std with `invert`, as Keras's Normalization; None if it is not one."""
    mk, mv, ms = _statistic(g, mean, x)
    sk, sv, ss = _statistic(g, std, x)
    if not mk or mk != sk or mk == "const" and (invert or mv is None or sv is None):
        return None  # mixed, unknown, or x · s + m by constants: a rescaling
    shape = max((s for s in (ms, ss) if s is not None), key=len, default=())
    if len(shape) > len(x):
        return None
    shape = (1,) * (len(x) - len(shape)) + tuple(shape)
    kept = [k for k, d in enumerate(shape) if d != 1]
    if 0 in kept or any(shape[k] != x[k] for k in kept):
        return None
    params: dict[str, Any] = {"axis": kept}
    note = "Keras's Normalization: its mean and variance are in the file, the count Keras also keeps is not"
    if mk == "const":
        assert mv is not None and sv is not None
        variance = [_number(float(s) ** 2) for s in sv]
        params.update(mean=mv[0] if len(mv) == 1 else mv, variance=variance[0] if len(variance) == 1 else variance)
        note = ""
    if invert:
        params["invert"] = True
    return "normalization", params, note


# ---- chains of nodes -----------------------------------------------------------------------------

def fuse(g: Any, nodes: Any, k: int, producer: dict[str, int], consumers: dict[str, list[int]],
         single: Callable[[str], bool], is_data: list[list[str]], busy: Callable[[int], bool],
         op_of: Callable[[int], Any]) -> tuple[list[int], Mapped, list[str] | None] | None:
    """(the nodes before node k that are one layer with it, the layer, its data inputs where they are not
    read through the first node) for a chain that ends at node k; None if none does."""
    n = nodes[k]
    op = n.op_type
    data = is_data[k]

    def prev(t: str, *types: str) -> int | None:
        """The node producing `t`, if of one of `types`, read only here and not yet part of a layer."""
        j = producer.get(t)
        if j is None or nodes[j].op_type not in types or not single(t) or busy(j) or not is_data[j]:
            return None
        return j

    def shape(t: str) -> tuple[int, ...] | None:
        s = g.shape(t)
        return None if s is None or any(d < 0 for d in s) else tuple(s)

    try:
        if op == "Reshape" and len(data) == 1:
            tr = prev(data[0], "Transpose")
            r1 = prev(nodes[tr].input[0], "Reshape") if tr is not None else None
            if tr is None or r1 is None:
                return None
            perm = [int(p) for p in op_of(tr).a("perm") or []]
            m = shuffle_layer(shape(nodes[r1].input[0]), shape(nodes[r1].output[0]), shape(n.output[0]), perm)
            return ([r1, tr], m, None) if m is not None else None
        if op == "Transpose" and len(data) == 1:
            ln = prev(data[0], "LayerNormalization")
            t0 = prev(nodes[ln].input[0], "Transpose") if ln is not None else None
            if ln is None or t0 is None:
                return None
            p1 = [int(p) for p in op_of(t0).a("perm") or []]
            p2 = [int(p) for p in op_of(k).a("perm") or []]
            rank = len(p1)
            if not p1 or sorted(p1) != list(range(rank)) or len(p2) != rank or [p1[p] for p in p2] != list(range(rank)):
                return None
            ln_op = op_of(ln)
            axis = ln_op.a("axis", -1)
            if not -rank <= axis < rank:
                return None
            axes = sorted(p1[a] for a in range(axis % rank, rank))
            if 0 in axes:
                return None
            params = layer_norm(ln_op)[1]
            del params["normalized_shape"]
            return [t0, ln], ("layer_norm", {"axis": axes, **params}), None
        if op == "Mul" and len(data) == 1 and len(n.input) == 2:  # torch's GELU before opset 20
            return _gelu_erf(g, nodes, k, data[0], is_data, prev)
        if op == "Add" and len(data) == 1 and len(n.input) == 2:
            mul = prev(data[0], "Mul")
            if mul is None or len(is_data[mul]) != 1:
                return None
            bias = next(t for t in n.input if t != data[0])
            weight = next(t for t in nodes[mul].input if t != is_data[mul][0])
            r2 = prev(is_data[mul][0], "Reshape")
            inorm = prev(nodes[r2].input[0], "InstanceNormalization") if r2 is not None else None
            r1 = prev(nodes[inorm].input[0], "Reshape") if inorm is not None else None
            if r2 is not None and inorm is not None and r1 is not None:  # torch's group_norm
                x, grouped = shape(nodes[r1].input[0]), shape(nodes[r1].output[0])
                if x is None or grouped is None or len(grouped) < 3 or shape(nodes[r2].output[0]) != x \
                        or grouped[0] != x[0] or x[1] % grouped[1]:
                    return None
                scale, center = bool(stored(g, weight)), bool(stored(g, bias))
                if scale != center:
                    return None
                eps = op_of(inorm).a("epsilon", 1e-5)
                return [r1, inorm, r2, mul], ("group_norm", {"groups": grouped[1], "eps": eps,
                                                             **affine(scale, center)}), None
            x = shape(is_data[mul][0])
            if x is None:
                return None
            m = normalization(g, x, bias, weight, invert=True) or rescaling(g, x, weight, bias)
            return [mul], m, None
        if op == "Div" and len(data) == 1 and len(n.input) == 2 and n.input[0] == data[0]:
            return _divided(g, nodes, data[0], n.input[1], is_data, prev, shape)
        if op in ("Max", "Min") and len(data) == len(n.input) >= 2:  # max(max(a, b), c) = max(a, b, c)
            pairs: list[int] = []
            leaves = list(n.input[1:])
            t = n.input[0]
            while (j := prev(t, op)) is not None and len(is_data[j]) == len(nodes[j].input):
                pairs.insert(0, j)
                leaves[:0] = nodes[j].input[1:]
                t = nodes[j].input[0]
            if not pairs:
                return None
            return pairs, ("maximum" if op == "Max" else "minimum", {}), [t, *leaves]
        if op == "Slice" and data:
            after = consumers.get(n.output[0], [])
            if len(after) == 1 and nodes[after[0]].op_type == "Slice" and single(n.output[0]):
                return None  # the chain goes on: fused at its last Slice
            chain: list[int] = []
            t = data[0]
            while (j := prev(t, "Slice")) is not None:
                chain.insert(0, j)
                t = is_data[j][0]
            if not chain:
                return None
            return chain, slices(op_of, [*chain, k]), None
    except Unmapped:
        return None
    return None


def _near(g: Any, t: str, target: float) -> bool:
    v = value(g, t)
    return v is not None and v.size == 1 and abs(float(v.reshape(-1)[0]) - target) <= 1e-6 * max(1.0, abs(target))


def _gelu_erf(g: Any, nodes: Any, k: int, t: str, is_data: list[list[str]], prev: Callable[..., int | None]
              ) -> tuple[list[int], Mapped, list[str] | None] | None:
    """x · (1 + erf(x / √2)) · 0.5 and x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) · 0.5: GELU and its tanh
    approximation as torch's exporter writes them before opset 20 (no Gelu operator)."""
    if not _near(g, next(u for u in nodes[k].input if u != t), 0.5):
        return None
    mul = prev(t, "Mul")
    if mul is None or len(is_data[mul]) != 2:
        return None

    def other(j: int, u: str) -> str:
        return next((v for v in nodes[j].input if v != u), "")

    for x, e in (nodes[mul].input[:2], nodes[mul].input[1::-1]):
        add = prev(e, "Add")
        if add is None or len(is_data[add]) != 1 or not _near(g, other(add, is_data[add][0]), 1.0):
            continue
        inner = is_data[add][0]
        erf = prev(inner, "Erf")
        div = prev(nodes[erf].input[0], "Div") if erf is not None else None
        if erf is not None and div is not None and nodes[div].input[0] == x and is_data[div] == [x] \
                and _near(g, nodes[div].input[1], math.sqrt(2)):
            return [div, erf, add, mul], ("gelu", {}), [x]
        tanh = prev(inner, "Tanh")
        scaled = prev(nodes[tanh].input[0], "Mul") if tanh is not None else None
        if tanh is None or scaled is None or len(is_data[scaled]) != 1 \
                or not _near(g, other(scaled, is_data[scaled][0]), math.sqrt(2 / math.pi)):
            continue
        total = prev(is_data[scaled][0], "Add")
        if total is None or len(is_data[total]) != 2 or x not in nodes[total].input:
            continue
        cubic = prev(other(total, x), "Mul")
        if cubic is None or len(is_data[cubic]) != 1 or not _near(g, other(cubic, is_data[cubic][0]), 0.044715):
            continue
        cube = prev(is_data[cubic][0], "Mul")
        square = prev(other(cube, x), "Mul") if cube is not None and x in nodes[cube].input else None
        if cube is None or square is None or list(nodes[square].input) != [x, x]:
            continue
        return [square, cube, cubic, total, scaled, tanh, add, mul], ("gelu", {"approximate": "tanh"}), [x]
    return None


def _divided(g: Any, nodes: Any, t: str, divisor: str, is_data: list[list[str]],
             prev: Callable[..., int | None], shape: Callable[[str], tuple[int, ...] | None]
             ) -> tuple[list[int], Mapped, list[str] | None] | None:
    """x / d: (x − mean) / std is a normalization, (a + b + ...) / n an average."""
    sub = prev(t, "Sub")
    if sub is not None and len(is_data[sub]) == 1 and nodes[sub].input[0] == is_data[sub][0]:
        x = shape(is_data[sub][0])
        m = normalization(g, x, nodes[sub].input[1], divisor, invert=False) if x is not None else None
        return ([sub], m, None) if m is not None else None
    v = value(g, divisor)
    if v is None or v.size != 1:
        return None
    count = float(v.reshape(-1)[0])
    adds: list[int] = []
    leaves: list[str] = []
    while len(leaves) + 1 < count:
        j = prev(t, "Add", "Sum")
        if j is None or len(is_data[j]) != len(nodes[j].input) or len(nodes[j].input) < 2:
            return None
        adds.append(j)
        leaves[:0] = list(nodes[j].input[1:])
        t = nodes[j].input[0]
    leaves.insert(0, t)
    if not adds or len(leaves) != count:
        return None
    return sorted(adds), ("average", {}), leaves


def merge(kind: str) -> Callable[[Any], Mapped]:
    """An elementwise op of computed tensors (Sub: subtract, Max: maximum, ...)."""
    def mapped(op: Any) -> Mapped:
        if len(op.data) != len(op.node.input) or len(op.data) < 2:
            raise Unmapped(f"{op.type} with a constant (only x · scale + offset, Keras's Rescaling, and (x − mean) / "
                           "√variance, Keras's Normalization, are layers with constants)")
        if kind == "subtract" and len(op.data) != 2:
            raise Unmapped(f"{op.type} of {len(op.data)} tensors")
        return kind, {}
    return mapped


def divide(op: Any) -> Mapped:
    if len(op.data) < len(op.node.input):
        raise Unmapped("Div by a constant (only (x − mean) / √variance, Keras's Normalization, and (a + b) / 2, an "
                       "average, are layers)")
    raise Unmapped("a division of two computed tensors")
