"""--explain: each layer's numbers derived with the values substituted, as on a blackboard.

Everything here is written from the numbers a layer's rule returns: the sliding windows of its
output size, its derived sizes, and the arithmetic its parameter and operation `Count`s carry;
then how the active convention adds its FLOPs up. Derivation lines are indented by four spaces,
so the same text reads well in a terminal and is a code block when pasted into Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import conventions
from .conventions import OP_KINDS, TERM_WORDS

if TYPE_CHECKING:
    from .analysis import Analysis, LayerResult

INDENT = "    "


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(map(str, shape))


def flops_line(conv: conventions.Convention, cost: conventions.LayerCost) -> str:
    """The FLOPs sum written out from the convention's own rule."""
    macs, flops = conv.count(cost)
    rule = conv.rule("flops", cost.layer)
    if rule is None:
        return f"FLOPs = 2·{macs:,} MACs = {flops:,} (convention {conv.name})"
    if isinstance(rule, conventions.Uncounted):
        return f"FLOPs = 0 ({conv.name} does not count {cost.type}: {rule.why})"
    if callable(rule):
        return f"FLOPs = {flops:,} ({conv.name}'s special rule for {cost.type}; see docs/flops.md)"
    terms = []
    for term, weight in rule.items():
        value = cost.term(term)
        if value:
            word = TERM_WORDS.get(term, term)
            terms.append(f"{weight}·{value:,} {word}" if weight != 1 else f"{value:,} {word}")
    return f"FLOPs = {' + '.join(terms) or '0'} = {flops:,}"


def layer_lines(layer: LayerResult, convention: str | None = None) -> list[str]:
    """Every derivation line of one layer: output size, derived sizes, parameters, operations, FLOPs."""
    return derivation_lines(layer) + convention_lines(layer, convention)


def derivation_lines(layer: LayerResult) -> list[str]:
    """A layer's derivation, the same under every convention: sizes, parameters and operations."""
    r = layer.result()
    lines = [line for d in r.windows for line in d.explain]
    lines += [value.line(what) for what, value in r.sizes.items()]
    if layer.shares and (r.params or r.non_trainable):  # `share:`: the weights are counted where they are
        lines.append(f"params = 0 here: the weights are those of {layer.shares}, counted there")
    elif r.non_trainable:
        lines += [r.params.line("trainable"), r.non_trainable.line("non-trainable")]
    elif r.params:
        lines.append(r.params.line("params"))
    lines += [r.ops[kind].line(TERM_WORDS[kind]) for kind in OP_KINDS if r.ops.get(kind)]
    for stage in r.then:  # a fused activation: its own operations, after the layer's
        lines += [f"{stage.layer.name}: " + stage.ops[kind].line(TERM_WORDS[kind]) for kind in OP_KINDS
                  if stage.ops.get(kind)]
    return lines


def convention_lines(layer: LayerResult, convention: str | None = None) -> list[str]:
    """How `convention` adds the layer's FLOPs up (nothing when it counts none); a fused activation
    is counted as its own layer type, then the whole."""
    conv = conventions.get(convention)
    if layer.stages:
        costs = [(layer.type, layer.cost), *((cost.type, cost) for cost in layer.stage_costs)]
        total = sum(conv.count(cost)[1] for _, cost in costs)
        return [f"{name}: {flops_line(conv, cost)}" for name, cost in costs if any(conv.count(cost))] + [
            f"FLOPs = {total:,} in all"]
    if any(conv.count(layer.cost)):
        return [flops_line(conv, layer.cost)]
    return []


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
