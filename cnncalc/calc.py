"""One-layer calculators: the numbers of a single conv, pool or dense layer without writing YAML.

Each calculator builds a one-layer spec and runs it through the same parser, layer registry and
analysis as `cnncalc show`, so shapes, counts, warnings and --explain lines come from one place.

    >>> from cnncalc import calc
    >>> layer = calc.conv("32x32x3", filters=10, kernel=5, padding=2)
    >>> layer.output_shape, layer.params
    ((32, 32, 10), 760)
    >>> calc.size(7, 3, 3).out
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import Analysis, LayerResult
    from .layers.geometry import Dim

SOURCE = "<calc>"  # the file name carried by diagnostics of generated specs


def _plain(value: Any) -> Any:
    """Tuples → lists, so the generated spec is plain JSON (which is also YAML)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def analyse_layer(layer_type: str, input: Sequence[int] | str, layout: str = "channels_last",
                  convention: str | None = None, name: str | None = None, **params: Any) -> Analysis:
    """Analyse a network made of one layer; raises SpecError like any spec would."""
    import json

    from .analysis import analyse
    from .spec import loads

    layer = {"type": layer_type, "name": name or layer_type}
    layer.update({k: _plain(v) for k, v in params.items()})
    text = json.dumps({"name": f"one {layer_type} layer", "input": _plain(input), "layout": layout,
                       "layers": [layer]})
    return analyse(loads(text, SOURCE), convention=convention)


def conv(input: Sequence[int] | str, filters: int, kernel: int | Sequence[int], stride: int | Sequence[int] = 1,
         padding: Any = 0, dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
         layout: str = "channels_last", convention: str | None = None) -> LayerResult:
    """A conv2d layer on `input` (e.g. "32x32x3" or (32, 32, 3), read in `layout` order)."""
    a = analyse_layer("conv2d", input, layout, convention, filters=filters, kernel=kernel, stride=stride,
                      padding=padding, dilation=dilation, groups=groups, bias=bias)
    return a.layers[0]


def pool(input: Sequence[int] | str, kernel: int | Sequence[int], stride: int | Sequence[int] | None = None,
         padding: Any = 0, ceil_mode: bool = False, type: str = "max", layout: str = "channels_last",
         convention: str | None = None) -> LayerResult:
    """A max or avg pooling layer; the stride defaults to the kernel as in Keras and PyTorch."""
    params: dict[str, Any] = {"kernel": kernel, "padding": padding, "ceil_mode": ceil_mode}
    if stride is not None:
        params["stride"] = stride
    a = analyse_layer(f"{type}_pool2d", input, layout, convention, **params)
    return a.layers[0]


def dense(in_features: int, out_features: int, bias: bool = True, convention: str | None = None) -> LayerResult:
    """A fully connected layer from `in_features` to `out_features`."""
    return analyse_layer("dense", [in_features], convention=convention, units=out_features, bias=bias).layers[0]


def size(n: int, f: int, s: int = 1, p: int = 0, dilation: int = 1) -> Dim:
    """The slides' (N − F + 2P)/S + 1 along one dimension, floored as the frameworks do.

    `.out` is the size, `.ratio` the value before flooring, `.formula` the derivation; raises
    LayerError if the kernel does not fit.
    """
    from .layers.geometry import window_dim

    return window_dim("N", n, f, s, dilation, (p, p))
