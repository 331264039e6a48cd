"""The `show` table as plain text, character for character what rich prints when it has no colours.

When stdout is not a terminal (a pipe, a file, CI logs), rich draws the table of `render.table`
without any escape codes; importing rich and laying the table out costs more than the whole
analysis (about 50 ms to import, and ~1 ms per row). This module writes the same characters
directly. It only answers when the result is certain to be identical: plain ASCII text without
markup or emoji codes, a table that fits the width, and the environment rich would treat as a
plain stream; otherwise it returns None and the caller uses rich. tests/test_plain_table.py
compares the two on every architecture and on generated tables.

`layout` and `draw` are shared with render/ansi.py, which adds rich's escape codes for a terminal.
"""

from __future__ import annotations

import os

from . import human, shape_text

TYPE_CHECKING = False  # not `typing`: this module is on the fast path of `cnncalc show`
if TYPE_CHECKING:
    from typing import IO

    from ..analysis import Analysis

WIDTH = 200  # the console width render.table.console() gives rich when stdout is not a terminal
COLUMNS = 7
RIGHT = (True, False, False, False, True, True, True)  # print_table's justify per column


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
    return (text.isascii() and text.isprintable() and "[" not in text and "]" not in text and ":" not in text
            and "\\" not in text)


class Layout:
    """print_table's default table at one console width: its text pieces and column widths."""

    __slots__ = ("name", "title_input", "head", "foot", "rows", "widths", "total", "summary")

    def __init__(self, name: str, title_input: str, head: tuple[str, ...], foot: tuple[str, ...],
                 rows: list[tuple[str, ...]], widths: list[int], total: int, summary: list[tuple[str, str]]):
        self.name, self.title_input = name, title_input  # the title is name, two spaces, then the [dim] part
        self.head, self.foot, self.rows = head, foot, rows
        self.widths, self.total = widths, total  # widths without padding; total: the whole line
        self.summary = summary  # the lines under the table as (plain part, [dim] part)


def _wrap(text: str, width: int) -> list[tuple[int, int]] | None:
    """rich's Text.wrap (rich._wrap.divide_line, then rstrip_end) of single-line ASCII text that starts
    with a non-space, as (start, end) per line; None when a word is wider than `width` (rich folds it)."""
    lines = []
    start = offset = i = 0
    n = len(text)
    while i < n:
        j = text.find(" ", i)
        j = n if j < 0 else j
        k = j
        while k < n and text[k] == " ":
            k += 1
        # a word is its letters plus the spaces after it; it fits when its letters do
        if width - offset >= j - i:
            offset += k - i
        elif j - i > width:
            return None
        else:
            lines.append((start, i))
            start, offset = i, k - i
        i = k
    lines.append((start, n))
    out = []
    for s, e in lines:
        if e - s > width:  # spaces past the width are dropped, the rest stay
            spaces = e - s - len(text[s:e].rstrip(" "))
            e -= min(spaces, e - s - width)
        out.append((s, e))
    return out


def _summary(lines: list[tuple[str, int]], width: int) -> list[tuple[str, str]] | None:
    """The summary lines as rich prints them at `width`: (text, where its [dim] part starts) in,
    (plain part, [dim] part) per printed line out."""
    out = []
    for text, dim in lines:
        if len(text) <= width:
            out.append((text[:dim], text[dim:]))
            continue
        wrapped = _wrap(text, width)
        if wrapped is None:
            return None
        out += [(text[s:min(e, dim)], text[max(s, dim):e]) for s, e in wrapped]
    return out


def layout(a: Analysis, width: int) -> Layout | None:
    """The table rich draws for print_table(a, console) at console `width`, or None when rich would do
    something this module does not: shrink or wrap a column, wrap the title, fold a word of a summary
    line, or read markup, emoji codes or wide characters in the text."""
    t = a.totals
    title_input = f"input {shape_text(a.input_shape)} ({a.layout})"
    head = ("#", "Layer", "Type", "Output shape", "Params", "MACs", "FLOPs")
    foot = ("", "Total", "", shape_text(a.output_shape), f"{t['params']:,}", f"{t['macs']:,}", f"{t['flops']:,}")
    rows: list[tuple[str, ...]] = [(str(i), layer.name, layer.type, shape_text(layer.output_shape),
             f"{layer.params:,}" if layer.params else "-",
             f"{layer.macs:,}" if layer.macs else "-", f"{layer.flops:,}" if layer.flops else "-")
            for i, layer in enumerate(a.layers, 1)]
    cols = list(zip(*rows, strict=True)) or [()] * COLUMNS
    widths = [max(len(head[c]), len(foot[c]), max(map(len, cols[c]), default=0)) for c in range(COLUMNS)]
    total = sum(widths) + 3 * COLUMNS + 1  # padding 1 + 1 per cell, a divider between cells, an edge each side
    params = (f"Params: {t['params']:,} ({human(t['params'])})  trainable {t['trainable_params']:,}  "
              f"non-trainable {t['non_trainable_params']:,}")
    macs = f"MACs:   {t['macs']:,} ({human(t['macs'])})  FLOPs: {t['flops']:,} ({human(t['flops'])})  "
    convention = f"convention: {a.convention} (see `cnncalc conventions`)"
    if (total > width or len(a.name) + 2 + len(title_input) > total or not _safe(a.name) or not _safe(a.layout)
            or not _safe(a.convention) or not _safe("".join(cols[1])) or not _safe("".join(cols[2]))):
        return None
    summary = _summary([(params, len(params)), (macs + convention, len(macs))], width)
    return None if summary is None else Layout(a.name, title_input, head, foot, rows, widths, total, summary)


class Styles:
    """The SGR parameters rich writes for each part of the table; "" writes the text bare."""

    __slots__ = ("title", "title_dim", "header", "footer", "columns", "dim")

    def __init__(self, title: str = "", title_dim: str = "", header: str = "", footer: str = "",
                 columns: tuple[str, ...] = ("",) * COLUMNS, dim: str = ""):
        self.title, self.title_dim, self.header, self.footer = title, title_dim, header, footer
        self.columns, self.dim = columns, dim


PLAIN = Styles()


def _sgr(code: str, text: str) -> str:
    # rich's Style.render: every styled segment is wrapped on its own, an empty one is written as nothing
    return f"\x1b[{code}m{text}\x1b[0m" if code and text else text


def _template(L: Layout, codes: tuple[str, ...]) -> str:
    """A str.format template for one table line: each cell is its left padding, the justified text
    and its right padding, three segments in the cell's style."""
    cells = []
    for c in range(COLUMNS):
        k = codes[c]
        spec = "{:" + (">" if RIGHT[c] else "<") + str(L.widths[c]) + "}"
        cells.append(f"\x1b[{k}m \x1b[0m\x1b[{k}m{spec}\x1b[0m\x1b[{k}m \x1b[0m" if k else f" {spec} ")
    return " " + " ".join(cells) + " "


def draw(L: Layout, s: Styles = PLAIN) -> str:
    """The text rich writes for the laid-out table, the summary lines and their line ends."""
    pad = L.total - len(L.name) - 2 - len(L.title_input)
    title = _sgr(s.title, L.name + "  ") + _sgr(s.title_dim, L.title_input) + _sgr(s.title, " " * pad)
    row = _template(L, s.columns).format
    blank = " " * L.total  # SIMPLE_HEAD's edges and its footer divider are spaces, unstyled
    out = [title, blank, _template(L, (s.header,) * COLUMNS).format(*L.head), " " + "─" * (L.total - 2) + " "]
    out += [row(*r) for r in L.rows]
    out += [blank, _template(L, (s.footer,) * COLUMNS).format(*L.foot), blank]
    out += [text + _sgr(s.dim, dim) for text, dim in L.summary]
    out.append("")
    return "\n".join(out)


def table_text(a: Analysis) -> str | None:
    """The text rich prints for render.table.print_table(a, console()) on a plain stream, or None."""
    L = layout(a, WIDTH)
    return None if L is None else draw(L)
