"""The tensors layers read and write, without their batch dimension."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tensor:
    """A tensor without its batch dimension: `c` channels (or features) and spatial sizes.

    A flat vector of F features is Tensor(F, ()). The spec's layout only decides the order in
    which the dimensions are written."""

    c: int
    spatial: tuple[int, ...] = ()

    @property
    def numel(self) -> int:
        return self.c * math.prod(self.spatial)

    @property
    def flat(self) -> bool:
        return not self.spatial

    def dims(self, layout: str) -> tuple[int, ...]:
        if not self.spatial:
            return (self.c,)
        return (*self.spatial, self.c) if layout == "channels_last" else (self.c, *self.spatial)

    def text(self, layout: str) -> str:
        return "x".join(str(d) for d in self.dims(layout))

    @staticmethod
    def from_dims(dims: tuple[int, ...] | list[int], layout: str) -> Tensor:
        dims = tuple(dims)
        if len(dims) == 1:
            return Tensor(dims[0])
        if layout == "channels_last":
            return Tensor(dims[-1], dims[:-1])
        return Tensor(dims[0], dims[1:])
