"""Zero padding (Keras ZeroPadding1D/2D/3D, torch.nn.ZeroPad1d/2d/3d): each side grows by its padding."""

from __future__ import annotations

from .mapping import Call, Site, pos
from .pad import Pad


def keras_zero_pad(site: Site) -> Call:
    """Keras's ZeroPadding of the layer's sides: (begin, end) for 1-D, a pair per dim above."""
    pads = tuple(site.values["padding"])
    return Call(f"layers.ZeroPadding{len(pads)}D", [pos("padding", pads[0] if len(pads) == 1 else pads),
                                                    *site.data_format()])


class ZeroPad(Pad):
    mode = "zeros"

    @classmethod
    def keras(cls, site):
        return [("", keras_zero_pad(site))]


def _zero(nd: int, aliases: tuple[str, ...] = ()) -> type[Pad]:
    return type(f"ZeroPad{nd}d", (ZeroPad,), {
        "name": f"zero_pad{nd}d", "aliases": (*aliases, f"ZeroPad{nd}d", f"ZeroPadding{nd}D", f"zero_padding{nd}d"),
        "ndim": nd, "doc": f"zero padding (Keras ZeroPadding{nd}D, torch.nn.ZeroPad{nd}d)"})


LAYERS = [_zero(1), _zero(2, ("pad2d",)), _zero(3)]
