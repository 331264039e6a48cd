"""Zero padding (Keras ZeroPadding1D/2D/3D, torch.nn.ZeroPad1d/2d/3d): each side grows by its padding."""

from __future__ import annotations

from .pad import Pad, keras_zero_pad


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
