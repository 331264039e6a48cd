"""Network diagrams: the layer graph folded into blocks, laid out in columns and lanes.

Elementwise layers (activations, batch norm, dropout, ...) are folded into the block that feeds
them, as the slides draw "CONV+RELU" as one box. Each block gets a column (its longest distance
from the input) and a lane (rows in that column); branches therefore sit in lanes of their own.
Renderers: `svg.render` (pure SVG, no Graphviz) and `mermaid.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult
    from ..layers import Tensor

FOLD = {"relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "hardsigmoid", "tanh", "silu", "hardswish",
        "identity", "batch_norm", "dropout", "softmax", "local_response_norm"}
SHORT = {"batch_norm": "bn", "local_response_norm": "lrn", "dropout": "drop"}


@dataclass
class Block:
    id: int
    name: str
    kind: str  # "input" or the layer type
    tensor: Tensor
    caption: str  # e.g. "conv 11x11 /4"
    folded: list[str] = field(default_factory=list)  # types folded in, in order
    inputs: list[int] = field(default_factory=list)
    column: int = 0
    lane: int = 0
    layer_names: list[str] = field(default_factory=list)
    layout: str = "channels_last"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tensor.dims(self.layout)


def _k(t: tuple[int, ...]) -> str:
    return "x".join(map(str, t)) if len(set(t)) > 1 else f"{t[0]}x{t[0]}" if len(t) == 2 else str(t[0])


def _caption(layer: LayerResult) -> str:
    p, t = layer.spec.params, layer.type
    if t in ("conv2d", "conv1d", "depthwise_conv2d", "separable_conv2d", "conv_transpose2d"):
        word = {"conv2d": "conv", "conv1d": "conv1d", "depthwise_conv2d": "dwconv", "separable_conv2d": "sepconv",
                "conv_transpose2d": "deconv"}[t]
        s = max(p["stride"])
        return f"{word} {_k(p['kernel'])}" + (f" /{s}" if s > 1 else "")
    if t in ("max_pool2d", "avg_pool2d"):
        s = max(p["stride"] or p["kernel"])
        return f"{t[:3]}pool {_k(p['kernel'])}" + (f" /{s}" if s > 1 else "")
    if t == "dense":
        return f"fc {p['units']}"
    return {"global_avg_pool2d": "global avg", "global_max_pool2d": "global max", "adaptive_avg_pool2d": "adapt avg",
            "zero_pad2d": "pad"}.get(t, t)


def caption(layer: LayerResult) -> str:
    """What a block's operation line says: `conv 11x11 /4`; `(shared)` for a layer called again."""
    return _caption(layer) + (" (shared)" if layer.shares else "")


def blocks(a: Analysis) -> list[Block]:
    """Fold the analysed layers into blocks and lay them out (column, lane)."""
    consumers: dict[str, int] = {}
    for layer in a.layers:
        for name in layer.inputs:
            consumers[name] = consumers.get(name, 0) + 1
    out: list[Block] = []
    where: dict[str, Block] = {}
    for name, tensor, _ in a.network.inputs:  # one block per network input
        where[name] = Block(len(out), name, "input", tensor, "input", layout=a.layout, layer_names=[name])
        out.append(where[name])
    for layer in a.layers:
        src: Block | None = where.get(layer.inputs[0]) if layer.inputs else None
        if (layer.type in FOLD and len(layer.inputs) == 1 and src is not None and src.kind != "input"
                and consumers.get(layer.inputs[0], 0) == 1 and src.layer_names[-1] == layer.inputs[0]):
            src.folded.append(SHORT.get(layer.type, layer.type))
            src.layer_names.append(layer.name)
            src.tensor = layer.tensor
            where[layer.name] = src
            continue
        b = Block(len(out), layer.name, layer.type, layer.tensor, caption(layer), layout=a.layout,
                  inputs=[where[s].id for s in layer.inputs if s in where], layer_names=[layer.name])
        out.append(b)
        where[layer.name] = b
    _layout(out)
    return out


def _layout(bs: list[Block]) -> None:
    for b in bs:
        if b.kind != "input":
            b.column = 1 + max((bs[i].column for i in b.inputs), default=0)
    used: dict[int, set[int]] = {}
    for b in bs:
        taken = used.setdefault(b.column, set())
        want = bs[b.inputs[0]].lane if b.inputs else 0
        lane = want if want not in taken else next(i for i in range(len(bs) + 1) if i not in taken)
        b.lane = lane
        taken.add(lane)
