"""The layer registry: one small class per layer type, looked up by name or alias."""

from __future__ import annotations

from .base import REQUIRED, RF, LayerType, Out, Param, Tensor

__all__ = ["REGISTRY", "ALIASES", "lookup", "LayerType", "Out", "Param", "Tensor", "RF", "REQUIRED", "all_types"]

REGISTRY: dict[str, type[LayerType]] = {}
ALIASES: dict[str, str] = {}


def _load() -> None:
    from . import conv, core, merge, pool

    for module in (conv, pool, core, merge):
        for cls in module.LAYERS:
            REGISTRY[cls.name] = cls
            for alias in cls.aliases:
                ALIASES[alias] = cls.name


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


_FOUND: dict[str, type[LayerType] | None] = {}  # a spec's spelling → its type, looked up once


def lookup(name: str) -> type[LayerType] | None:
    found = _FOUND.get(name, REQUIRED)
    if found is not REQUIRED:
        return found  # type: ignore[return-value]
    if not REGISTRY:
        _load()
    key = _norm(name)
    found = REGISTRY.get(ALIASES.get(key, key))
    if len(_FOUND) < 10_000:
        _FOUND[name] = found
    return found


def all_types() -> dict[str, type[LayerType]]:
    if not REGISTRY:
        _load()
    return dict(REGISTRY)
