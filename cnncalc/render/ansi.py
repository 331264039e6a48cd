"""The `show` table for a terminal, escape code for escape code what rich writes there.

In a terminal, importing rich and laying out the table cost more than the whole analysis (~85 ms
to import, then ~1 ms per row, 17 s for 10,000 rows). This module writes the bytes rich would
write for render.table.print_table(a, render.table.console()) itself, sharing render/plain.py's
layout. To know those bytes it re-derives what rich's Console decides from the environment:
whether the stream counts as a terminal, whether it is a dumb one, NO_COLOR, and the width. It
answers only when it is certain; anything it does not model (Windows, Jupyter, IDLE, a proxied
file, a non-UTF-8 stream, a terminal too narrow to give every column a character, a word rich
would fold, text rich would read as markup) gives None and the caller uses rich. A table wider
than the terminal is narrowed as rich narrows it (render/plain.py). tests/test_ansi_table.py and
tests/test_narrow_table.py compare it with rich byte for byte.
"""

from __future__ import annotations

import os
import sys

from .plain import COLUMNS, PLAIN, Styles, draw, layout

TYPE_CHECKING = False  # not `typing`: this module is on the fast path of `cnncalc show`
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO

    from ..analysis import Analysis

# rich's default theme: table.title italic, table.header and table.footer bold; print_table's column
# styles "dim", "bold", "cyan" and the [dim] markup. Colour systems standard, 256 and truecolor all
# write the standard colour cyan as 36; NO_COLOR removes only the colour.
COLOUR = Styles(title="3", title_dim="2;3", header="1", footer="1", columns=("2", "1", "36") + ("",) * (COLUMNS - 3),
                dim="2")
NO_COLOUR = Styles(title="3", title_dim="2;3", header="1", footer="1", columns=("2", "1") + ("",) * (COLUMNS - 2),
                   dim="2")


def _std_fds() -> tuple[int, int, int]:
    # rich.console's _STD_STREAMS: the fds it asks for a terminal size, stdin first
    fds = []
    for stream, default in ((sys.__stdin__, 0), (sys.__stdout__, 1), (sys.__stderr__, 2)):
        try:
            fds.append(stream.fileno())  # type: ignore[union-attr]
        except Exception:
            fds.append(default)
    return fds[0], fds[1], fds[2]


def _digits(value: str | None) -> int | None:
    # rich reads COLUMNS and LINES only when str.isdigit(); int() can still refuse (e.g. "²"), and
    # rich would then raise, so that case is left to rich
    if value is None or not value.isdigit():
        return None
    return int(value)


def console_width(env: Mapping[str, str], width: int | None, dumb: bool) -> int:
    """Console.size.width for a Console(width=width) off Windows (rich's __init__ and size)."""
    height = _digits(env.get("LINES"))
    if width is None:
        width = _digits(env.get("COLUMNS"))
    if width is not None and height is not None:
        return width
    if dumb:  # before COLUMNS, and even before an explicit width
        return 80
    measured: int | None = None
    for fd in _std_fds():
        try:
            measured = os.get_terminal_size(fd)[0]
        except (AttributeError, ValueError, OSError):
            pass
        else:
            break
    columns = _digits(env.get("COLUMNS"))
    if columns is not None:
        measured = columns
    return (measured or 80) if width is None else width  # a pty may report 0 columns


def terminal_mode(stream: IO[str], env: Mapping[str, str] | None = None) -> tuple[Styles, int] | None:
    """The styles and width rich's Console would print `stream` with when render.table.console()
    makes it (width None on a tty, else 200), or None when that is not certain."""
    env = os.environ if env is None else env
    if sys.platform == "win32":  # legacy consoles are written through the win32 API, modern ones probed by it
        return None
    try:
        tty = stream.isatty()
        encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    except (AttributeError, ValueError):
        return None
    if not encoding.startswith("utf"):  # rich swaps the box for ASCII
        return None
    if getattr(stream, "rich_proxied_file", None) is not None:  # rich would write elsewhere
        return None
    if hasattr(sys.modules.get("builtins"), "get_ipython"):  # rich's Jupyter check looks for this name
        return None
    if str(getattr(sys.stdin, "__module__", "")).startswith("idlelib"):
        return None
    # Console.is_terminal: FORCE_COLOR set and non-empty, else isatty(). Rich 14 gave FORCE_COLOR="" and
    # NO_COLOR="" the opposite meaning and added TTY_COMPATIBLE=0/1; pyproject allows rich>=12, so
    # those cases are left to rich.
    compatible = env.get("TTY_COMPATIBLE", "")
    force = env.get("FORCE_COLOR")
    if force == "" or env.get("NO_COLOR") == "" or compatible in ("0", "1"):
        return None
    is_terminal = force is not None or tty
    dumb = is_terminal and env.get("TERM", "").lower() in ("dumb", "unknown")
    try:
        width = console_width(env, None if tty else 200, dumb)
    except ValueError:
        return None
    if not is_terminal or dumb:  # no colour system: rich writes the text bare
        return PLAIN, width
    return (NO_COLOUR if "NO_COLOR" in env else COLOUR), width


def table_ansi(a: Analysis, stream: IO[str]) -> str | None:
    """What rich writes for render.table.print_table(a, console()) to `stream`, or None."""
    mode = terminal_mode(stream)
    if mode is None:
        return None
    L = layout(a, mode[1])
    return None if L is None else draw(L, mode[0])
