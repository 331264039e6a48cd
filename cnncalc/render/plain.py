"""The `show` table as plain text, character for character what rich prints when it has no colours.

When stdout is not a terminal (a pipe, a file, CI logs), rich draws the table of `render.table`
without any escape codes; importing rich and laying the table out costs more than the whole
analysis (about 50 ms to import, and ~1 ms per row). This module writes the same characters
directly. It only answers when the result is certain to be identical: plain ASCII text without
markup or emoji codes, a table that fits the width, and the environment rich would treat as a
plain stream; otherwise it returns None and the caller uses rich. tests/test_plain_table.py
compares the two on every architecture and on generated tables.
"""

from __future__ import annotations

import os

from . import human, shape_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

    from ..analysis import Analysis

WIDTH = 200  # the console width render.table.console() gives rich when stdout is not a terminal


def plain_stream(stream: IO[str]) -> bool:
    """True when rich would print to `stream` without escape codes, UTF-8 box lines and width WIDTH."""
    try:
        if stream.isatty():  # console() gives rich the terminal's width then
            return False
    except (AttributeError, ValueError):
        return False
    env = os.environ  # rich's Console.is_terminal: TTY_COMPATIBLE, then FORCE_COLOR, then isatty()
    if env.get("TTY_COMPATIBLE", "") == "1" or (env.get("TTY_COMPATIBLE", "") != "0" and env.get("FORCE_COLOR")):
        return False
    encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    return encoding.startswith("utf")


def _safe(text: str) -> bool:
    # rich would interpret `[...]` as markup, `:name:` as an emoji code, and measure non-ASCII by cell width
    return text.isascii() and text.isprintable() and not any(c in text for c in "[]:\\")


def table_text(a: Analysis) -> str | None:
    """The text rich prints for render.table.print_table(a, console()) on a plain stream, or None."""
    t = a.totals
    title = f"{a.name}  input {shape_text(a.input_shape)} ({a.layout})"
    head = ("#", "Layer", "Type", "Output shape", "Params", "MACs", "FLOPs")
    foot = ("", "Total", "", shape_text(a.output_shape), f"{t['params']:,}", f"{t['macs']:,}", f"{t['flops']:,}")
    rows = [(str(i), layer.name, layer.type, shape_text(layer.output_shape),
             f"{layer.params:,}" if layer.params else "-",
             f"{layer.macs:,}" if layer.macs else "-", f"{layer.flops:,}" if layer.flops else "-")
            for i, layer in enumerate(a.layers, 1)]
    right = (True, False, False, False, True, True, True)
    widths = [max(len(head[c]), len(foot[c])) for c in range(7)]
    for row in rows:
        for c in range(7):
            if len(row[c]) > widths[c]:
                widths[c] = len(row[c])
    total = sum(widths) + 3 * 7 + 1  # padding 1 + 1 per cell, a divider between cells, an edge each side
    summary = (f"Params: {t['params']:,} ({human(t['params'])})  trainable {t['trainable_params']:,}  "
               f"non-trainable {t['non_trainable_params']:,}",
               f"MACs:   {t['macs']:,} ({human(t['macs'])})  FLOPs: {t['flops']:,} ({human(t['flops'])})  "
               f"convention: {a.convention} (see `cnncalc conventions`)")
    if (total > WIDTH or len(title) > total or any(len(s) > WIDTH for s in summary)
            or not _safe(title) or not _safe(a.convention) or not all(_safe(r[1]) and _safe(r[2]) for r in rows)):
        return None

    def line(cells: tuple[str, ...]) -> str:
        return " " + " ".join(" " + (cells[c].rjust(widths[c]) if right[c] else cells[c].ljust(widths[c])) + " "
                              for c in range(7)) + " "

    blank = " " * total
    out = [title.ljust(total), blank, line(head), " " + "─" * (total - 2) + " "]
    out += [line(r) for r in rows]
    out += [blank, line(foot), blank, *summary, ""]
    return "\n".join(out)
