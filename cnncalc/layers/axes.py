"""Axes of a sample in the spec's layout and in torch's channels-first tensors, and the channel axis
as Keras and torch number it (layers whose parameters name axes use these)."""

from __future__ import annotations

from .tensor import Tensor


def channel_axes(x: Tensor, layout: str) -> set[int]:
    """The channel axis as Keras and torch write it: negative from the end, or counting the batch as 0."""
    n = len(x.spatial) + 1
    return {-1, n} if layout == "channels_last" or x.flat else {1, -n}


def to_spec(t: int, x: Tensor, layout: str) -> int:
    """A sample axis in channels-first order (0 = channels) as an index in the spec's layout."""
    if layout == "channels_first" or x.flat:
        return t
    return len(x.spatial) if t == 0 else t - 1


def to_torch(a: int, x: Tensor, layout: str) -> int:
    """A sample axis index of the spec's layout as torch's axis of the batched tensor (N = 0)."""
    if layout == "channels_first" or x.flat:
        return a + 1
    return 1 if a == len(x.spatial) else a + 2
