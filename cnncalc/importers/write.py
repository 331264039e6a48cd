"""An imported network as spec text (PyYAML, one flow mapping per layer), and the proof that the text
analyses to what the source declares, layer by layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fold import fold
from .model import Imported, ImportFailure

if TYPE_CHECKING:
    from ..analysis import Analysis


def _flow(value: Any) -> str:
    import yaml

    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 30,
                              allow_unicode=False)).strip().removesuffix("...").strip()


def _comment(text: str) -> str:
    """One line of comment text: nothing in it can end the comment."""
    return "".join(c if c.isprintable() else " " for c in text)


def to_text(imp: Imported, folding: bool = True, command: str = "") -> str:
    """The spec a person would write: header comments, name, input, layout, blocks, layers."""
    from ..version import __version__

    outputs = written_outputs(imp)
    f = fold(imp.nodes, imp.classes, folding, set(outputs))
    out = [f"# {_comment(imp.name)}: imported by cnncalc {__version__} from {_comment(imp.source)} ({imp.kind})"]
    if command:
        out.append(f"# (regenerate: {_comment(command)})")
    out += [f"# {_comment(n)}" for n in imp.notes]
    out += [f"# WARNING: {_comment(w)}" for w in imp.warnings]
    out.append(f"name: {_flow(imp.name)}")
    if len(imp.inputs) > 1:
        out.append(f"inputs: {_flow({k: list(v) for k, v in imp.inputs.items()})}")
    else:
        out.append(f"input: {_flow(list(imp.input))}")
    if outputs:
        out.append(f"outputs: {_flow(outputs)}")
    out.append(f"layout: {imp.layout}")
    if f.blocks:
        out.append("blocks:")
        for b in f.blocks:
            out.append(f"  {b.name}:")
            if b.params:
                out.append(f"    params: {_flow(b.params)}")
            out.append("    layers:")
            out += _entries(b.entries, b.notes, "      ")
    out.append("layers:")
    out += _entries(f.entries, f.notes, "  ")
    return "\n".join(out) + "\n"


def written_outputs(imp: Imported) -> list[str]:
    """The `outputs:` to write: the network's outputs, unless it returns its last layer alone."""
    if not imp.outputs or not imp.nodes or imp.outputs == [imp.nodes[-1].name]:
        return []
    return list(imp.outputs)


def _entries(entries: list[dict[str, Any]], notes: list[str], indent: str) -> list[str]:
    return [f"{indent}- {_flow(e)}" + (f"  # {_comment(n)}" if n else "") for e, n in zip(entries, notes, strict=True)]


def check(imp: Imported, a: Analysis, file: str) -> None:
    """Every node's output shape and weight count as the source declares them, or ImportFailure naming
    the first node where cnncalc's analysis of the imported spec differs."""
    if imp.total_weights is not None and a.totals["params"] != imp.total_weights:
        raise ImportFailure(file, f"cnncalc counts {a.totals['params']:,} parameters in all, the source holds "
                                  f"{imp.total_weights:,} weights; the model cannot be imported exactly",
                            "import-mismatch")
    for node in imp.nodes:
        try:
            layer = a.layer(node.name)
        except KeyError:
            raise ImportFailure(file, f"{node.where or node.name}: the imported spec lost this layer; "
                                      "please report this as a cnncalc bug") from None
        if node.shape is not None and tuple(layer.output_shape) != tuple(node.shape):
            raise ImportFailure(file, f"{node.where or node.name}: cnncalc computes the output shape "
                                      f"{'x'.join(map(str, layer.output_shape))} but the source declares "
                                      f"{'x'.join(map(str, node.shape))} (as {layer.type}); the model cannot be "
                                      "imported exactly", "import-mismatch")
        if node.weights is not None and layer.params != node.weights:
            raise ImportFailure(file, f"{node.where or node.name}: cnncalc counts {layer.params:,} parameters but "
                                      f"the source holds {node.weights:,} weights here (as {layer.type}); the model "
                                      "cannot be imported exactly", "import-mismatch")
