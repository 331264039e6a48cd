"""One self-contained HTML page: the data as JSON, the bundled scripts and styles inline, a strict CSP.

Nothing from a spec reaches the page as markup: the data travels inside
`<script type="application/json">` with `<`, `>`, `&` and the line separators U+2028/U+2029 written
as `\\u` escapes (so no text can close the element or start a comment), the page script builds the
DOM with `textContent`, and the Content-Security-Policy allows exactly the inline scripts and styles
below (by their SHA-256), nothing else: no network, no other script, no inline event handler.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

# the page's own files and the bundled libraries (cnncalc/report/assets; licences beside them)
SCRIPTS = ("vendor/dagre.min.js", "vendor/uPlot.iife.min.js", "report.js")
STYLES = ("vendor/uPlot.min.css", "report.css")
DATA_ID = "cnncalc-data"


@cache
def asset(name: str) -> str:
    text = resources.files("cnncalc.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower() or "<!--" in text:
        raise RuntimeError(f"bundled file {name} cannot be inlined: it contains an end tag or a comment opener")
    return text


MAX_SAFE = 2**53 - 1  # JavaScript numbers are exact up to here
# a JSON string (left alone) or a whole integer of 16 digits or more (perhaps past MAX_SAFE; not part of a float)
_LONG = re.compile(r"\d{16}")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])')


def _big(m: re.Match[str]) -> str:
    t = m.group(0)
    return f'"{t}"' if t[0] != '"' and abs(int(t)) > MAX_SAFE else t


def json_for_script(data: Any) -> str:
    """JSON that is inert inside a <script> element and valid JSON (the escapes are JSON string escapes).
    Integers beyond JavaScript's exact range are written as decimal strings (the page formats both)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if _LONG.search(text):  # rare: then tell the integers from digits inside strings
        text = _TOKEN.sub(_big, text)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(scripts: list[str], styles: list[str], watch: bool) -> str:
    """Only these inline scripts and styles; images only as data: URLs (the charts' canvas needs none);
    the watch page may ask its own local server whether the spec changed."""
    parts = ["default-src 'none'", "script-src " + " ".join(_sha(s) for s in scripts),
             "style-src " + " ".join(_sha(s) for s in styles), "img-src data:", "base-uri 'none'",
             "form-action 'none'"]
    if watch:
        parts.append("connect-src 'self'")
    return "; ".join(parts)


def page(data: dict[str, Any], title: str) -> str:
    """The whole HTML document for `data` (from report.data)."""
    scripts = [asset(name) for name in SCRIPTS]
    styles = [asset(name) for name in STYLES]
    policy = csp(scripts, styles, bool(data.get("watch")))
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="referrer" content="no-referrer">',
           f"<title>{html.escape(' '.join(title.split()))}</title>"]
    out += [f"<style>{s}</style>" for s in styles]
    out += ["</head>", "<body>",
            '<noscript>This report needs JavaScript; `cnncalc show FILE` prints the same numbers.</noscript>',
            '<div id="app"></div>',
            f'<script type="application/json" id="{DATA_ID}">{json_for_script(data)}</script>']
    out += [f"<script>{s}</script>" for s in scripts]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
