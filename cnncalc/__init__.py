"""cnncalc: exact shapes, parameters, MACs and FLOPs of convolutional networks.

    >>> import cnncalc
    >>> a = cnncalc.analyse("architectures/hw_conv_760.yaml")
    >>> a.layers[0].output_shape, a.totals["params"]
    ((32, 32, 10), 760)

Importing this package is cheap: nothing heavy (yaml, rich) is imported until used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Diagnostic, Loc, SpecError
from .version import __version__

__all__ = ["load", "loads", "analyse", "SpecError", "Diagnostic", "Loc", "__version__"]

if TYPE_CHECKING:
    from typing import Any

    from .analysis import Analysis
    from .spec import Network


def load(path: Any, overrides: dict[str, Any] | None = None) -> Network:
    """Parse a spec file, or import a model file (.onnx, .keras, .prototxt, ...), into a Network
    (raises SpecError)."""
    from .importers import load_model

    return load_model(path, overrides)


def loads(text: str, file: str = "<string>", overrides: dict[str, Any] | None = None) -> Network:
    """Parse spec text into a Network (raises SpecError)."""
    from .spec import loads as _loads

    return _loads(text, file, overrides)


def analyse(source: Any, overrides: dict[str, Any] | None = None, convention: str | None = None) -> Analysis:
    """Analyse a parsed Network, or a spec or model file (a path) loaded first; raises SpecError."""
    from .analysis import analyse as _analyse
    from .spec import Network

    net = source if isinstance(source, Network) else load(source, overrides)
    return _analyse(net, convention)
