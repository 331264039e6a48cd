"""Pure-SVG drawing: every block a cuboid, as in the lecture slides.

Height follows H, the oblique depth follows W and the width follows the channels, all on log
scales so that a 227x227x3 input and a 1x1x2048 feature map both fit on one page. Flat vectors
(dense layers) are drawn as tall thin bars whose height follows the number of features.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ..errors import visible
from . import Block, blocks

if TYPE_CHECKING:
    from ..analysis import Analysis

COLORS = {  # front face fill per family; top and side faces are shaded from it
    "conv": "#7fb3e0", "pool": "#f2b56b", "dense": "#b59ad8", "merge": "#b8c4b8", "input": "#9fd39f",
    "other": "#d6d6d6",
}
FONT = "font-family=\"Helvetica, Arial, sans-serif\""
GAP = 30  # between columns
STUB = 16  # left margin of continued rows, for the incoming arrows
ROW_GAP = 24
LABEL_LINES = 4
LINE = 13


def family(kind: str) -> str:
    if "conv" in kind:
        return "conv"
    if "pool" in kind:
        return "pool"
    if kind == "dense":
        return "dense"
    if kind in ("add", "concat", "multiply"):
        return "merge"
    return "input" if kind == "input" else "other"


def geometry(b: Block) -> tuple[float, float, float]:
    """(front height, front width, oblique depth) in pixels."""
    t = b.tensor
    if t.flat:
        return 14 + 12 * math.log2(max(t.c, 1)), 9.0, 6.0
    h = t.spatial[0]
    w = t.spatial[1] if len(t.spatial) > 1 else 1
    return 12 + 20 * math.log2(h), 4 + 5 * math.log2(max(t.c, 1)), 5 + 7 * math.log2(w)


def _shade(color: str, f: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    mix = (lambda v: round(255 - (255 - v) * f)) if f < 1 else (lambda v: round(v / f))
    return "#" + "".join(f"{max(0, min(255, mix(v))):02x}" for v in (r, g, b))


def _xml(text: str) -> str:
    """Text for an SVG text node: visible first (XML 1.0 has no way to write most control
    characters, so one would make the file ill-formed), then XML's `&`, `<` and `>`."""
    return escape(visible(text))


def _text_width(s: str, size: float = 11) -> float:
    return 0.6 * size * len(s)


def _clip(name: str, n: int = 22) -> str:
    """Long dotted names keep their last components: inception3a.branch2.1.conv → …branch2.1.conv."""
    parts = name.split(".")
    while len(".".join(parts)) > n and len(parts) > 1:
        parts = parts[1:]
    short = ".".join(parts)
    return name if short == name else "…" + short[-n:]


def render(a: Analysis, wrap: float = 1800) -> str:
    """The SVG text; columns wrap into a new row of lanes past `wrap` pixels (0: one long row)."""
    bs = blocks(a)
    geo = {b.id: geometry(b) for b in bs}
    labels = {b.id: [_clip(b.name), "" if b.kind == "input" else b.caption,
                     "+ " + ", ".join(b.folded) if b.folded else "", "x".join(map(str, b.shape))] for b in bs}
    ncols = max(b.column for b in bs) + 1
    nlanes = max(b.lane for b in bs) + 1
    col_w = [0.0] * ncols
    for b in bs:
        h, w, d = geo[b.id]
        label_w = max(_text_width(s) for s in labels[b.id])
        col_w[b.column] = max(col_w[b.column], w + d * 0.7, label_w)
    x0, row = [0.0] * ncols, [0] * ncols  # columns flow into rows like wrapped text
    x = 24.0
    for c in range(ncols):
        if wrap and c and x + col_w[c] + 24 > wrap:
            row[c] = row[c - 1] + 1
            x = 24.0 + STUB
        elif c:
            row[c] = row[c - 1]
        x0[c] = x
        x += col_w[c] + GAP
    tallest = [max((geo[b.id][0] + geo[b.id][2] * 0.5 for b in bs if b.lane == lane), default=0.0)
               for lane in range(nlanes)]
    title_h = 40
    lane_top = [float(title_h)]
    for lane in range(nlanes):
        lane_top.append(lane_top[-1] + tallest[lane] + LABEL_LINES * LINE + 30)
    row_h = lane_top[-1] - title_h + ROW_GAP
    width = max(x0[c] + col_w[c] for c in range(ncols)) + 24 + (STUB if max(row) else 0)
    height = lane_top[-1] + max(row) * row_h + 4

    def top_of(lane: int, col: int) -> float:
        return lane_top[lane] + row[col] * row_h

    centre: dict[int, tuple[float, float]] = {}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="24" y="26" {FONT} font-size="16" font-weight="bold">{_xml(a.name)}</text>',
           f'<text x="{width - 24:.0f}" y="26" {FONT} font-size="11" fill="#666" text-anchor="end">'
           f'{_xml(_totals(a))}</text>']
    boxes, edges = [], []
    for b in bs:
        h, w, d = geo[b.id]
        dx, dy = d * 0.7, d * 0.5
        cx = x0[b.column] + (col_w[b.column] - (w + dx)) / 2  # front face left
        mid = top_of(b.lane, b.column) + tallest[b.lane] / 2 + dy / 2 + 10  # front face vertical centre
        top = mid - h / 2
        centre[b.id] = (cx, mid)
        fill = COLORS[family(b.kind)]
        title = _xml(f"{' → '.join(b.layer_names) or b.name}: {'x'.join(map(str, b.shape))}")
        boxes.append(f'<g><title>{title}</title>'
                     f'<path d="M{cx:.1f},{top:.1f} l{dx:.1f},{-dy:.1f} h{w:.1f} l{-dx:.1f},{dy:.1f} z" '
                     f'fill="{_shade(fill, 0.55)}" stroke="#333" stroke-width="0.7"/>'
                     f'<path d="M{cx + w:.1f},{top:.1f} l{dx:.1f},{-dy:.1f} v{h:.1f} l{-dx:.1f},{dy:.1f} z" '
                     f'fill="{_shade(fill, 1.25)}" stroke="#333" stroke-width="0.7"/>'
                     f'<rect x="{cx:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
                     f'stroke="#333" stroke-width="0.7"/>')
        ly = top_of(b.lane, b.column) + tallest[b.lane] + 26  # labels share a baseline per lane
        lx = x0[b.column] + col_w[b.column] / 2
        styles = ('font-weight="bold"', 'fill="#444"', 'fill="#444"', 'fill="#1a5fa0"')
        for i, (text, style) in enumerate(zip(labels[b.id], styles, strict=True)):
            if text:
                boxes.append(f'<text x="{lx:.1f}" y="{ly + i * LINE:.1f}" {FONT} font-size="11" {style} '
                             f'text-anchor="middle">{_xml(text)}</text>')
        boxes.append("</g>")
    occupied = {(b.column, b.lane) for b in bs}
    for b in bs:
        for src in b.inputs:
            s_ = bs[src]
            if row[s_.column] != row[b.column]:
                edges.append(_wrapped_edge(s_, b, geo, centre, width))
                continue
            between = range(s_.column + 1, b.column)
            blocked = any((c, b.lane) in occupied for c in between)
            src_free = not any((c, s_.lane) in occupied for c in between)
            edges.append(_edge(s_, b, geo, centre, top_of(b.lane, b.column) + 6 if blocked else None, src_free,
                               not blocked))
    out += edges + boxes + ["</svg>"]
    return "\n".join(out) + "\n"


def _wrapped_edge(s: Block, t: Block, geo: dict, centre: dict, width: float) -> str:
    """An arrow that continues on a later row: a stub out to the right margin, one in from the left."""
    sh, sw, sd = geo[s.id]
    x1, y1 = centre[s.id][0] + sw + sd * 0.35, centre[s.id][1]
    x2, y2 = centre[t.id][0] - 3, centre[t.id][1]
    style = 'fill="none" stroke="#555" stroke-width="1.2" stroke-dasharray="4 3"'
    hover = f"<title>{_xml(s.name)} → {_xml(t.name)}</title>"
    return (f'<path d="M{x1:.1f},{y1:.1f} L{width - 8:.1f},{y1:.1f}" {style}>{hover}</path>'
            f'<path d="M8,{y2:.1f} L{x2:.1f},{y2:.1f}" {style} marker-end="url(#arrow)">{hover}</path>')


def _edge(s: Block, t: Block, geo: dict, centre: dict, arc: float | None, src_free: bool, dst_free: bool) -> str:
    """An arrow between blocks; a long one between lanes runs along a free lane and turns near one end."""
    sh, sw, sd = geo[s.id]
    x1, y1 = centre[s.id][0] + sw + sd * 0.35, centre[s.id][1]
    x2, y2 = centre[t.id][0] - 3, centre[t.id][1]
    style = 'fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"'
    if s.lane == t.lane and arc is not None:  # a skip connection past other blocks: arc over the lane
        top = arc
        return (f'<path d="M{x1:.1f},{y1:.1f} C{x1 + 20:.1f},{top:.1f} {x2 - 20:.1f},{top:.1f} {x2:.1f},{y2:.1f}" '
                f'{style} stroke-dasharray="4 3"/>')
    if abs(y1 - y2) < 0.5:
        return f'<path d="M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}" {style}/>'
    a, b = x1, x2
    if t.column - s.column > 1 and src_free:
        a = x2 - 60  # along the source lane, then turn
    elif t.column - s.column > 1 and dst_free:
        b = x1 + 60  # turn first, then along the target lane
    mx = (a + b) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} L{a:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {b:.1f},{y2:.1f} '
            f'L{x2:.1f},{y2:.1f}" {style}/>')


def _totals(a: Analysis) -> str:
    t = a.totals
    if a.network.named_inputs:
        inputs = "inputs " + ", ".join(f"{n} {'x'.join(map(str, s))}" for n, s in a.inputs)
    else:
        inputs = f"input {'x'.join(map(str, a.input_shape))}"
    return f"{t['params']:,} params · {t['macs']:,} MACs · {inputs}"
