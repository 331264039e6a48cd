"""Renderers: analysis → text. `table` uses rich; json, markdown and csv use only the stdlib."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import visible

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..memory import MemoryConfig

FORMATS = ("table", "json", "markdown", "csv")


_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(text: str) -> str:
    """Untrusted text (a network name, a file name in a warning) as markdown that shows exactly that
    text: visible (one line), `<`, `>` and `&` as HTML entities (no tag, comment or entity can open)
    and markdown's code, emphasis, link and table-cell characters escaped with a backslash."""
    import html

    return _MARKDOWN.sub(r"\\\1", html.escape(visible(text), quote=False))


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(map(str, shape))


def human(n: int) -> str:
    """724,406,816 → 724.41M (used beside exact numbers, never instead of them)."""
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def json_doc(a: Analysis, memory: MemoryConfig | None = None) -> dict:
    """The JSON output as a dict (docs/json.md)."""
    from .columns import extend_json

    return extend_json(a, a.to_dict(), memory)


def to_json(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None) -> str:
    """Every key, always: `columns` only concerns the table and csv."""
    import json

    return json.dumps(json_doc(a, memory), indent=2)


ROW_HEAD = ("layer", "type", "output_shape", "params", "trainable_params", "non_trainable_params", "macs", "flops")


def rows(a: Analysis) -> list[tuple[str, ...]]:
    return [(visible(layer.name), layer.type, shape_text(layer.output_shape), str(layer.params), str(layer.trainable_params),
             str(layer.non_trainable_params), str(layer.macs), str(layer.flops)) for layer in a.layers]


def to_csv(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    t = a.totals
    total = ("(total)", "", shape_text(a.output_shape), t["params"], t["trainable_params"],
             t["non_trainable_params"], t["macs"], t["flops"])
    if not columns:
        w.writerow(ROW_HEAD)
        w.writerows(rows(a))
        w.writerow(total)
        return buf.getvalue()
    from .columns import Extra

    x = Extra.of(a, memory)
    w.writerow((*ROW_HEAD, *columns))
    for layer, row in zip(a.layers, rows(a), strict=True):
        w.writerow((*row, *(x.cell(layer, c, commas=False) for c in columns)))
    w.writerow((*total, *(x.footer(c, commas=False) for c in columns)))
    return buf.getvalue()


def to_markdown(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None) -> str:
    from .columns import COLUMNS, MEMORY_COLUMNS, Extra

    t = a.totals
    x = Extra.of(a, memory) if columns else None

    def extra(cells) -> str:  # the --columns cells, appended to a row
        return "".join(f" {c} |" for c in cells) if x else ""

    lines = [f"### {markdown_text(a.name)}", "",
             f"Input {shape_text(a.input_shape)} ({a.layout}), output {shape_text(a.output_shape)}.", "",
             "| # | layer | type | output shape | params | MACs | FLOPs |" + extra(COLUMNS[c][0] for c in columns),
             "|---:|---|---|---|---:|---:|---:|" + "---:|" * len(columns)]
    for i, layer in enumerate(a.layers, 1):
        lines.append(f"| {i} | {visible(layer.name)} | {layer.type} | {shape_text(layer.output_shape)} | {layer.params:,} | "
                     f"{layer.macs:,} | {layer.flops:,} |" + extra(x.cell(layer, c) for c in columns if x))
    lines.append(f"| | **total** | | **{shape_text(a.output_shape)}** | **{t['params']:,}** | **{t['macs']:,}** | "
                 f"**{t['flops']:,}** |" + extra(x.footer(c) and f"**{x.footer(c)}**" for c in columns if x))
    lines += ["", f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable "
              f"{t['non_trainable_params']:,}). MACs: {t['macs']:,} ({human(t['macs'])}). "
              f"FLOPs: {t['flops']:,} ({human(t['flops'])}), convention `{a.convention}`."]
    if x and MEMORY_COLUMNS & set(columns):
        lines += ["", x.summary().replace("\n", "\n\n")]
    for w in a.warnings:
        lines.append(f"\n> warning: {markdown_text(w.format())}")
    return "\n".join(lines) + "\n"
