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

from .errors import LayerError
from .layers.geometry import Dim, windows
from .limits import MAX_WORKED_CELLS, MAX_WORKED_TERMS, MAX_WORKED_VALUE

Number = int | float
Matrix = list[list[Number]]
MAX_CELLS = MAX_WORKED_CELLS  # "small matrices only": keeps --explain output and runtime sane


class MatrixError(ValueError):
    """Malformed matrix text; the message says where."""


def _number(tok: str, row: int, col: int) -> Number:
    where = f"(row {row}, column {col})"
    if len(tok) > 40:
        raise MatrixError(f"{tok[:20]!r}… ({len(tok)} characters) is too long for a value {where}")
    v: Number
    try:
        v = int(tok)
    except ValueError:
        try:
            v = float(tok)
        except ValueError:
            raise MatrixError(f"{tok!r} is not a number {where}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise MatrixError(f"{tok!r} is not a finite number {where}")
    if abs(v) > MAX_WORKED_VALUE:
        raise MatrixError(f"{tok} is too large for a worked example {where}; values are at most 10^15 in size")
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


def parse_channels(text: str) -> list[Matrix]:
    """One matrix per channel: channels are separated by blank lines (or `|` inline).

    `"1 2; 3 4 | 5 6; 7 8"` is a 2x2 input with 2 channels; text without a separator is one channel.
    """
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    blocks = [b for b in re.split(r"\n\s*\n|\|", text) if b.strip()]
    if not blocks:
        raise MatrixError("no numbers found")
    channels = []
    for c, block in enumerate(blocks, 1):
        try:
            channels.append(parse_matrix(block))
        except MatrixError as exc:
            raise MatrixError(f"channel {c}: {exc}" if len(blocks) > 1 else str(exc)) from None
    shape = (len(channels[0]), len(channels[0][0]))
    for c, m in enumerate(channels[1:], 2):
        if (len(m), len(m[0])) != shape:
            raise MatrixError(f"channel {c} is {len(m)}x{len(m[0])} but channel 1 is {shape[0]}x{shape[1]}; "
                              "channels are separated by blank lines or |")
    if len(channels) * shape[0] * shape[1] > MAX_CELLS:
        raise MatrixError(f"{len(channels)} channels of {shape[0]}x{shape[1]} are too many values for a worked "
                          f"example (at most {MAX_CELLS:,})")
    return channels


def num(v: Number) -> str:
    """1 → '1', 2.5 → '2.5', 1/3 → '0.3333' (enough for hand checking, never '1.0')."""
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4f}".rstrip("0")
    return str(v)


def format_matrix(m: Matrix | list[Matrix]) -> str:
    """Right-aligned columns, whitespace separated, channels apart by a blank line: the output is
    itself a valid --values input."""
    channels = as_channels(m)
    width = max(len(num(v)) for ch in channels for row in ch for v in row)
    return "\n\n".join("\n".join(" ".join(num(v).rjust(width) for v in row) for row in ch) for ch in channels)


def as_channels(m: Matrix | list[Matrix]) -> list[Matrix]:
    """A matrix is one channel; a list of matrices is several."""
    if m and m[0] and isinstance(m[0][0], list):
        return m  # type: ignore[return-value]
    return [m]  # type: ignore[list-item]


@dataclass
class Worked:
    """The result of a worked example: output matrix, window grid and per-cell derivations."""

    output: Matrix | list[Matrix]  # one matrix, or one per channel (pooling a multi-channel input)
    dims: list[Dim]  # per spatial dim: output size, padding, and the size derivation
    cells: list[str] = field(default_factory=list)  # one derivation per output cell, row by row
    warnings: list[str] = field(default_factory=list)

    @property
    def size_explain(self) -> list[str]:
        return [line for d in self.dims for line in d.explain]

    @property
    def shape(self) -> list[int]:
        """[H, W], or [C, H, W] for several channels."""
        chans = as_channels(self.output)
        hw = [len(chans[0]), len(chans[0][0])]
        return hw if len(chans) == 1 else [len(chans), *hw]

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"output_shape": self.shape, "output": self.output,
                             "padding": [[x.pad_begin, x.pad_end] for x in self.dims]}
        if explain:
            d["explain"] = self.size_explain + self.cells
        return d


def _pair(v: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def _padding(padding: Any) -> Any:
    """Same forms as the spec's `padding` (int, [ph, pw], [t, b, l, r], 'same', 'valid')."""
    from .layers.params import parse_padding

    return parse_padding(padding, 2)


def _grid(x: Matrix, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
          padding: Any, ceil_mode: bool = False, pooling: bool = False, channels: int = 1) -> tuple[list[Dim], list[str]]:
    """The window grid, refused (LayerError `too-large`) before any cell is computed when the output or
    the derivations would be too big to write out: padding 2000 around a 3x3 matrix, a 4M window."""
    dims, warnings = windows((len(x), len(x[0])), kernel, stride, dilation, _padding(padding), ceil_mode, pooling)
    cells = dims[0].out * dims[1].out
    if cells > MAX_WORKED_CELLS:
        raise LayerError(f"the output would be {dims[0].out:,}x{dims[1].out:,} = {cells:,} values; a worked example "
                         f"computes at most {MAX_WORKED_CELLS:,} (less padding, or a larger stride; without --values "
                         "the calculator gives the shape alone)", "too-large")
    terms = cells * kernel[0] * kernel[1] * channels
    if terms > MAX_WORKED_TERMS:
        each = f"a {kernel[0]:,}x{kernel[1]:,} window" + (f" on {channels} channels" if channels > 1 else "")
        raise LayerError(f"the derivations would write out {terms:,} terms ({cells:,} output value"
                         f"{'s' if cells > 1 else ''} of {each}); a worked example writes at most "
                         f"{MAX_WORKED_TERMS:,} (a smaller kernel or fewer output values)", "too-large")
    return list(dims), list(warnings)


def _taps(dim: Dim, o: int, k: int, s: int, d: int) -> list[int]:
    """Input indices (may be outside 0..I−1, i.e. in the padding) read by output index o."""
    start = o * s - dim.pad_begin
    return [start + t * d for t in range(k)]


def conv2d(x: Matrix | list[Matrix], w: Matrix | list[Matrix], stride: int | tuple[int, int] = 1,
           padding: Any = 0, dilation: int | tuple[int, int] = 1, bias: Number = 0) -> Worked:
    """Slide filter `w` over `x` (zero padding) and write each cell's dot product out.

    `x` and `w` are one matrix each, or one matrix per channel (the filter then needs as many
    channels as the input, and each output cell sums over all of them, as on the slides).
    Raises LayerError (kernel larger than the padded input, channel mismatch) like the layer rules.
    """
    xs, ws = as_channels(x), as_channels(w)
    if len(xs) != len(ws):
        raise LayerError(f"the filter has {len(ws)} channel{'s' if len(ws) > 1 else ''} but the input has "
                         f"{len(xs)}; a filter spans every input channel", "shape-mismatch")
    kh, kw = len(ws[0]), len(ws[0][0])
    s, dl = _pair(stride), _pair(dilation)
    dims, warnings = _grid(xs[0], (kh, kw), s, dl, padding, channels=len(xs))
    h, wd = len(xs[0]), len(xs[0][0])
    out: Matrix = []
    cells = []
    for oi in range(dims[0].out):
        rows = _taps(dims[0], oi, kh, s[0], dl[0])
        out_row = []
        for oj in range(dims[1].out):
            cols = _taps(dims[1], oj, kw, s[1], dl[1])
            total: Number = bias
            groups = []
            for xc, wc in zip(xs, ws, strict=True):
                terms = []
                for a, r in enumerate(rows):
                    for b, c in enumerate(cols):
                        v = xc[r][c] if 0 <= r < h and 0 <= c < wd else 0
                        total += v * wc[a][b]
                        terms.append(f"({num(v)}x{num(wc[a][b])})")
                groups.append(" + ".join(terms))
            text = groups[0] if len(groups) == 1 else " + ".join(f"[{g}]" for g in groups)
            if bias:
                text += f" + {num(bias)}"
            out_row.append(total)
            cells.append(f"out({oi + 1},{oj + 1}) = {text} = {num(total)}")
        out.append(out_row)
    return Worked(out, dims, cells, warnings)


def pool2d(x: Matrix | list[Matrix], kernel: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
           padding: Any = 0, ceil_mode: bool = False, op: str = "max") -> Worked:
    """Max or average pooling of `x` (each channel on its own), each output cell with its window.

    Padding never wins a max (PyTorch pads with −∞). Average pooling follows PyTorch's defaults
    for explicit padding (zeros count; windows cut by ceil_mode do not) and TensorFlow for
    'same' (only real values count).
    """
    xs = as_channels(x)
    k = _pair(kernel)
    s = _pair(stride) if stride is not None else k
    dims, warnings = _grid(xs[0], k, s, (1, 1), padding, ceil_mode, pooling=True, channels=len(xs))
    h, wd = len(xs[0]), len(xs[0][0])
    same = isinstance(padding, str) and padding.lower() == "same"
    outs: list[Matrix] = []
    cells = []
    for ch, xc in enumerate(xs, 1):
        out: Matrix = []
        prefix = f"channel {ch}: " if len(xs) > 1 else ""
        for oi in range(dims[0].out):
            rows = _taps(dims[0], oi, k[0], s[0], 1)
            out_row: list[Number] = []
            for oj in range(dims[1].out):
                cols = _taps(dims[1], oj, k[1], s[1], 1)
                real = [xc[r][c] for r in rows if 0 <= r < h for c in cols if 0 <= c < wd]
                if op == "max":
                    v: Number = max(real)
                    text = f"max({', '.join(map(num, real))}) = {num(v)}"
                else:
                    if same:
                        vals = real
                    else:  # PyTorch: the window clipped to the padded input; padding zeros count
                        vals = [xc[r][c] if 0 <= r < h and 0 <= c < wd else 0
                                for r in rows if r < h + dims[0].pad_end for c in cols if c < wd + dims[1].pad_end]
                    total, n = sum(vals), len(vals)
                    v = total / n if total % n else total // n
                    text = f"({' + '.join(map(num, vals))})/{n} = {num(v)}"
                out_row.append(v)
                cells.append(f"{prefix}out({oi + 1},{oj + 1}) = {text}")
            out.append(out_row)
        outs.append(out)
    return Worked(outs[0] if len(outs) == 1 else outs, dims, cells, warnings)
