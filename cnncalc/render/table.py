"""The rich table of `cnncalc show`.

A calculator must never cut its answer. Every column is given the width of its longest cell,
computed once here, so rich measures nothing and never narrows a column; numbers and shapes never
wrap. When a terminal is narrower than the table, whole columns are left out, lowest priority
first, and one dim line names them; if the rest still does not fit, headers wrap at their spaces
and then layer names fold onto more lines inside their cell. Piped output is the whole table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import visible
from . import batched, human, inputs_text, outputs_text, shape_text, shared_text

if TYPE_CHECKING:
    from collections.abc import Collection

    from rich.console import Console
    from rich.table import Table

    from ..analysis import Analysis, LayerResult
    from ..memory import MemoryConfig
    from .columns import Extra

# Left out first when the terminal is too narrow; Layer, Output shape, Params and MACs always stay,
# and so does any column named in --columns.
DROP_ORDER = ("#", "flops", "type")
# The narrowest a layer name (or type) is folded to before the table is let run past the terminal.
FOLD_MIN = 8
PIPED_WIDTH = 200  # rich's console width when stdout is not a terminal: lines as long as the table


def console(stderr: bool = False) -> Console:
    """A rich console that respects NO_COLOR and FORCE_COLOR and does not wrap tables when piped.
    No `:name:` emoji codes: nothing cnncalc prints is written in them (and rich would otherwise
    load its emoji table to look for them)."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, emoji=False)


class Column:
    """One column: its cells as text and the widths it can be drawn at."""

    __slots__ = ("key", "header", "footer", "cells", "right", "style", "fold", "full", "compact", "narrowest")

    def __init__(self, key: str, header: str, footer: str, cells: list[str], right: bool = True, style: str = "",
                 fold: bool = False):
        from rich.cells import cell_len

        self.key, self.header, self.footer, self.cells = key, header, footer, cells
        self.right, self.style, self.fold = right, style, fold
        words = max(map(cell_len, header.split()), default=0)
        content = max(cell_len(footer), max(map(cell_len, cells), default=0))
        self.full = max(content, cell_len(header))  # the header on one line
        self.compact = max(content, words)  # the header wrapped at its spaces
        # a name may fold down to a few characters; a number, a shape or a header word never
        self.narrowest = max(min(content, FOLD_MIN), words, cell_len(footer)) if fold else self.compact


def columns_of(a: Analysis, extra: tuple[str, ...] = (), x: Extra | None = None,
               batch: int | None = None) -> list[Column]:
    """Every column of the table in display order: the standard seven, then the `extra` columns
    (render.columns.COLUMNS) computed by `x`. With `batch`, shapes have the batch dimension and MACs
    and FLOPs are those of the whole batch."""
    t = a.totals
    layers = a.layers
    n_out = len(a.outputs) if a.network.named_outputs else 1
    out_footer = shape_text(a.output_shape, batch) if n_out == 1 else ""  # several: the Outputs line below

    def weighs(layer: LayerResult) -> bool:  # a shared layer that has weights (counted at the layer it shares)
        return layer.shares is not None and a.layer(layer.shares).params > 0

    def count(n: int) -> str:
        n = batched(n, batch)
        return f"{n:,}" if n else "-"

    cols = [
        Column("#", "#", "", [str(i) for i in range(1, len(layers) + 1)], style="dim"),
        Column("layer", "Layer", "Total", [visible(layer.name) for layer in layers], right=False, style="bold", fold=True),
        Column("type", "Type", "", [layer.type for layer in layers], right=False, style="cyan", fold=True),
        Column("shape", "Output shape", out_footer, [shape_text(layer.output_shape, batch) for layer in layers],
               right=False),
        Column("params", "Params", f"{t['params']:,}",
               ["shared" if weighs(layer) else f"{layer.params:,}" if layer.params else "-" for layer in layers]),
        Column("macs", "MACs", count(t["macs"]), [count(layer.macs) for layer in layers]),
        Column("flops", "FLOPs", count(t["flops"]), [count(layer.flops) for layer in layers]),
    ]
    if extra and x:
        from .columns import COLUMNS

        cols += [Column(c, COLUMNS[c][0], x.footer(c), [x.cell(layer, c) for layer in layers]) for c in extra]
    return cols


def table_width(widths: list[int]) -> int:
    # SIMPLE_HEAD with its edges: one space of padding each side of a cell, a space between cells, an edge each side
    return sum(widths) + 3 * len(widths) + 1


def fit(cols: list[Column], width: int, keep: Collection[str] = ()) -> tuple[list[Column], list[int], list[Column]]:
    """(columns shown, their widths, columns left out) for a terminal `width` columns wide."""
    shown = list(cols)
    hidden: list[Column] = []
    droppable = [c for key in DROP_ORDER for c in cols if c.key == key and key not in keep]
    while True:
        widths = [c.full for c in shown]
        if table_width(widths) <= width:
            return shown, widths, sorted(hidden, key=cols.index)
        widths = [c.compact for c in shown]
        if table_width(widths) <= width or not droppable:
            break
        hidden.append(droppable.pop(0))
        shown.remove(hidden[-1])
    # still too wide: fold the widest name (or type) column, a character at a time
    excess = table_width(widths) - width
    while excess > 0:
        foldable = [i for i, c in enumerate(shown) if widths[i] > c.narrowest]
        if not foldable:
            break  # a terminal this narrow gets lines longer than itself, never a cut number
        i = max(foldable, key=lambda i: widths[i])
        widths[i] -= 1
        excess -= 1
    return shown, widths, sorted(hidden, key=cols.index)


def at_dots(name: str, width: int) -> str:
    """A dotted layer name (a module path) broken at its dots into lines of at most `width` cells:
    `encoder.layers.encoder_layer_0.` / `mlp.0`. An index stays with the part before it (`mlp.0`,
    `layer1.0.`); a part one dot too long gives its dot to the next line; a longer one is left to rich
    to fold."""
    from rich.cells import cell_len

    if cell_len(name) <= width or "." not in name:
        return name
    parts: list[str] = []
    for part in re.findall(r"[^.]*\.|[^.]+$", name):  # each part with its dot
        if parts and part.rstrip(".").isdigit():
            parts[-1] += part
        else:
            parts.append(part)
    lines, carry = [""], ""
    for part in parts:
        part, carry = carry + part, ""
        if cell_len(part) == width + 1 and part.endswith("."):
            part, carry = part[:-1], "."
        if lines[-1] and cell_len(lines[-1] + part) > width:
            lines.append(part)
        else:
            lines[-1] += part
    lines[-1] += carry
    return "\n".join(lines)


def build(a: Analysis, shown: list[Column], widths: list[int], batch: int | None = None) -> Table:
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    ins = "inputs" if a.network.named_inputs else "input"
    per = f"batch {batch}, " if batch is not None else ""
    # Text, not markup: a name like `[link=https://…]x[/link]` is shown as written
    title = Text.assemble(f"{visible(a.name)}  ", (f"{ins} {inputs_text(a, batch)} ({per}{a.layout})", "dim"),
                          style="table.title")
    table = Table(title=title, box=box.SIMPLE_HEAD, show_footer=True, title_justify="left")
    for c, w in zip(shown, widths, strict=True):
        # fixed widths: rich measures no cell; no_wrap: a number is never wrapped or cut
        table.add_column(Text(c.header, no_wrap=False), footer=c.footer, justify="right" if c.right else "left",
                         style=c.style, width=w, no_wrap=not c.fold, overflow="fold")
    # Each run of layers whose cells all fit on one line becomes one row of multi-line cells: rich lays
    # out a few cells instead of one per layer and column, and the lines stay aligned since none wraps.
    # A layer whose name has to fold is a row of its own.
    folds = [i for i, c in enumerate(shown) if c.compact > widths[i]]
    n = len(a.layers)
    start = 0
    for row in range(n + 1):
        long = row < n and any(cell_len(shown[i].cells[row]) > widths[i] for i in folds)
        if (long or row == n) and start < row:
            table.add_row(*(Text("\n".join(c.cells[start:row]), no_wrap=True) for c in shown))
        if long:
            table.add_row(*(Text(at_dots(c.cells[row], w) if c.fold else c.cells[row])
                            for c, w in zip(shown, widths, strict=True)))
            start = row + 1
        elif row == n:
            break
    return table


def print_table(a: Analysis, console: Console, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None,
                memory_summary: bool = False, keep: Collection[str] = (), wide: bool = False,
                batch: int | None = None) -> None:
    """`columns`: extra columns (render.columns.COLUMNS); `memory_summary` adds the memory line. In a
    terminal the table fits its width (`keep`: columns never left out); `wide`, or piped: every column.
    `batch`: shapes with the batch dimension, MACs and FLOPs of the whole batch."""
    from rich.text import Text

    from .columns import MEMORY_COLUMNS, Extra

    x = Extra.of(a, memory) if columns or memory_summary else None
    cols = columns_of(a, columns, x, batch)
    if console.is_terminal and not wide:
        shown, widths, hidden = fit(cols, console.width, {*keep, *columns})
    else:
        shown, widths, hidden = cols, [c.full for c in cols], []
    table = build(a, shown, widths, batch)
    total = table_width(widths)
    if total > console.width:  # rich would squeeze the columns to the console: let the lines run longer
        table.width = total
    console.print(table, crop=False)
    if hidden:
        addable = [c.key for c in hidden if c.key != "#"]
        how = f"--wide or --columns {','.join(addable)}" if addable else "--wide"
        console.print(Text(f"Hidden: {', '.join(c.header for c in hidden)} ({how})", style="dim"))
    t = a.totals
    if a.network.named_outputs and len(a.outputs) > 1:
        console.print(Text(f"Outputs: {outputs_text(a, batch)}"), highlight=False)
    console.print(f"Params: {t['params']:,} ({human(t['params'])})  trainable {t['trainable_params']:,}  "
                  f"non-trainable {t['non_trainable_params']:,}", highlight=False)
    macs, flops = batched(t["macs"], batch), batched(t["flops"], batch)
    whole = f" for a batch of {batch}" if batch is not None else ""
    console.print(f"MACs:   {macs:,} ({human(macs)})  FLOPs: {flops:,} ({human(flops)}){whole}  "
                  f"[dim]convention: {a.convention} (see `cnncalc conventions`)[/dim]", highlight=False)
    shared = shared_text(a)
    if shared:
        console.print(Text(f"Shared weights (params counted once, MACs at every call): {shared}"), highlight=False)
    if x and (memory_summary or MEMORY_COLUMNS & set(columns)):
        console.print(x.summary(), highlight=False)
