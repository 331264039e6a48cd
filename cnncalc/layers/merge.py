"""Elementwise merges of several branches: add (a ResNet shortcut), multiply (an SENet channel
scale), subtract, maximum, minimum and average. n inputs of E elements cost (n − 1)·E additions,
multiplications or comparisons (a subtraction counts as an addition); an average adds a divide
per element. No tool counts them: they are Python arithmetic on tensors, not modules."""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError
from .base import Layer, Result, Tensor, not_counted
from .count import Count, count, minus, times
from .mapping import Call, pos

MULTIPLY_TORCH = '''class Multiply(nn.Module):
    """Elementwise product; an (N, C) input scales an (N, C, H, W) one channel-wise (SENet)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            a, b = out, x
            a = a.reshape(*a.shape, *[1] * (b.dim() - a.dim()))
            b = b.reshape(*b.shape, *[1] * (a.dim() - b.dim()))
            out = a * b
        return out
'''


TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")


def _helper(name: str, doc: str, combine: str) -> str:
    """The PyTorch module of an elementwise merge: `combine` folds `out` and `x` into `out`."""
    return f'''class {name}(nn.Module):
    """{doc}"""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = {combine}
        return out
'''


def _pairwise(inputs: list[Tensor], out: Tensor) -> Count:
    return times(minus(count(len(inputs), "inputs"), 1), count(out.numel, "elements"))


def same_shape(name: str, inputs: list[Tensor], layout: str) -> Tensor:
    """The one shape of all `inputs` (else a LayerError naming the first that differs)."""
    first = inputs[0]
    for t in inputs[1:]:
        if t != first:
            what = "channels" if t.spatial == first.spatial else "shapes"
            raise LayerError(f"{name} needs inputs of one shape, got {first.text(layout)} and {t.text(layout)} "
                             f"({what} differ)" + ("; add a 1x1 conv (projection) on the shortcut"
                                                   if name == "add" else ""), "shape-mismatch", key="inputs")
    return first


class Merge(Layer):
    """An elementwise merge of two or more inputs: PyTorch's module is the file's helper named after the
    type (`Add`, `Maximum`, ...), Keras's layer has the same name. No tool counts it."""

    group = "merge"
    family = "merge"
    min_inputs = 2
    max_inputs: ClassVar[int | None] = None
    counting = not_counted(*TOOLS)

    @classmethod
    def torch(cls, site):
        return Call(cls.name.title())

    @classmethod
    def keras(cls, site):
        return [("", Call(f"layers.{cls.name.title()}"))]


class Add(Merge):
    name = "add"
    prefix = "add"
    doc = "elementwise sum of inputs of identical shape (ResNet shortcut)"
    torch_helpers = {"Add": _helper("Add", "Elementwise sum of the inputs (a residual connection).", "out + x")}

    @classmethod
    def rule(cls, values, inputs, layout):
        first = same_shape(cls.name, inputs, layout)
        return Result(first, ops={"add": _pairwise(inputs, first)})


class Multiply(Merge):
    name = "multiply"
    aliases = ("mul",)
    prefix = "mul"
    doc = "elementwise product; a [C] or 1x1xC input scales a HxWxC one channel-wise (SENet)"
    torch_helpers = {"Multiply": MULTIPLY_TORCH}

    @classmethod
    def rule(cls, values, inputs, layout):
        big = max(inputs, key=lambda t: t.numel)
        for t in inputs:
            if t != big and not (t.c == big.c and all(s == 1 for s in t.spatial)):
                raise LayerError(f"multiply needs equal shapes or a per-channel scale, got {big.text(layout)} and "
                                 f"{t.text(layout)}", "shape-mismatch", key="inputs")
        return Result(big, ops={"mul": _pairwise(inputs, big)})

    @classmethod
    def keras(cls, site):
        """A [C] scale is reshaped to 1x1xC (Cx1x1) first, to broadcast."""
        out: list[tuple[str, Call]] = []
        for k, t in enumerate(site.inputs):
            if t != site.output:
                ones = (1,) * len(site.output.spatial)
                target = (-1, *ones) if site.channels_first else (*ones, -1)
                out.append((f"in{k}:reshape{k}", Call("layers.Reshape", [pos("target_shape", target)])))
        return [*out, ("", Call("layers.Multiply"))]


class Subtract(Merge):
    name = "subtract"
    aliases = ("sub",)
    prefix = "sub"
    doc = "the second input subtracted from the first, of one shape (Keras Subtract)"
    min_inputs = max_inputs = 2
    torch_helpers = {"Subtract": _helper("Subtract", "The first input minus the second.", "out - x")}

    @classmethod
    def rule(cls, values, inputs, layout):
        first = same_shape(cls.name, inputs, layout)
        return Result(first, ops={"add": count(first.numel, "elements")})


class Maximum(Merge):
    name = "maximum"
    prefix = "max"
    doc = "elementwise maximum of inputs of one shape (Keras Maximum, torch.maximum)"
    torch_helpers = {"Maximum": _helper("Maximum", "Elementwise maximum of the inputs.", "torch.maximum(out, x)")}

    @classmethod
    def rule(cls, values, inputs, layout):
        first = same_shape(cls.name, inputs, layout)
        return Result(first, ops={"cmp": _pairwise(inputs, first)})


class Minimum(Maximum):
    name = "minimum"
    prefix = "min"
    doc = "elementwise minimum of inputs of one shape (Keras Minimum, torch.minimum)"
    torch_helpers = {"Minimum": _helper("Minimum", "Elementwise minimum of the inputs.", "torch.minimum(out, x)")}


AVERAGE_TORCH = '''class Average(nn.Module):
    """Elementwise mean of the inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)
'''


class Average(Merge):
    name = "average"
    prefix = "avg"
    doc = "elementwise mean of inputs of one shape (Keras Average)"
    torch_helpers = {"Average": AVERAGE_TORCH}

    @classmethod
    def rule(cls, values, inputs, layout):
        first = same_shape(cls.name, inputs, layout)
        return Result(first, ops={"add": _pairwise(inputs, first), "div": count(first.numel, "elements")})


LAYERS = [Add, Multiply, Subtract, Maximum, Minimum, Average]
