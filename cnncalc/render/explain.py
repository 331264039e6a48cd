"""--explain: each layer's numbers derived with the values substituted, as on a blackboard.

The lines themselves come from the layer rules (`Out.explain`) plus the FLOPs sum of the
active convention; this module only lays them out. Derivation lines are indented by four
spaces, so the same text reads well on a terminal and is a code block when pasted into Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import shape_text

if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult

INDENT = "    "


def layer_lines(layer: LayerResult, convention: str | None = None) -> list[str]:
    """Every derivation line of one layer: its own rules, then how its FLOPs add up."""
    from .. import conventions

    lines = list(layer.explain)
    conv = conventions.get(convention)
    if (layer.flops or layer.macs) and layer.cost is not None:
        lines.append(conv.explain(layer.cost))
    return lines


def header(layer: LayerResult) -> str:
    ins = " + ".join(shape_text(s) for s in layer.input_shapes)
    return f"{layer.name} ({layer.type}): {ins} → {shape_text(layer.output_shape)}"


def to_text(a: Analysis) -> str:
    out = ["Derivations:"]
    for layer in a.layers:
        out += ["", header(layer)]
        out += [INDENT + line for line in layer_lines(layer, a.convention)] or [INDENT + "(no parameters, no operations)"]
    return "\n".join(out)


def to_markdown(a: Analysis) -> str:
    out = ["#### Derivations"]
    for layer in a.layers:
        out += ["", f"**{layer.name}** ({layer.type}): "
                f"{' + '.join(shape_text(s) for s in layer.input_shapes)} → {shape_text(layer.output_shape)}"]
        lines = layer_lines(layer, a.convention)
        if lines:
            out.append("")
            out += [f"- `{line}`" for line in lines]
    return "\n".join(out)


def add_to_dict(d: dict[str, Any], a: Analysis) -> dict[str, Any]:
    """Give each layer of `Analysis.to_dict()` output an `explain` list."""
    for ld, layer in zip(d["layers"], a.layers, strict=True):
        ld["explain"] = layer_lines(layer, a.convention)
    return d
