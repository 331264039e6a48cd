"""The `show` table as plain text, character for character what rich prints when it has no colours.

When stdout is not a terminal (a pipe, a file, CI logs), rich draws the table of `render.table`
without any escape codes; importing rich and laying the table out costs more than the whole
analysis (about 50 ms to import, and ~1 ms per row). This module writes the same characters
directly. It only answers when the result is certain to be identical: plain ASCII text without
markup or emoji codes, and the environment rich would treat as a plain stream; otherwise it
returns None and the caller uses rich. A table wider than the console is narrowed as rich's
Table narrows it (its column widths, then each cell wrapped, or cut with an ellipsis, within its
column), except where rich would leave a column no room or fold a word (rich 12 folds words
differently from rich 13+). tests/test_plain_table.py and tests/test_narrow_table.py compare the
two on every architecture and on generated tables.

`layout` and `draw` are shared with render/ansi.py, which adds rich's escape codes for a terminal.
"""

from __future__ import annotations

import os

from . import human, shape_text

TYPE_CHECKING = False  # not `typing`: this module is on the fast path of `cnncalc show`
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, TypeAlias

    from ..analysis import Analysis

    # A row of Layout: its cells when each fits its column on one line (draw() justifies them), else
    # one tuple per printed line of justified cells, None where a cell has run out of lines.
    Row: TypeAlias = "tuple[str, ...] | list[tuple[str | None, ...]]"

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

    __slots__ = ("title", "head", "foot", "rows", "widths", "total", "summary")

    def __init__(self, title: list[tuple[str, str, str]], head: Row, foot: Row, rows: list[Row], widths: list[int],
                 total: int, summary: list[tuple[str, str]]):
        self.title = title  # per line: the parts before, in and after the title's [dim] part
        self.head, self.foot, self.rows = head, foot, rows
        self.widths, self.total = widths, total  # widths without padding; total: the whole line
        self.summary = summary  # the lines under the table as (plain part, [dim] part)


def _words(text: str) -> Iterator[tuple[int, int, int]]:
    """rich._wrap.words on ASCII text whose only whitespace is " ": (start, end of the letters, end
    of the trailing spaces) of each match of `\\s*\\S+\\s*`."""
    n = len(text)
    p = 0
    while True:
        q = n - len(text[p:].lstrip(" "))
        if q == n:
            return
        r = text.find(" ", q)
        r = n if r < 0 else r
        e = n - len(text[r:].lstrip(" "))
        yield p, r, e
        p = e


def _divide(text: str, width: int, fold: bool) -> list[int] | None:
    """rich._wrap.divide_line: the offsets where the lines break. With `fold` a word wider than
    `width` is chopped, which rich 12 does differently from rich 13+: None then."""
    breaks = []
    offset = 0
    for start, letters, end in _words(text):
        if width - offset >= letters - start:  # a word fits when its letters do; its spaces follow it
            offset += end - start
        elif letters - start > width:
            if fold:
                return None
            if start:
                breaks.append(start)
            offset = end - start
        elif offset and start:
            breaks.append(start)
            offset = end - start
    return breaks


def _rstrip_end(text: str, width: int) -> str:
    # rich's Text.rstrip_end: spaces past the width are dropped, the rest stay
    if len(text) > width:
        spaces = len(text) - len(text.rstrip(" "))
        return text[:len(text) - min(spaces, len(text) - width)]
    return text


def _wrap(text: str, width: int) -> list[tuple[int, int]] | None:
    """rich's Text.wrap (divide_line, then rstrip_end) of single-line ASCII text, as (start, end) per
    line; None when a word is wider than `width` (rich folds it)."""
    breaks = _divide(text, width, fold=True)
    if breaks is None:
        return None
    bounds = [0, *breaks, len(text)]
    return [(s, s + len(_rstrip_end(text[s:e], width))) for s, e in zip(bounds, bounds[1:], strict=False)]


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


def _title(text: str, dim: int, width: int) -> list[tuple[str, str, str]] | None:
    """The title lines rich draws at the table's width (justify left, overflow fold), each as the
    parts before, inside and after the [dim] part (text[dim:]); the padding is outside it."""
    wrapped = _wrap(text, width)
    if wrapped is None:
        return None
    return [(text[s:min(e, dim)], text[max(s, dim):e], " " * (width - e + s)) if e > dim else
            (text[s:e] + " " * (width - e + s), "", "") for s, e in wrapped]


def _cell(text: str, width: int, right: bool) -> list[str]:
    """A cell's lines as rich draws them in a column `width` wide (overflow "ellipsis": a word wider
    than the column is cut, never folded), each exactly `width` long."""
    bounds = [0, *(_divide(text, width, fold=False) or ()), len(text)]  # never None without fold
    lines = []
    for s, e in zip(bounds, bounds[1:], strict=False):
        line = _rstrip_end(text[s:e], width)
        if right:  # Lines.justify "right" strips the line first; "left" keeps its spaces
            line = line.rstrip(" ")
        if len(line) > width:
            line = line[:width - 1] + "…"
        lines.append(line.rjust(width) if right else line.ljust(width))
    return lines


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    # rich._ratio.ratio_reduce, rounding (half to even, on a float) included
    ratios = [r if m else 0 for r, m in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    out = []
    for r, m, v in zip(ratios, maximums, values, strict=True):
        if r and total_ratio > 0:
            d = min(m, round(r * total / total_ratio))
            out.append(v - d)
            total -= d
            total_ratio -= r
        else:
            out.append(v)
    return out


def column_widths(natural: list[int], width: int) -> list[int] | None:
    """The content widths (padding excluded) rich's Table._calculate_column_widths gives columns whose
    longest cells are `natural` wide, on a console `width` wide; None when a column would be left
    without room for a character (rich then measures and draws degenerate cells)."""
    avail = width - (COLUMNS + 1)  # the edges and the dividers between cells
    if avail < 3 * COLUMNS:
        return None
    widths = [min(n + 2, avail) for n in natural]  # a cell's measure: its text plus the padding
    # Table._collapse_widths: narrow the widest columns towards the next widest (all of them when they
    # are equal) until the table fits. Each round takes at least one character and never more than
    # the excess, so with room left the loop ends at exactly `avail`, and rich's last resort (reduce
    # every column evenly) never runs; nor does its re-measure at the new widths change any of them.
    excess = sum(widths) - avail
    while excess > 0:
        widest = max(widths)
        second = max(w if w != widest else 0 for w in widths)
        widths = _ratio_reduce(excess, [1 if w == widest else 0 for w in widths],
                               [min(excess, widest - second)] * COLUMNS, widths)
        excess = sum(widths) - avail
    if min(widths) < 3:
        return None
    return [w - 2 for w in widths]


def _shape(cells: tuple[str, ...], widths: list[int], bottom: bool) -> Row:
    """One table row: the cells themselves when each fits its column on one line (draw() justifies
    them), else its lines, one tuple of justified cells per line, None where a cell has no line left
    (rich fills that with one blank segment); `bottom` aligns cells to the bottom, as in the header."""
    if all(len(t) <= w for t, w in zip(cells, widths, strict=True)):
        return tuple(cells)
    columns: list[list[str]] = []
    for c, t in enumerate(cells):
        w = widths[c]
        if len(t) > w and " " not in t:  # one word: cut to one line
            columns.append([t[:w - 1] + "…"])
        elif len(t) > w:
            columns.append(_cell(t, w, RIGHT[c]))
        else:
            columns.append([t.rjust(w) if RIGHT[c] else t.ljust(w)])
    height = max(len(lines) for lines in columns)
    if height == 1:
        return tuple(lines[0] for lines in columns)
    padded = [[None] * (height - len(lines)) + lines if bottom else lines + [None] * (height - len(lines))
              for lines in columns]
    return list(zip(*padded, strict=True))


def _narrow(rows: list, columns: list[tuple[str, ...]], natural: list[int], widths: list[int]) -> list[Row]:
    """The rows in columns narrower than their text: column by column (the 10,000-row table at 80
    columns), a one-word cell cut to its column; only rows with a cell that wraps are shaped whole."""
    wrapped: set[int] = set()
    cut: list = list(columns)
    for c in range(COLUMNS):
        w = widths[c]
        if natural[c] <= w:
            continue
        cut[c] = [t if len(t) <= w or " " in t else t[:w - 1] + "…" for t in columns[c]]
        if " " in "".join(columns[c]):  # rare: only then look for the cells that wrap
            wrapped.update(i for i, t in enumerate(columns[c]) if len(t) > w and " " in t)
    out: list[Row] = list(zip(*cut, strict=True))
    for i in wrapped:
        out[i] = _shape(rows[i], widths, False)
    return out


def layout(a: Analysis, width: int) -> Layout | None:
    """The table rich draws for print_table(a, console) at console `width`, or None when rich would do
    something this module does not: leave a column no room, fold a word of the title or of a summary
    line, or read markup, emoji codes or wide characters in the text."""
    t = a.totals
    title_input = f"input {shape_text(a.input_shape)} ({a.layout})"
    head = ("#", "Layer", "Type", "Output shape", "Params", "MACs", "FLOPs")
    foot = ("", "Total", "", shape_text(a.output_shape), f"{t['params']:,}", f"{t['macs']:,}", f"{t['flops']:,}")
    rows: list = [(str(i), layer.name, layer.type, shape_text(layer.output_shape),
                   f"{layer.params:,}" if layer.params else "-",
                   f"{layer.macs:,}" if layer.macs else "-", f"{layer.flops:,}" if layer.flops else "-")
                  for i, layer in enumerate(a.layers, 1)]
    columns: list[tuple[str, ...]] = list(zip(*rows, strict=True)) if rows else [()] * COLUMNS
    natural = [max(len(head[c]), len(foot[c]), max(map(len, columns[c]), default=0)) for c in range(COLUMNS)]
    # every test of _safe is per character: the names and types are checked as one string
    if not _safe(a.name + a.layout + a.convention + "".join(columns[1]) + "".join(columns[2])):
        return None
    widths = column_widths(natural, width)
    if widths is None:
        return None
    total = sum(widths) + 3 * COLUMNS + 1  # padding 1 + 1 per cell, a divider between cells, an edge each side
    title = _title(f"{a.name}  {title_input}", len(a.name) + 2, total)
    if title is None:
        return None
    if natural != widths:
        rows = _narrow(rows, columns, natural, widths)
    params = (f"Params: {t['params']:,} ({human(t['params'])})  trainable {t['trainable_params']:,}  "
              f"non-trainable {t['non_trainable_params']:,}")
    macs = f"MACs:   {t['macs']:,} ({human(t['macs'])})  FLOPs: {t['flops']:,} ({human(t['flops'])})  "
    convention = f"convention: {a.convention} (see `cnncalc conventions`)"
    summary = _summary([(params, len(params)), (macs + convention, len(macs))], width)
    if summary is None:
        return None
    return Layout(title, _shape(head, widths, True), _shape(foot, widths, False), rows, widths, total, summary)


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


def _lines(L: Layout, codes: tuple[str, ...], row: Row, template: str) -> list[str]:
    """The printed lines of one row."""
    if isinstance(row, tuple):
        return [template.format(*row)]
    out = []
    for line in row:
        cells = []
        for c, text in enumerate(line):
            if text is None:  # Segment.align_top/bottom's filler: one segment, padding included
                cells.append(_sgr(codes[c], " " * (L.widths[c] + 2)))
            else:
                cells.append(_sgr(codes[c], " ") + _sgr(codes[c], text) + _sgr(codes[c], " "))
        out.append(" " + " ".join(cells) + " ")
    return out


def draw(L: Layout, s: Styles = PLAIN) -> str:
    """The text rich writes for the laid-out table, the summary lines and their line ends."""
    out = [_sgr(s.title, before) + _sgr(s.title_dim, dim) + _sgr(s.title, after) for before, dim, after in L.title]
    blank = " " * L.total  # SIMPLE_HEAD's edges and its footer divider are spaces, unstyled
    out.append(blank)
    head, foot = (s.header,) * COLUMNS, (s.footer,) * COLUMNS
    out += _lines(L, head, L.head, _template(L, head))
    out.append(" " + "─" * (L.total - 2) + " ")
    template = _template(L, s.columns)
    row = template.format
    for r in L.rows:
        if isinstance(r, tuple):
            out.append(row(*r))
        else:
            out += _lines(L, s.columns, r, template)
    out.append(blank)
    out += _lines(L, foot, L.foot, _template(L, foot))
    out.append(blank)
    out += [text + _sgr(s.dim, dim) for text, dim in L.summary]
    out.append("")
    return "\n".join(out)


def table_text(a: Analysis) -> str | None:
    """The text rich prints for render.table.print_table(a, console()) on a plain stream, or None."""
    L = layout(a, WIDTH)
    return None if L is None else draw(L)
