"""Worked numeric examples: slide a real filter or pooling window over a small matrix, by hand.

Pure Python on purpose (matrices on a slide are tiny; no numpy). The window grid (output size,
where padding goes) comes from `layers.geometry.windows`, the same rule the layer registry uses,
so a worked example can never disagree with `cnncalc conv`/`show` about the output size.

Convolution here is what CNN layers compute (cross-correlation: the filter is not flipped),
matching torch.nn.functional.conv2d and the slides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .layers.geometry import Dim, windows

Number = int | float
Matrix = list[list[Number]]
MAX_CELLS = 10_000  # "small matrices only": keeps --explain output and runtime sane


class MatrixError(ValueError):
    """Malformed matrix text; the message says where."""


def _number(tok: str, row: int, col: int) -> Number:
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        v = float(tok)
    except ValueError:
        raise MatrixError(f"{tok!r} is not a number (row {row}, column {col})") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise MatrixError(f"{tok!r} is not a finite number (row {row}, column {col})")
    return v


def parse_matrix(text: str) -> Matrix:
    """Rows on separate lines or separated by ';', values by spaces, tabs or commas.

    `[[1, 2], [3, 4]]` (JSON/Python style) is accepted too. `#` starts a comment.
    """
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    if "[" in text:  # [[1, 2], [3, 4]]: one row per inner bracket pair
        inner = re.findall(r"\[([^\[\]]*)\]", text)
        text = "\n".join(inner)
    rows: Matrix = []
    for chunk in re.split(r"[;\n]", text):
        toks = [t for t in re.split(r"[\s,]+", chunk.strip()) if t]
        if toks:
            rows.append([_number(t, len(rows) + 1, j + 1) for j, t in enumerate(toks)])
    if not rows:
        raise MatrixError("no numbers found")
    for i, row in enumerate(rows[1:], 2):
        if len(row) != len(rows[0]):
            raise MatrixError(f"row {i} has {len(row)} values but row 1 has {len(rows[0])}; "
                              "every row needs the same length")
    if len(rows) * len(rows[0]) > MAX_CELLS:
        raise MatrixError(f"{len(rows)}x{len(rows[0])} is too large for a worked example "
                          f"(at most {MAX_CELLS:,} values)")
    return rows


def num(v: Number) -> str:
    """1 → '1', 2.5 → '2.5', 1/3 → '0.3333' (enough for hand checking, never '1.0')."""
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4f}".rstrip("0")
    return str(v)


def format_matrix(m: Matrix) -> str:
    """Right-aligned columns, whitespace separated: the output is itself a valid --values input."""
    cells = [[num(v) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


@dataclass
class Worked:
    """The result of a worked example: output matrix, window grid and per-cell derivations."""

    output: Matrix
    dims: list[Dim]  # per spatial dim: output size, padding, and the size derivation
    cells: list[str] = field(default_factory=list)  # one derivation per output cell, row by row
    warnings: list[str] = field(default_factory=list)

    @property
    def size_explain(self) -> list[str]:
        return [line for d in self.dims for line in d.explain]

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"output_shape": [len(self.output), len(self.output[0])], "output": self.output,
                             "padding": [[x.pad_begin, x.pad_end] for x in self.dims]}
        if explain:
            d["explain"] = self.size_explain + self.cells
        return d


def _pair(v: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def _padding(padding: Any) -> Any:
    """Same forms as the spec's `padding` (int, [ph, pw], [t, b, l, r], 'same', 'valid')."""
    from .layers.base import parse_padding

    return parse_padding(padding, 2)


def _grid(x: Matrix, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
          padding: Any, ceil_mode: bool = False, pooling: bool = False) -> tuple[list[Dim], list[str]]:
    return windows((len(x), len(x[0])), kernel, stride, dilation, _padding(padding), ceil_mode, pooling)


def _taps(dim: Dim, o: int, k: int, s: int, d: int) -> list[int]:
    """Input indices (may be outside 0..I−1, i.e. in the padding) read by output index o."""
    start = o * s - dim.pad_begin
    return [start + t * d for t in range(k)]


def conv2d(x: Matrix, w: Matrix, stride: int | tuple[int, int] = 1, padding: Any = 0,
           dilation: int | tuple[int, int] = 1, bias: Number = 0) -> Worked:
    """Slide filter `w` over `x` (zero padding) and write each cell's dot product out.

    Raises LayerError (kernel larger than the padded input) like the layer rules do.
    """
    kh, kw = len(w), len(w[0])
    s, dl = _pair(stride), _pair(dilation)
    dims, warnings = _grid(x, (kh, kw), s, dl, padding)
    h, wd = len(x), len(x[0])
    out: Matrix = []
    cells = []
    for oi in range(dims[0].out):
        rows = _taps(dims[0], oi, kh, s[0], dl[0])
        out_row = []
        for oj in range(dims[1].out):
            cols = _taps(dims[1], oj, kw, s[1], dl[1])
            total: Number = bias
            terms = []
            for a, r in enumerate(rows):
                for b, c in enumerate(cols):
                    v = x[r][c] if 0 <= r < h and 0 <= c < wd else 0
                    total += v * w[a][b]
                    terms.append(f"({num(v)}x{num(w[a][b])})")
            if bias:
                terms.append(num(bias))
            out_row.append(total)
            cells.append(f"out({oi + 1},{oj + 1}) = {' + '.join(terms)} = {num(total)}")
        out.append(out_row)
    return Worked(out, dims, cells, warnings)


def pool2d(x: Matrix, kernel: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
           padding: Any = 0, ceil_mode: bool = False, op: str = "max") -> Worked:
    """Max or average pooling of `x`, each output cell with its window written out.

    Padding never wins a max (PyTorch pads with −∞). Average pooling follows PyTorch's defaults
    for explicit padding (zeros count; windows cut by ceil_mode do not) and TensorFlow for
    'same' (only real values count).
    """
    k = _pair(kernel)
    s = _pair(stride) if stride is not None else k
    dims, warnings = _grid(x, k, s, (1, 1), padding, ceil_mode, pooling=True)
    h, wd = len(x), len(x[0])
    same = isinstance(padding, str) and padding.lower() == "same"
    out: Matrix = []
    cells = []
    for oi in range(dims[0].out):
        rows = _taps(dims[0], oi, k[0], s[0], 1)
        out_row: list[Number] = []
        for oj in range(dims[1].out):
            cols = _taps(dims[1], oj, k[1], s[1], 1)
            real = [x[r][c] for r in rows if 0 <= r < h for c in cols if 0 <= c < wd]
            if op == "max":
                v: Number = max(real)
                text = f"max({', '.join(map(num, real))}) = {num(v)}"
            else:
                if same:
                    vals = real
                else:  # PyTorch: the window clipped to the padded input; padding zeros count
                    vals = [x[r][c] if 0 <= r < h and 0 <= c < wd else 0
                            for r in rows if r < h + dims[0].pad_end for c in cols if c < wd + dims[1].pad_end]
                total, n = sum(vals), len(vals)
                v = total / n if total % n else total // n
                text = f"({' + '.join(map(num, vals))})/{n} = {num(v)}"
            out_row.append(v)
            cells.append(f"out({oi + 1},{oj + 1}) = {text}")
        out.append(out_row)
    return Worked(out, dims, cells, warnings)
