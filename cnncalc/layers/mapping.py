"""How a layer type maps to framework code, as data: constructor calls with their arguments.

A layer's `torch` and `keras` mappings return `Call`s (`nn.Conv2d(3, 10, kernel_size=5)`), built
from the `Site` of one layer: its checked parameters, input and output tensors and the spec's
layout. `cnncalc.export` turns the calls into source, shares helper classes between identical
sub-networks and writes every value as a Python literal; nothing here writes code text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .geometry import same_padding
from .tensor import Tensor

NO_DEFAULT = object()


class Code:
    """A name in the generated module used as an argument value (e.g. DATA_FORMAT); never spec text."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


@dataclass
class Arg:
    name: str  # keyword, or a descriptive name for a positional argument
    value: Any  # a literal, a Code or a Call
    default: Any = NO_DEFAULT  # left out of the code when the value equals it
    positional: bool = False


@dataclass
class Call:
    func: str  # a framework class (`nn.Conv2d`, `layers.Conv2D`) or a helper the layer declares
    args: list[Arg] = field(default_factory=list)

    def shape(self) -> tuple:
        """The call's structure without its literal values (identical sub-networks share a class)."""
        return (self.func, tuple((a.name, a.value.shape() if isinstance(a.value, Call) else "#") for a in self.args))

    def slots(self, prefix: str = "") -> list[tuple[str, Arg]]:
        """Literal arguments, depth first, each with the path of Sequential indices leading to it."""
        out: list[tuple[str, Arg]] = []
        for a in self.args:
            if isinstance(a.value, Call):
                out += a.value.slots(prefix + (f"{a.name}_" if a.name.isdigit() else ""))
            elif not isinstance(a.value, Code):
                out.append((prefix, a))
        return out


def pos(name: str, value: Any) -> Arg:
    """A positional argument (`name` describes it)."""
    return Arg(name, value, positional=True)


def size(t: Any) -> Any:
    """A per-dim tuple as one int when all dims agree, as people write `kernel_size=3`."""
    t = tuple(t)
    return t[0] if len(set(t)) == 1 else t


def sequence(*calls: Call | None) -> Call:
    """One call, or an nn.Sequential of several (None entries are skipped)."""
    real = [c for c in calls if c is not None]
    return real[0] if len(real) == 1 else Call("nn.Sequential", [pos(str(i), c) for i, c in enumerate(real)])


def symmetric(pads: list[tuple[int, int]]) -> bool:
    return all(b == e for b, e in pads)


def torch_pad(pads: list[tuple[int, int]], value: float = 0.0) -> Call:
    """nn.ZeroPad2d / ConstantPad2d; they take (left, right, top, bottom): the last dim first."""
    flat = tuple(v for pair in reversed(pads) for v in pair)
    if value:
        return Call(f"nn.ConstantPad{len(pads)}d", [pos("padding", flat), pos("value", value)])
    return Call(f"nn.ZeroPad{len(pads)}d", [pos("padding", flat)])


@dataclass
class Site:
    """One layer as its export mapping sees it."""

    values: dict[str, Any]  # checked parameters
    inputs: list[Tensor]
    output: Tensor
    layout: str
    input_names: list[str] = field(default_factory=list)

    @property
    def x(self) -> Tensor:
        return self.inputs[0]

    @property
    def channels_first(self) -> bool:
        return self.layout == "channels_first"

    def data_format(self) -> list[Arg]:
        """Keras `data_format=DATA_FORMAT` for a channels_first spec (Keras defaults to channels_last)."""
        return [Arg("data_format", Code("DATA_FORMAT"))] if self.channels_first else []

    def padding(self, stride: tuple[int, ...] | None = None) -> list[tuple[int, int]]:
        """Per-dim (begin, end) padding, SAME resolved for this input (TensorFlow's split)."""
        values = self.values
        stride = stride or values.get("stride") or values["kernel"]
        dilation = values.get("dilation") or (1,) * len(self.x.spatial)
        if values["padding"] != "same":
            return [(b, e) for b, e in values["padding"]]
        out = []
        for n, k, s, d in zip(self.x.spatial, values["kernel"], stride, dilation, strict=True):
            _, b, e = same_padding(n, d * (k - 1) + 1, s)
            out.append((b, e))
        return out
