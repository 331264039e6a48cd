"""Mermaid flowchart text, for Markdown documents that render Mermaid (GitHub, GitLab, MkDocs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import visible
from . import blocks

if TYPE_CHECKING:
    from ..analysis import Analysis


def _label(*lines: str) -> str:
    """One node label: visible (a line break would end the node and start a Mermaid statement),
    quotes as Mermaid's entity code, `&`, `<`, `>` as HTML entities; lines joined by <br/>."""
    text = "<br/>".join(visible(line) for line in lines)
    return text.replace("&", "&amp;").replace('"', "#quot;").replace("<br/>", "\x00").replace(
        "<", "&lt;").replace(">", "&gt;").replace("\x00", "<br/>")


def render(a: Analysis) -> str:
    out = ["flowchart LR"]
    for b in blocks(a):
        what = b.caption + ("" if not b.folded else " + " + ", ".join(b.folded))
        shape = "x".join(map(str, b.shape))
        lines = [b.name, shape] if b.kind == "input" else [b.name, what, shape]
        out.append(f'    n{b.id}["{_label(*lines)}"]')
    for b in blocks(a):
        out += [f"    n{src} --> n{b.id}" for src in b.inputs]
    return "\n".join(out) + "\n"
