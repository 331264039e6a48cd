"""The layer registry: every layer type declared in this package, looked up by name or alias.

Each module of the package that declares layer types lists them in `LAYERS`; adding a type is
adding such a module (docs/adding-a-layer.md). The support modules below declare none.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Layer, ReceptiveStep, Result, Tensor
from .params import REQUIRED, Param

__all__ = ["lookup", "all_types", "aliases", "Layer", "Param", "Result", "Tensor", "ReceptiveStep", "REQUIRED"]

_SUPPORT = frozenset(("base", "count", "geometry", "mapping", "params", "tensor"))
_TYPES: dict[str, type[Layer]] = {}
_ALIASES: dict[str, str] = {}


# the module paths people write before a framework's class name: nn.Conv2d, keras.layers.Conv2D
_PREFIXES = ("torch.nn.", "nn.", "tf.keras.layers.", "keras.layers.", "layers.")


def _norm(name: str) -> str:
    """A type name as looked up: any case, the frameworks' module prefixes, `_` and `-` left out, so
    that `max_pool2d`, `MaxPool2d`, `nn.MaxPool2d` and `max-pool2d` are one name."""
    key = name.strip().lower()
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return key.replace("_", "").replace("-", "")


def _load() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _SUPPORT:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for cls in module.LAYERS:
            if cls.name in _TYPES or cls.name in _ALIASES:
                raise RuntimeError(f"layer type {cls.name!r} of {info.name} is declared twice")
            _TYPES[cls.name] = cls
            for alias in (cls.name, *cls.aliases):
                key = _norm(alias)
                if _ALIASES.setdefault(key, cls.name) != cls.name:
                    raise RuntimeError(f"{alias!r} names both {_ALIASES[key]} and {cls.name}")


def all_types() -> dict[str, type[Layer]]:
    """Every layer type by canonical name, in a stable order (by module, then declaration)."""
    if not _TYPES:
        _load()
    return dict(_TYPES)


def aliases() -> dict[str, str]:
    """Every name and alias, normalised (see `_norm`), and the canonical type name it stands for."""
    if not _TYPES:
        _load()
    return dict(_ALIASES)


def lookup(name: str) -> type[Layer] | None:
    """The layer type a spec's `type:` names (any case; `-` for `_`), or None."""
    if not _TYPES:
        _load()
    found = _ALIASES.get(_norm(name))
    return _TYPES[found] if found else None
