"""Pausing the cyclic garbage collector around parsing and analysis.

Both build many small objects that never form cycles; the collector's repeated passes over them
cost about a quarter of the time at 10,000 layers (benchmarks/run.py). Reference counting still
frees everything as usual; the collector resumes as soon as the call returns or raises.
"""

from __future__ import annotations

import gc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


def paused(fn: F) -> F:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():  # nested call, or the caller manages the collector
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    # what functools.wraps would copy, without importing functools at start-up
    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    wrapper.__module__, wrapper.__wrapped__ = fn.__module__, fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
