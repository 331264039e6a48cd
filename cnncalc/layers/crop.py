"""Cropping: Keras Cropping1D/2D/3D (each side of each spatial dim cut by a given amount) and a
crop-or-pad of one tensor to the spatial size of another (the U-Net skip connection), centred as
TensorFlow's resize_with_crop_or_pad: the extra row or column of an odd difference at the end.

No weights and no arithmetic.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError, Unsupported
from .base import Layer, ReceptiveStep, Result, Tensor, not_counted
from .mapping import Call, pos
from .params import Param

TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")  # slicing and padding are not counted

CROP_TORCH = '''class Crop(nn.Module):
    """Cuts (begin, end) elements off each spatial dim, the first dim first (Keras CroppingND)."""

    def __init__(self, *sides: int):
        super().__init__()
        self.sides = sides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None), slice(None)]
        for d, n in enumerate(x.shape[2:]):
            index.append(slice(self.sides[2 * d], n - self.sides[2 * d + 1]))
        return x[tuple(index)]
'''

CROP_OR_PAD_TORCH = '''class CropOrPad(nn.Module):
    """x cropped or zero-padded to the spatial size of `like`, centred (the odd one at the end)."""

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        pads = []  # F.pad's order: the last dim first; negative amounts crop
        for n, m in zip(reversed(x.shape[2:]), reversed(like.shape[2:]), strict=True):
            begin = (m - n) // 2 if m >= n else -((n - m) // 2)
            pads += [begin, m - n - begin]
        return nn.functional.pad(x, pads)
'''

CROP_OR_PAD_KERAS = '''class CropOrPad(keras.layers.Layer):
    """The first input cropped or zero-padded to the spatial size of the second, centred (an odd
    extra row at the end), as TensorFlow's resize_with_crop_or_pad."""

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        x, like = inputs
        first = 2 if self.data_format == "channels_first" else 1
        index, pads = [slice(None)] * len(x.shape), [(0, 0)] * len(x.shape)
        for axis in range(first, first + len(x.shape) - 2):
            n, m = x.shape[axis], like.shape[axis]
            if n > m:
                index[axis] = slice((n - m) // 2, (n - m) // 2 + m)
            else:
                pads[axis] = ((m - n) // 2, m - n - (m - n) // 2)
        return ops.pad(x[tuple(index)], pads)

    def compute_output_shape(self, input_shapes):
        x, like = input_shapes
        first = 2 if self.data_format == "channels_first" else 1
        out = list(x)
        out[first:first + len(x) - 2] = like[first:first + len(x) - 2]
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
'''


class Crop2d(Layer):
    group = "dense and reshaping"
    name = "crop2d"
    aliases: ClassVar[tuple[str, ...]] = ("crop", "cropping2d")
    prefix = "crop"
    family = "crop"
    doc = "cut rows and columns off the borders (Keras Cropping2D)"
    ndim = 2
    params = {"cropping": Param("padding", aliases=("crop",),
                                doc="int, [ch, cw], [top, bottom, left, right] or [[top, bottom], [left, right]]")}
    torch_helpers = {"Crop": CROP_TORCH}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        if len(x.spatial) != cls.ndim:
            raise LayerError(f"{cls.name} needs an input with {cls.ndim} spatial dim{'s' if cls.ndim > 1 else ''}, "
                             f"got {x.text(layout)}", "shape-mismatch")
        if values["cropping"] == "same":
            raise LayerError(f"{cls.name} takes explicit amounts, not 'same'", "invalid-value", key="cropping")
        sides = values["cropping"]
        spatial = tuple(n - b - e for n, (b, e) in zip(x.spatial, sides, strict=True))
        if any(s < 1 for s in spatial):
            raise LayerError(f"cropping {[list(s) for s in sides]} leaves nothing of {x.text(layout)}",
                             "shape-mismatch", key="cropping")
        return Result(Tensor(x.c, spatial), rf=ReceptiveStep((1,) * cls.ndim, (1,) * cls.ndim,
                                                             tuple(-b for b, _ in sides)))

    @classmethod
    def torch(cls, site):
        return Call("Crop", [pos(f"s{i}", v) for i, v in enumerate(v for pair in site.values["cropping"] for v in pair)])

    @classmethod
    def keras(cls, site):
        sides = tuple(tuple(pair) for pair in site.values["cropping"])
        if cls.ndim == 1:
            if site.channels_first:
                raise Unsupported("1-D cropping of a channels_first tensor (Keras Cropping1D crops axis 1)")
            return [("", Call("layers.Cropping1D", [pos("cropping", sides[0])]))]
        return [("", Call(f"layers.Cropping{cls.ndim}D", [pos("cropping", sides), *site.data_format()]))]


class Crop1d(Crop2d):
    name = "crop1d"
    aliases = ("cropping1d",)
    doc = "cut steps off both ends of a sequence (Keras Cropping1D)"
    ndim = 1
    params = {"cropping": Param("padding", aliases=("crop",), doc="int or [begin, end]")}


class Crop3d(Crop2d):
    name = "crop3d"
    aliases = ("cropping3d",)
    doc = "cut slices off the borders of a volume (Keras Cropping3D)"
    ndim = 3
    params = {"cropping": Param("padding", aliases=("crop",),
                                doc="int, [cd, ch, cw], six sides or [[begin, end], [begin, end], [begin, end]]")}


class CropOrPad(Layer):
    group = "dense and reshaping"
    name = "crop_or_pad"
    aliases = ("crop_to", "resize_with_crop_or_pad")
    prefix = "crop"
    family = "crop"
    doc = ("the first input cropped or zero-padded, centred, to the spatial size of the second (U-Net's "
           "skip connection; TensorFlow resize_with_crop_or_pad)")
    min_inputs = max_inputs = 2
    rf_input = 0
    torch_helpers = {"CropOrPad": CROP_OR_PAD_TORCH}
    keras_helpers = {"CropOrPad": CROP_OR_PAD_KERAS}
    counting = not_counted(*TOOLS)

    @classmethod
    def rule(cls, values, inputs, layout):
        x, like = inputs
        if x.flat or len(x.spatial) != len(like.spatial):
            raise LayerError(f"{cls.name} needs two inputs with the same number of spatial dims, got "
                             f"{x.text(layout)} and {like.text(layout)}", "shape-mismatch", key="inputs")
        begins = tuple((m - n) // 2 if m >= n else -((n - m) // 2) for n, m in zip(x.spatial, like.spatial,
                                                                                     strict=True))
        nd = len(x.spatial)
        return Result(Tensor(x.c, like.spatial), rf=ReceptiveStep((1,) * nd, (1,) * nd, begins))

    @classmethod
    def torch(cls, site):
        return Call("CropOrPad")

    @classmethod
    def keras(cls, site):
        return [("", Call("CropOrPad", site.data_format()))]


LAYERS = [Crop2d, Crop1d, Crop3d, CropOrPad]
