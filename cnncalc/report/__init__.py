"""`cnncalc report`: one self-contained, interactive HTML page of an analysed network.

The page (graph with collapsible blocks, sortable table, bar charts, --explain derivations, the
convention switcher, warnings, expect results and the spec's source) is drawn in the browser by
assets/report.js from the data of `data.report_data`; `page.page` inlines that data, the script,
the styles and the bundled libraries (dagre for the graph layout, uPlot for the charts) into one
file that opens offline. See docs/report.md.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from .data import error_data, page_data
from .page import page

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..errors import Diagnostic
    from ..memory import MemoryConfig

__all__ = ["report_html", "error_html", "write_atomic", "read_source"]

MAX_SOURCE = 1 << 20  # the largest spec cnncalc reads (spec.load refuses more)


def read_source(path: str, a: Analysis | None = None) -> str | None:
    """The spec's text as the page shows it: of a model file, the spec imported from it (its layers'
    lines point there); None when there is no text to show (a model file that did not import, a file
    that cannot be read)."""
    from ..importers import is_model_file

    if a is not None and a.network.text is not None:
        return a.network.text
    if is_model_file(path):
        return None  # binary, or a framework's text that is not the spec the page's lines refer to
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SOURCE + 1)
    except OSError:
        return None
    if len(raw) > MAX_SOURCE:
        return None
    return raw.decode("utf-8", errors="replace")


def report_html(a: Analysis, memory: MemoryConfig | None = None, source: str | None = None,
                compare: tuple[Analysis, str | None] | None = None, watch: str | None = None) -> str:
    """The report page of `a`; with `compare` = (analysis of B, B's source), the comparison with B."""
    title = f"{a.name} — cnncalc report" if compare is None else f"{a.name} vs {compare[0].name} — cnncalc diff"
    return page(page_data(a, memory, source, compare, watch), title)


def error_html(diagnostics: list[Diagnostic], file: str, source: str | None, watch: str | None = None) -> str:
    """A page that shows the located errors of a spec that cannot be analysed."""
    return page(error_data(diagnostics, file, source, watch), f"{file}: errors — cnncalc report")


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory, then rename: a reader never
    sees a partly written page, and a failure leaves the old file as it was. Raises OSError."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".cnncalc-", suffix=".html.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
