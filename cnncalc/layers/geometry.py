"""Output-size rules of sliding windows (convolution and pooling), one spatial dimension at a time.

The slides' (N − F + 2P)/S + 1, in the frameworks' exact forms:
- explicit padding (PyTorch, Keras VALID): floor((I + Pb + Pe − D·(F − 1) − 1)/S) + 1;
- PyTorch pooling with ceil_mode: the same rounded up, minus one if the last window would start
  beyond the input plus the begin padding;
- TensorFlow/Keras SAME: ⌈I/S⌉, the total padding split with the extra pixel at the end;
- Keras causal (1-D): D·(F − 1) zeros before the sequence, none after, so no output sees the future.

A `Dim` holds the numbers; its `formula` and `explain` text are written from them on demand, for
--explain and for the warning when a stride does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import LayerError

if TYPE_CHECKING:
    from fractions import Fraction

DIM_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
ROWS = {"H": "row", "W": "column", "L": "position", "D": "slice"}
_BEGIN_END = {"H": ("top", "bottom"), "W": ("left", "right"), "D": ("front", "back")}


@dataclass(frozen=True, slots=True)
class Dim:
    """One spatial dimension of a sliding window's output, and the numbers it came from."""

    name: str  # H, W, L, D, or N for the bare calculator
    size: int  # input size
    kernel: int
    stride: int
    dilation: int
    out: int
    pad_begin: int
    pad_end: int
    mode: str  # "floor", "ceil" (PyTorch ceil_mode), "same" (TensorFlow) or "causal" (Keras, floored)
    unread: int  # real input rows no window reads (at the end)

    @property
    def k_eff(self) -> int:
        """The kernel's extent with dilation: D·(F − 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def ratio(self) -> float:
        """(I + P − F)/S + 1 before rounding (2.33 for the slides' 7-3-3)."""
        return (self.size + self.pad_begin + self.pad_end - self.k_eff) / self.stride + 1

    @property
    def exact(self) -> bool:
        """The windows tile the padded input exactly (no rounding)."""
        return (self.size + self.pad_begin + self.pad_end - self.k_eff) % self.stride == 0

    @property
    def formula(self) -> str:
        """The output-size derivation: `(7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2`, `⌈7/2⌉ = 4`."""
        if self.mode == "same":
            return f"⌈{self.size}/{self.stride}⌉ = {self.out}"
        kt = str(self.kernel) if self.dilation == 1 else f"{self.dilation}·({self.kernel}−1)+1"
        pb, pe = self.pad_begin, self.pad_end
        pads = f"2·{pb}" if pb == pe else f"{pb} + {pe}"
        expr = f"({self.size} − {kt} + {pads})/{self.stride} + 1" if pb or pe else \
            f"({self.size} − {kt})/{self.stride} + 1"
        if self.exact:
            return f"{expr} = {self.out}"
        from fractions import Fraction  # only for --explain: not imported by a plain `show`

        rounding = "⌈⌉ ceil_mode" if self.mode == "ceil" else "⌊⌋ floor"
        exact = Fraction(self.size + self.pad_begin + self.pad_end - self.k_eff, self.stride) + 1
        return f"{expr} = {ratio_text(exact)} → {rounding} = {self.out}"

    @property
    def explain(self) -> list[str]:
        """The derivation lines of this dimension (SAME adds how its padding is split)."""
        lines = []
        if self.mode == "causal":
            kt = f"({self.kernel} − 1)" if self.dilation == 1 else f"{self.dilation}·({self.kernel} − 1)"
            lines.append(f"causal ({self.name}): pad {kt} = {self.pad_begin} at the start, 0 at the end")
        if self.mode == "same":
            kt = str(self.kernel) if self.dilation == 1 else f"{self.dilation}·({self.kernel}−1)+1"
            begin, end = _BEGIN_END.get(self.name, ("begin", "end"))
            lines.append(f"SAME ({self.name}): total pad = max((⌈{self.size}/{self.stride}⌉ − 1)·{self.stride} + {kt}"
                         f" − {self.size}, 0) = {self.pad_begin + self.pad_end} → {begin} {self.pad_begin}, "
                         f"{end} {self.pad_end}")
        lines.append(f"{self.name}_out = {self.formula}")
        return lines


def same_padding(size: int, k_eff: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow SAME: output ⌈I/S⌉; total pad split with the extra on the bottom/right."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def ratio_text(ratio: float | Fraction) -> str:
    """2.33, but 2.99998 rather than a misleading 3.00 when the value is not a whole number. Digits
    come from integer arithmetic: (99999999999999999999 − 2)/3 + 1 is 33333333333333333333.33, not
    a float's 33333333333333331968.00."""
    from fractions import Fraction

    r = Fraction(ratio)
    whole, rest = divmod(abs(r.numerator), r.denominator)
    sign = "-" if r < 0 else ""
    for digits in range(2, 10):
        scaled = round(Fraction(rest * 10**digits, r.denominator))
        if 0 < scaled < 10**digits or rest == 0:
            return f"{sign}{whole}.{scaled:0{digits}d}"
    return f"{sign}{whole}.{rest * 10**10 // r.denominator:010d}"


def window_dim(
    name: str, size: int, kernel: int, stride: int, dilation: int, padding: tuple[int, int] | str,
    ceil_mode: bool = False, pooling: bool = False,
) -> Dim:
    """Sliding-window output size along one dim; raises LayerError when no window fits."""
    k_eff = dilation * (kernel - 1) + 1
    if padding == "same":
        out, pb, pe = same_padding(size, k_eff, stride)
        return Dim(name, size, kernel, stride, dilation, out, pb, pe, "same",
                   max(0, size + pb - (out - 1) * stride - k_eff))
    assert not isinstance(padding, str)
    pb, pe = padding
    padded = size + pb + pe
    if pooling and (pb > kernel // 2 or pe > kernel // 2):
        # PyTorch's pool2d_shape_check compares with the undilated kernel: kW/2 >= padW
        raise LayerError(f"padding {max(pb, pe)} is more than half the pooling kernel {kernel} "
                         f"(PyTorch refuses this); use padding ≤ {kernel // 2}", "invalid-value", key="padding")
    num = padded - k_eff
    if ceil_mode:
        # PyTorch's pooling_output_shape: round up, but the last window must start inside the
        # input or the begin padding; a window may overhang the end, even past a small input.
        out = -(-num // stride) + 1
        if (out - 1) * stride >= size + pb:
            out -= 1
    else:
        out = num // stride + 1
    if out < 1 or (k_eff > padded and not ceil_mode):
        raise LayerError(f"kernel {k_eff} is larger than the padded input {padded} along {name} "
                         f"({size} + padding {pb + pe}); use a smaller kernel or more padding",
                         "kernel-too-large", key="kernel")
    unread = max(0, padded - (out - 1) * stride - k_eff - pe)
    return Dim(name, size, kernel, stride, dilation, out, pb, pe, "ceil" if ceil_mode else "floor", unread)


def windows(
    sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
    padding: tuple[tuple[int, int], ...] | str, ceil_mode: bool = False, pooling: bool = False,
) -> tuple[tuple[Dim, ...], tuple[str, ...]]:
    """Every spatial dim at once, and the warnings for dims whose windows stop short of the input."""
    names = DIM_NAMES[len(sizes)]
    if padding == "causal":  # all the padding at the start: an explicit padding, shown as causal
        pads = tuple((d * (k - 1), 0) for k, d in zip(kernel, dilation, strict=True))
        dims = tuple(replace(d, mode="causal") for d in windows(sizes, kernel, stride, dilation, pads)[0])
        return dims, unread_warnings(dims)
    same = padding == "same"
    dims = tuple(window_dim(name, sizes[i], kernel[i], stride[i], dilation[i],
                            "same" if same else padding[i], ceil_mode, pooling)  # type: ignore[arg-type]
                 for i, name in enumerate(names))
    return dims, unread_warnings(dims)


def unread_warnings(dims: tuple[Dim, ...]) -> tuple[str, ...]:
    """'stride does not fit' warnings: the last rows of the input are never read. A stride larger
    than the kernel skips rows between windows by design; only a grid that stops short is news.
    Identical dims (a square input and kernel) are reported once, naming both."""
    short = [d for d in dims if d.unread and d.stride <= d.k_eff]
    out = []
    seen: dict[tuple[int, ...], list[str]] = {}
    for d in short:
        seen.setdefault((d.size, d.kernel, d.stride, d.dilation, d.pad_begin, d.pad_end), []).append(d.name)
    for d in short:
        names = seen[(d.size, d.kernel, d.stride, d.dilation, d.pad_begin, d.pad_end)]
        if names[0] != d.name:
            continue
        nouns = " and ".join(ROWS.get(n, "row") + ("s" if d.unread > 1 else "") for n in names)
        verb = "are" if d.unread > 1 or len(names) > 1 else "is"
        out.append(f"stride {d.stride} does not fit along {' and '.join(names)}: {d.formula}; the last {d.unread} "
                   f"input {nouns} {verb} never read ({fits(d)})")
    return tuple(out)


def fits(d: Dim) -> str:
    """What would make the windows tile the input: the nearest input sizes, or the padding to add."""
    span = d.size + d.pad_begin + d.pad_end - d.k_eff  # must be a multiple of the stride
    smaller = d.size - span % d.stride
    larger = smaller + d.stride
    extra = d.stride - span % d.stride
    sizes = f"input {smaller} or {larger}" if smaller > 0 else f"input {larger}"
    return f"for an exact fit use {sizes}, or {extra} more padding"
