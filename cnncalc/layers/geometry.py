"""Output-size rules of sliding windows, per spatial dimension, with their derivations."""

from __future__ import annotations

from ..errors import LayerError

DIM_NAMES = {1: ("L",), 2: ("H", "W")}
ROWS = {"H": "row", "W": "column", "L": "position"}


class Dim:
    """One spatial dimension of a sliding window's output."""

    __slots__ = ("out", "pad_begin", "pad_end", "unread", "explain", "ratio", "formula")

    def __init__(self, out: int, pad_begin: int, pad_end: int, unread: int, explain: list[str], ratio: float,
                 formula: str):
        self.out = out
        self.pad_begin = pad_begin
        self.pad_end = pad_end
        self.unread = unread  # real input rows never read by any window (trailing)
        self.explain = explain
        self.ratio = ratio  # (I + P - F)/S + 1 before rounding
        self.formula = formula  # the output-size derivation, e.g. "(7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2"


def same_padding(size: int, k_eff: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow SAME: output ceil(I/S); total pad split with the extra on the bottom/right."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def ratio_text(ratio: float) -> str:
    """2.33, but 2.99998 rather than a misleading 3.00 when the value is not a whole number."""
    for digits in range(2, 10):
        text = f"{ratio:.{digits}f}"
        if float(text) != round(ratio) or ratio == round(ratio):
            return text
    return f"{ratio:.10f}"


def _sides(pb: int, pe: int) -> str:
    return f"2·{pb}" if pb == pe else f"{pb} + {pe}"


def window_dim(
    dim: str, size: int, kernel: int, stride: int, dilation: int, padding: tuple[int, int] | str,
    ceil_mode: bool = False, pooling: bool = False, explain: bool = True,
) -> Dim:
    """Sliding-window output size along one dim (conv and pooling).

    Conv and floor-mode pooling: floor((I + Pb + Pe − D·(F−1) − 1)/S) + 1.
    ceil_mode (PyTorch pooling): ceil(...) + 1, minus one if the last window would start
    beyond the input plus the begin padding.

    `explain=False` leaves `explain` empty and `formula` blank (the layers' fast path: the text
    costs more than the arithmetic); they are filled anyway when rows go unread, for the warning.
    """
    k_eff = dilation * (kernel - 1) + 1
    if padding == "same":
        out, pb, pe = same_padding(size, k_eff, stride)
        unread = max(0, size + pb - (out - 1) * stride - k_eff)
        d = Dim(out, pb, pe, unread, [], (size + pb + pe - k_eff) / stride + 1, "")
        if explain or unread:
            _describe_same(d, dim, size, kernel, stride, dilation)
        return d
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
        raise LayerError(f"kernel {k_eff} is larger than the padded input {padded} along {dim} "
                         f"({size} + padding {pb + pe}); use a smaller kernel or more padding",
                         "kernel-too-large", key="kernel")
    unread = max(0, padded - (out - 1) * stride - k_eff - pe)
    d = Dim(out, pb, pe, unread, [], num / stride + 1, "")
    if explain or unread:
        _describe_window(d, dim, size, kernel, stride, dilation, ceil_mode)
    return d


def _kernel_text(kernel: int, dilation: int) -> str:
    return f"{kernel}" if dilation == 1 else f"{dilation}·({kernel}−1)+1"


def _describe_same(d: Dim, dim: str, size: int, kernel: int, stride: int, dilation: int) -> None:
    kt = _kernel_text(kernel, dilation)
    total = d.pad_begin + d.pad_end
    d.explain.append(
        f"SAME ({dim}): total pad = max((⌈{size}/{stride}⌉ − 1)·{stride} + {kt} − {size}, 0) = {total}"
        f" → {'top' if dim == 'H' else 'begin' if dim == 'L' else 'left'} {d.pad_begin}, "
        f"{'bottom' if dim == 'H' else 'end' if dim == 'L' else 'right'} {d.pad_end}")
    d.formula = f"⌈{size}/{stride}⌉ = {d.out}"
    d.explain.append(f"{dim}_out = {d.formula}")


def _describe_window(d: Dim, dim: str, size: int, kernel: int, stride: int, dilation: int, ceil_mode: bool) -> None:
    kt = _kernel_text(kernel, dilation)
    pb, pe = d.pad_begin, d.pad_end
    expr = f"({size} − {kt} + {_sides(pb, pe)})/{stride} + 1" if pb or pe else f"({size} − {kt})/{stride} + 1"
    if d.ratio == d.out:
        d.formula = f"{expr} = {d.out}"
    else:
        rounding = "⌈⌉ ceil_mode" if ceil_mode else "⌊⌋ floor"
        d.formula = f"{expr} = {ratio_text(d.ratio)} → {rounding} = {d.out}"
    d.explain.append(f"{dim}_out = {d.formula}")


def windows(
    sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
    padding: tuple[tuple[int, int], ...] | str, ceil_mode: bool = False, pooling: bool = False,
    explain: bool = True,
) -> tuple[list[Dim], list[str]]:
    """All spatial dims at once; returns the dims and 'does not fit' warnings."""
    names = DIM_NAMES[len(sizes)]
    dims = []
    warnings = []
    same = padding == "same"
    for i, name in enumerate(names):
        pad: tuple[int, int] | str = "same" if same else padding[i]  # type: ignore[assignment]
        d = window_dim(name, sizes[i], kernel[i], stride[i], dilation[i], pad, ceil_mode, pooling, explain)
        # Stride > kernel skips rows between windows by design; only a window grid that stops short is news.
        if d.unread and stride[i] <= dilation[i] * (kernel[i] - 1) + 1:
            noun = ROWS[name] + ("s" if d.unread > 1 else "")
            warnings.append(
                f"stride {stride[i]} does not fit along {name}: {d.formula}; "
                f"the last {d.unread} input {noun} {'are' if d.unread > 1 else 'is'} never read")
        dims.append(d)
    return dims, warnings


def grid(
    sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
    padding: tuple[tuple[int, int], ...] | str, ceil_mode: bool = False, pooling: bool = False,
) -> tuple[tuple[int, ...], tuple[int, ...], list[str]]:
    """(output sizes, begin paddings, warnings) of `windows(...)` without its Dim objects and text:
    the layers' path when nothing is explained. Whenever a dim is unusual (an error to word, rows
    left unread to warn about), the whole answer comes from `windows` itself."""
    outs = []
    begins = []
    same = padding == "same"
    explicit: tuple[tuple[int, int], ...] = () if same else padding  # type: ignore[assignment]
    for i in range(len(sizes)):
        size, k, s = sizes[i], kernel[i], stride[i]
        k_eff = dilation[i] * (k - 1) + 1
        if same:
            out = -(-size // s)
            total = (out - 1) * s + k_eff - size
            pb = total // 2 if total > 0 else 0
            unread = size + pb - (out - 1) * s - k_eff
        else:
            pb, pe = explicit[i]
            padded = size + pb + pe
            num = padded - k_eff
            if ceil_mode:
                out = -(-num // s) + 1
                if (out - 1) * s >= size + pb:
                    out -= 1
            else:
                out = num // s + 1
            if out < 1 or k_eff > padded or (pooling and (pb > k // 2 or pe > k // 2)):
                unread = 1  # an error, or a ceil_mode window past the input: windows() decides
            else:
                unread = padded - (out - 1) * s - k_eff - pe
        if unread > 0:
            dims, warnings = windows(sizes, kernel, stride, dilation, padding, ceil_mode, pooling, explain=False)
            return tuple([d.out for d in dims]), tuple([d.pad_begin for d in dims]), warnings
        outs.append(out)
        begins.append(pb)
    return tuple(outs), tuple(begins), []
