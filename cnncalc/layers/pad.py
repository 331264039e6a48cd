"""Padding layers (torch.nn.ConstantPad/ReflectionPad/ReplicationPad/CircularPad 1d/2d/3d; the zero
padding layers are in zero_pad.py) and the padding modes convolutions share with them.

Each side of each spatial dim grows by its padding; nothing is computed (a copy). What the new border
holds is the mode: a constant, the input mirrored without repeating the edge (reflect), the edge
repeated (replicate), or the opposite edge (circular). PyTorch's limits are cnncalc's: a reflected
border is shorter than the input, a circular one wraps around at most once.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError, Unsupported
from .base import NOT_COUNTED, Layer, ReceptiveStep, Result, Tensor, need_spatial
from .geometry import DIM_NAMES
from .mapping import Call, Site, pos, size
from .params import Param

MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_MODE = {"padding_mode": Param("choice", "zeros", choices=MODES,
                                      doc="what the padding holds (PyTorch padding_mode): zeros, reflect "
                                          "(mirrored), replicate (the edge) or circular (the opposite edge)")}
# the PyTorch module of each mode (and of a constant), 1-D to 3-D
TORCH_PAD = {"zeros": "ZeroPad", "constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
             "circular": "CircularPad"}
# tools that count no operation of a padding layer (measured: tests/test_convpool_conventions.py)
PAD_NOT_COUNTED = {tool: NOT_COUNTED for tool in ("fvcore", "thop", "torchinfo", "ptflops", "calflops")}


def check_mode(mode: str, pads: tuple[tuple[int, int], ...] | list[tuple[int, int]], sizes: tuple[int, ...],
               key: str = "padding") -> None:
    """PyTorch's limits on a padding of `mode`, per dim: LayerError(key) naming the dim."""
    for dim, (b, e), n in zip(DIM_NAMES[len(sizes)], pads, sizes, strict=True):
        p = max(b, e)
        if mode == "reflect" and p >= n:
            fix = f"use padding ≤ {n - 1} or another mode" if n > 1 else "use another mode"
            raise LayerError(f"reflect padding {p} along {dim} must be smaller than the input ({n}): the mirror "
                             f"image does not repeat the edge; {fix}", "invalid-value", key=key)
        if mode == "circular" and p > n:
            raise LayerError(f"circular padding {p} along {dim} wraps around the input ({n}) more than once "
                             f"(PyTorch refuses this); use padding ≤ {n}", "invalid-value", key=key)


def torch_pad(mode: str, pads: list[tuple[int, int]] | tuple[tuple[int, int], ...], value: float = 0.0) -> Call:
    """The PyTorch pad module; it takes the sides last dim first: (left, right, top, bottom, ...)."""
    flat = tuple(v for pair in reversed(pads) for v in pair)
    args = [pos("padding", size(flat))]
    if mode == "constant":
        args.append(pos("value", value))
    return Call(f"nn.{TORCH_PAD[mode]}{len(pads)}d", args)


class Pad(Layer):
    """A padding layer of one mode and rank; the subclasses below give both."""

    group = "dense and reshaping"
    prefix = "pad"
    family = "pad"
    mode: ClassVar[str] = "zeros"
    params: ClassVar[dict[str, Param]] = {
        "padding": Param("sides", doc="int, one per dim, or a [begin, end] pair per dim")}
    counting = PAD_NOT_COUNTED

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, cls.ndim, cls.name)
        pads = values["padding"]
        check_mode(cls.mode, pads, sizes)
        out = Tensor(x.c, tuple(n + b + e for n, (b, e) in zip(sizes, pads, strict=True)))
        return Result(out, rf=ReceptiveStep((1,) * cls.ndim, (1,) * cls.ndim, tuple(b for b, _ in pads)))

    @classmethod
    def torch(cls, site):
        return torch_pad(cls.mode, site.values["padding"], site.values.get("value", 0.0))

    @classmethod
    def keras(cls, site):
        raise Unsupported(f"{cls.name}: Keras has no such padding layer (only ZeroPadding1D/2D/3D)")


def _pad(mode: str, word: str, nd: int, doc: str) -> type[Pad]:
    torch_name = f"{TORCH_PAD[mode]}{nd}d"
    return type(torch_name, (Pad,), {"name": f"{word}_pad{nd}d", "aliases": (torch_name,), "ndim": nd, "mode": mode,
                                     "doc": f"{doc} (torch.nn.{torch_name}; Keras has none)"})


def keras_zero_pad(site: Site) -> Call:
    """Keras's ZeroPadding of the layer's sides: (begin, end) for 1-D, a pair per dim above."""
    pads = tuple(site.values["padding"])
    return Call(f"layers.ZeroPadding{len(pads)}D", [pos("padding", pads[0] if len(pads) == 1 else pads),
                                                    *site.data_format()])


class ConstantPad(Pad):
    """A constant border: Keras's ZeroPadding when the constant is 0."""

    mode = "constant"

    @classmethod
    def keras(cls, site):
        if site.values["value"] != 0:
            raise Unsupported(f"{cls.name} with value {site.values['value']}: Keras pads only with zeros "
                              f"(ZeroPadding{cls.ndim}D)")
        return [("", keras_zero_pad(site))]


def _constant(nd: int) -> type[Pad]:
    return type(f"ConstantPad{nd}d", (ConstantPad,), {
        "name": f"constant_pad{nd}d", "aliases": (f"ConstantPad{nd}d",), "ndim": nd,
        "doc": f"pads with a constant (torch.nn.ConstantPad{nd}d)",
        "params": {**Pad.params, "value": Param("float", doc="the constant the border holds")}})


LAYERS = [
    *(_constant(nd) for nd in (1, 2, 3)),
    *(_pad("reflect", "reflection", nd, "pads with the input mirrored at its edge, the edge not repeated")
      for nd in (1, 2, 3)),
    *(_pad("replicate", "replication", nd, "pads with copies of the edge value") for nd in (1, 2, 3)),
    *(_pad("circular", "circular", nd, "pads with the opposite edge of the input, as if it wrapped around")
      for nd in (1, 2, 3)),
]
