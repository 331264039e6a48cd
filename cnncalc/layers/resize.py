"""Upsampling and interpolation: torch.nn.Upsample / F.interpolate (an output `size` or a
`scale_factor`; nearest, linear, bilinear, bicubic, trilinear; `align_corners`) and Keras's
UpSampling1D/2D/3D (an integer factor per dimension).

No weights. Each output element is a weighted sum of its neighbours in the input: 2 per dimension
for the linear modes, 4 per dimension for bicubic, so a bilinear output costs 4 multiplies and
3 adds; nearest copies. Index and weight computations are not counted.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..errors import LayerError, Unsupported
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import count, times
from .mapping import Arg, Call, Site, pos, size
from .params import Param

# torch's modes and the number of spatial dims each needs (None: any of 1 to 3)
MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
# Keras's interpolations as torch's modes (Keras's torch backend resizes with these)
KERAS_MODES = {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"}


def _taps(mode: str, nd: int) -> int:
    """Input elements weighed into one output element."""
    if mode in ("nearest", "nearest-exact"):
        return 1
    return (4 if mode == "bicubic" else 2) ** nd


def upsampled(x: Tensor, spatial: tuple[int, ...], mode: str) -> Result:
    """The output of resizing `x` to `spatial` with `mode`, and its arithmetic."""
    out = Tensor(x.c, spatial)
    taps = _taps(mode, len(spatial))
    if taps == 1:
        return Result(out, rf=ReceptiveStep.unknown())
    outputs = count(out.numel, "outputs")
    return Result(out, ops={"mul": times(outputs, taps), "add": times(outputs, taps - 1)},
                  rf=ReceptiveStep.unknown())


def torch_args(layer: type[Layer], values: dict[str, Any], x: Tensor) -> tuple[Any, Any, str]:
    """(size, scale_factor, mode) of the nn.Upsample a layer exports to, as its module holds them."""
    if layer.name in ("upsample", "upsampling_bilinear2d"):
        mode = "bilinear" if layer.name == "upsampling_bilinear2d" else values["mode"]
        if values["size"] is not None:
            return _one(values["size"], len(x.spatial)), None, mode
        return None, _one(values["scale_factor"], len(x.spatial)), mode
    if layer.name == "resizing":
        return (values["height"], values["width"]), None, KERAS_MODES[values["interpolation"]]
    return None, size(float(f) for f in values["size"]), values.get("interpolation", "nearest")


def _one(v: tuple[Any, ...], nd: int) -> Any:
    """A per-dim value as torch keeps it: one number when given once, else a tuple."""
    return v[0] if len(v) == 1 else tuple(v)


def _thop(c: Any) -> int:
    """thop's count_upsample: out · (1 nearest, 5 linear, 11 bilinear, 259 bicubic); other modes 0."""
    mode = torch_args(c.layer, c.params, c.inputs[0])[2]
    return c.output.numel * {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 259}.get(mode, 0)


def _fvcore(c: Any) -> int:
    """fvcore: aten::upsample_nearest2d out, aten::upsample_bilinear2d 4·out; other modes and dims 0."""
    mode = torch_args(c.layer, c.params, c.inputs[0])[2]
    if len(c.inputs[0].spatial) != 2:
        return 0
    return c.output.numel * {"nearest": 1, "bilinear": 4}.get(mode, 0)


def _ptflops(c: Any) -> int:
    """out (its nn.Upsample hook; not for a subclass) + the patched F.interpolate: out for a size, else
    input elements · Π int(factor) (a tuple, cast to int64 factor by factor) or · scale^dims (one number)."""
    x = c.inputs[0]
    out_size, scale, _ = torch_args(c.layer, c.params, x)
    if out_size is not None:
        functional = c.output.numel
    elif isinstance(scale, tuple):
        functional = x.numel * math.prod(int(f) for f in scale)
    else:
        functional = int(x.numel * scale ** len(x.spatial))
    hooked = c.layer.name != "upsampling_bilinear2d"  # ptflops looks modules up by their exact class
    return (c.output.numel if hooked else 0) + functional


def _calflops(c: Any) -> int:
    """The patched F.interpolate: Π size (one number: the number itself; no channels), else the
    input elements (calflops's scale-factor product is computed but never used; a tuple of factors
    makes calflops 0.3.2 raise a TypeError, and is counted here as one factor is)."""
    x = c.inputs[0]
    out_size, _, _ = torch_args(c.layer, c.params, x)
    if out_size is None:
        return x.numel
    return math.prod(out_size) if isinstance(out_size, tuple) else out_size


COUNTING = {
    "fvcore": {"macs": _fvcore},
    "thop": {"macs": _thop},
    "torchinfo": {"macs": {}},  # no weights, so no mult-adds
    "ptflops": {"macs": _ptflops},
    "calflops": {"macs": {}, "flops": _calflops},
}


class Upsample(Layer):
    group = "dense and reshaping"
    name = "upsample"
    aliases: ClassVar[tuple[str, ...]] = ("interpolate", "upsampling_nearest2d", "f.interpolate")
    prefix = "up"
    family = "upsample"
    doc = ("resize by an output size or a scale factor (torch.nn.Upsample, F.interpolate); nearest, "
           "nearest-exact, linear, bilinear, bicubic or trilinear")
    params = {
        "size": Param("ints", None, doc="output size: one for every spatial dim, or one per dim"),
        "scale_factor": Param("numbers", None, aliases=("scale",),
                              doc="multiplier of the input size (the output is floored), one or one per dim"),
        "mode": Param("choice", "nearest", choices=tuple(MODES), doc="how output values are computed"),
        "align_corners": Param("bool", None, doc="linear modes only: corner pixels aligned (no shape effect)"),
        "recompute_scale_factor": Param("bool", None, doc="torch: interpolate with the scale the output size "
                                                          "implies (no shape effect)"),
    }
    counting = COUNTING

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        nd = len(x.spatial)
        mode = cls.mode(values)
        need = MODES[mode]
        if not 1 <= nd <= 3 or (need is not None and nd != need):
            what = f"{need} spatial dim{'s' if need != 1 else ''}" if need else "1 to 3 spatial dims"
            raise LayerError(f"{cls.name} mode {mode} needs an input with {what}, got {x.text(layout)}",
                             "shape-mismatch", key="mode")
        if values.get("align_corners") is not None and mode not in INTERPOLATING:
            raise LayerError(f"align_corners applies to the modes {', '.join(INTERPOLATING)} only, not {mode}; "
                             "leave it unset", "invalid-value", key="align_corners")
        given = [k for k in ("size", "scale_factor") if values[k] is not None]
        if len(given) != 1:
            raise LayerError(f"{cls.name} takes either size or scale_factor, "
                             f"{'not both' if given else 'got neither'}", "invalid-value",
                             key="scale_factor" if given else None)
        key = given[0]
        v = values[key]
        if len(v) not in (1, nd):
            raise LayerError(f"{key} has {len(v)} values for an input with {nd} spatial dims; give 1 or {nd}",
                             "invalid-value", key=key)
        v = v * nd if len(v) == 1 else v
        if key == "size":
            spatial = tuple(v)
        else:
            if any(f <= 0 for f in v):
                raise LayerError(f"scale_factor must be positive, got {list(values[key])}", "invalid-value", key=key)
            # torch floors float(size) · scale in double precision
            spatial = tuple(math.floor(float(n) * f) for n, f in zip(x.spatial, v, strict=True))
        if any(s < 1 for s in spatial):
            raise LayerError(f"{cls.name} output would be {spatial} for an input of {x.text(layout)}; every size "
                             "must be at least 1", "shape-mismatch", key=key)
        return upsampled(x, spatial, mode)

    @classmethod
    def mode(cls, values: dict[str, Any]) -> str:
        return values["mode"]

    @classmethod
    def torch(cls, site):
        out_size, scale, mode = torch_args(cls, site.values, site.x)
        args = [Arg("size", out_size, None), Arg("scale_factor", scale, None), Arg("mode", mode, "nearest")]
        for key in ("align_corners", "recompute_scale_factor"):
            if site.values.get(key) is not None:
                args.append(Arg(key, site.values[key]))
        return Call("nn.Upsample", args)

    @classmethod
    def keras(cls, site):
        return keras_resize(site, cls.mode(site.values), bool(site.values.get("align_corners")))


class UpsamplingBilinear2d(Upsample):
    name = "upsampling_bilinear2d"
    aliases = ()
    doc = "bilinear upsampling with aligned corners (torch.nn.UpsamplingBilinear2d)"
    params = {k: Upsample.params[k] for k in ("size", "scale_factor")}

    @classmethod
    def mode(cls, values: dict[str, Any]) -> str:
        return "bilinear"

    @classmethod
    def torch(cls, site):
        out_size, scale, _ = torch_args(cls, site.values, site.x)
        return Call("nn.UpsamplingBilinear2d", [Arg("size", out_size, None), Arg("scale_factor", scale, None)])

    @classmethod
    def keras(cls, site):
        return keras_resize(site, "bilinear", True)


class Resizing(Layer):
    group = "dense and reshaping"
    name = "resizing"
    prefix = "resizing"
    family = "upsample"
    doc = ("resize images to height x width (Keras Resizing; half-pixel centres, no antialiasing: torch's "
           "nearest-exact, bilinear, bicubic)")
    params = {
        "height": Param("count", doc="output height"),
        "width": Param("count", doc="output width"),
        "interpolation": Param("choice", "bilinear", choices=tuple(KERAS_MODES), doc="how output values are computed"),
    }
    counting = COUNTING

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        need_spatial(x, 2, cls.name)
        return upsampled(x, (values["height"], values["width"]), KERAS_MODES[values["interpolation"]])

    @classmethod
    def torch(cls, site):
        out_size, _, mode = torch_args(cls, site.values, site.x)
        return Call("nn.Upsample", [Arg("size", out_size), Arg("mode", mode)])

    @classmethod
    def keras(cls, site):
        values = site.values
        return [("", Call("layers.Resizing", [pos("height", values["height"]), pos("width", values["width"]),
                                              Arg("interpolation", values["interpolation"], "bilinear"),
                                              *site.data_format()]))]


def keras_resize(site: Site, mode: str, align_corners: bool) -> list[tuple[str, Call]]:
    """Keras layers computing torch's resize: UpSampling for integer factors, Resizing for the
    half-pixel modes at other sizes (Keras's "nearest" resize is torch's nearest-exact)."""
    x, out = site.x, site.output
    nd = len(x.spatial)
    if align_corners:
        raise Unsupported("align_corners=True (Keras resizes with half-pixel centres only)")
    factors = tuple(o // i for o, i in zip(out.spatial, x.spatial, strict=True))
    whole = all(o == i * f for o, i, f in zip(out.spatial, x.spatial, factors, strict=True))
    if whole and mode in ("nearest", "nearest-exact"):
        if nd == 1:
            if site.channels_first:
                raise Unsupported("1-D upsampling of a channels_first tensor (Keras UpSampling1D repeats axis 1)")
            return [("", Call("layers.UpSampling1D", [pos("size", factors[0])]))]
        return [("", Call(f"layers.UpSampling{nd}D", [pos("size", size(factors)), *site.data_format()]))]
    if nd == 2 and mode in ("bilinear", "bicubic") and whole:
        return [("", Call("layers.UpSampling2D", [pos("size", size(factors)), *site.data_format(),
                                                  Arg("interpolation", mode)]))]
    if nd == 2 and mode in ("bilinear", "bicubic", "nearest-exact"):
        keras_mode = "nearest" if mode == "nearest-exact" else mode
        return [("", Call("layers.Resizing", [pos("height", out.spatial[0]), pos("width", out.spatial[1]),
                                              Arg("interpolation", keras_mode), *site.data_format()]))]
    if mode == "nearest":
        raise Unsupported("torch's 'nearest' at a non-integer ratio (Keras places pixels as 'nearest-exact')")
    raise Unsupported(f"mode {mode} on {nd} spatial dims (Keras resizes images in 2-D only)")


class UpSampling2d(Layer):
    group = "dense and reshaping"
    name = "upsampling2d"
    prefix = "up"
    family = "upsample"
    doc = "repeat or interpolate by an integer factor per dim (Keras UpSampling2D)"
    ndim = 2
    params = {
        "size": Param("size", 2, aliases=("factor",), doc="integer factor per spatial dim"),
        "interpolation": Param("choice", "nearest", choices=("nearest", "bilinear", "bicubic"),
                               doc="nearest repeats; bilinear and bicubic interpolate (half-pixel centres)"),
    }
    counting = COUNTING

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if len(x.spatial) != cls.ndim:
            raise LayerError(f"{cls.name} needs an input with {cls.ndim} spatial dim{'s' if cls.ndim > 1 else ''}, "
                             f"got {x.text(layout)}", "shape-mismatch")
        spatial = tuple(n * f for n, f in zip(x.spatial, values["size"], strict=True))
        return upsampled(x, spatial, values.get("interpolation", "nearest"))

    @classmethod
    def torch(cls, site):
        mode = site.values.get("interpolation", "nearest")
        return Call("nn.Upsample", [Arg("scale_factor", size(site.values["size"])), Arg("mode", mode, "nearest")])

    @classmethod
    def keras(cls, site):
        values = site.values
        if cls.ndim == 1:
            if site.channels_first:
                raise Unsupported("1-D upsampling of a channels_first tensor (Keras UpSampling1D repeats axis 1)")
            return [("", Call("layers.UpSampling1D", [pos("size", values["size"][0])]))]
        extra = [Arg("interpolation", values["interpolation"], "nearest")] if "interpolation" in values else []
        return [("", Call(f"layers.UpSampling{cls.ndim}D", [pos("size", size(values["size"])), *site.data_format(),
                                                             *extra]))]


class UpSampling1d(UpSampling2d):
    name = "upsampling1d"
    doc = "repeat every step an integer number of times (Keras UpSampling1D)"
    ndim = 1
    params = {"size": Param("size", 2, aliases=("factor",), doc="integer factor")}


class UpSampling3d(UpSampling2d):
    name = "upsampling3d"
    doc = "repeat every voxel an integer number of times per dim (Keras UpSampling3D)"
    ndim = 3
    params = {"size": Param("size", 2, aliases=("factor",), doc="integer factor per spatial dim")}


LAYERS = [Upsample, UpsamplingBilinear2d, Resizing, UpSampling1d, UpSampling2d, UpSampling3d]

