"""Inverse sizing: which padding, stride or kernel turns input size I into output size O.

The forward rule (conv2d, floor-mode pooling) is O = ⌊(I + 2P − F_eff)/S⌋ + 1 with
F_eff = D·(F − 1) + 1. Flooring makes it an interval condition,

    (O − 1)·S ≤ I + 2P − F_eff ≤ (O − 1)·S + S − 1,

so the solutions for any one unknown form one contiguous range of integers, computed here in
closed form. Each solution is re-checked with the forward rule itself (`calc.size`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNKNOWNS = ("padding", "stride", "kernel")
SHOW_MAX = 20  # list at most this many solutions one by one; longer ranges are summarised


class SolveError(ValueError):
    """The question is malformed (e.g. nothing left to solve for)."""


@dataclass
class Solved:
    unknown: str  # "padding" | "stride" | "kernel"
    given: dict[str, int]  # input, output, dilation and the two known of kernel/stride/padding
    values: range  # every solution; empty if none
    unbounded: bool = False  # stride only: every value above the range works too (output 1)
    derivation: list[str] = field(default_factory=list)
    hint: str = ""  # what to try when there is no solution

    def params(self, value: int) -> dict[str, int]:
        """The full set of sizes with the unknown set to `value`."""
        return {**self.given, self.unknown: value}

    def check(self, value: int):  # -> Dim
        """The forward computation with `value` plugged in (derivation, exactness)."""
        from .calc import size

        q = self.params(value)
        return size(q["input"], q["kernel"], q["stride"], q["padding"], q["dilation"])


def pick_unknown(kernel: int | None, stride: int | None, padding: int | None) -> str:
    """The unknown when not named: the missing one; with stride and padding both missing, padding
    (stride defaults to 1, the `solve --input 32 --kernel 5 --output 32` → padding 2 case)."""
    if kernel is None:
        return "kernel"
    if padding is None:
        return "padding"
    if stride is None:
        return "stride"
    raise SolveError("nothing to solve: kernel, stride and padding are all given; leave out the one to solve for")


def solve(input: int, output: int, kernel: int | None = None, stride: int | None = None,
          padding: int | None = None, dilation: int = 1, unknown: str | None = None) -> Solved:
    """Every integer value of `unknown` (default: the one not given) that maps `input` to `output`.

    Known values that are left out default to stride 1 and padding 0.
    """
    if unknown is None:
        unknown = pick_unknown(kernel, stride, padding)
    if unknown not in UNKNOWNS:
        raise SolveError(f"can solve for one of {', '.join(UNKNOWNS)}, not {unknown!r}")
    given_value = {"padding": padding, "stride": stride, "kernel": kernel}[unknown]
    if given_value is not None:
        raise SolveError(f"{unknown} is both given ({given_value}) and the unknown; leave it out")
    if unknown != "kernel" and kernel is None:
        raise SolveError("give the kernel size (or solve for the kernel)")
    for what, v, low in (("input", input, 1), ("output", output, 1), ("kernel", kernel, 1), ("stride", stride, 1),
                         ("padding", padding, 0), ("dilation", dilation, 1)):
        if v is not None and v < low:
            raise SolveError(f"{what} must be ≥ {low}, got {v}")
    s = 1 if stride is None else stride
    p = 0 if padding is None else padding
    given = {"input": input, "output": output, "dilation": dilation, "kernel": kernel or 0, "stride": s, "padding": p}
    del given[unknown]
    i, o, d = input, output, dilation
    fe = None if kernel is None else d * (kernel - 1) + 1
    kt = "F" if kernel is None else (str(kernel) if d == 1 else f"{fe}")
    lines = []
    if d > 1 and kernel is not None:
        lines.append(f"F_eff = {d}·({kernel} − 1) + 1 = {fe}")
    if unknown == "padding":
        assert fe is not None
        lines.append(f"⌊({i} − {kt} + 2P)/{s}⌋ + 1 = {o}")
        lo, hi = (o - 1) * s - i + fe, (o - 1) * s + s - 1 - i + fe
        lines.append(f"⟺ {(o - 1) * s} ≤ {i - fe} + 2P ≤ {(o - 1) * s + s - 1}  ⟺  {lo} ≤ 2P ≤ {hi}")
        values = range(max(0, -(-lo // 2)), hi // 2 + 1) if hi >= 0 else range(0)
        result = Solved(unknown, given, values, derivation=lines)
        if not values and hi >= max(lo, 0):
            t = max(lo, 0)
            result.hint = (f"no equal padding on both sides works, but a total padding of {t} does "
                           f"({t // 2} before, {t - t // 2} after; this is what padding 'same' does)")
    elif unknown == "kernel":
        lines.append(f"⌊({i} − F_eff + 2·{p})/{s}⌋ + 1 = {o}" + (f", F_eff = {d}·(F − 1) + 1" if d > 1 else ""))
        hi = i + 2 * p - (o - 1) * s
        lo = hi - (s - 1)
        lines.append(f"⟺ {(o - 1) * s} ≤ {i + 2 * p} − F_eff ≤ {(o - 1) * s + s - 1}  ⟺  {lo} ≤ F_eff ≤ {hi}")
        lo = max(lo, 1)
        # F_eff = d·(F − 1) + 1 ⟺ F = (F_eff − 1)/d + 1, integral when F_eff ≡ 1 (mod d)
        first, last = -(-(lo - 1) // d) + 1, (hi - 1) // d + 1 if hi >= 1 else 0
        values = range(first, last + 1) if last >= first else range(0)
        result = Solved(unknown, given, values, derivation=lines)
    else:
        assert fe is not None
        n = i + 2 * p - fe
        lines.append(f"⌊({i} − {kt}{f' + 2·{p}' if p else ''})/S⌋ + 1 = {o}  ⟺  ⌊{n}/S⌋ = {o - 1}")
        if n < 0:
            result = Solved(unknown, given, range(0), derivation=lines,
                            hint=f"the kernel ({fe}) is larger than the padded input ({i + 2 * p})")
        elif o == 1:
            lines.append(f"⟺ S > {n}")
            result = Solved(unknown, given, range(n + 1, n + 2), unbounded=True, derivation=lines)
        else:
            lines.append(f"⟺ {n}/{o} < S ≤ {n}/{o - 1}")
            result = Solved(unknown, given, range(n // o + 1, n // (o - 1) + 1), derivation=lines)
    if not result.values and not result.hint:
        result.hint = _nearest_hint(result)
    if not result.values and unknown == "padding" and stride is None and fe is not None:
        pair = _stride_and_padding(i, o, fe)
        if pair:
            result.hint = "; ".join(filter(None, (result.hint, pair)))
    return result


def _stride_and_padding(i: int, o: int, fe: int) -> str:
    """When no padding works with stride 1 (the output is smaller than stride 1 can give), the
    smallest stride that reaches `o` and the least padding with it, checked forward."""
    from .calc import size

    if o - 1 - i + fe >= 0:  # stride 1 reaches o with some total padding: the `same` hint covers it
        return ""
    # with stride S, 2P must lie in [lo, lo + S − 1], lo = (O − 1)·S − I + F_eff; for S ≥ 2 that
    # range holds an even number as soon as its top is ≥ 0, i.e. S ≥ (I − F_eff + 1)/O
    s = max(2, -(-(i - fe + 1) // o))
    lo = (o - 1) * s - i + fe
    p = max(0, -(-lo // 2))
    d = size(i, fe, s, p)
    if d.out != o:  # pragma: no cover - the interval argument above
        return ""
    rounded = "" if d.exact else f" (rounded down: the last {d.unread} input row{'s are' if d.unread > 1 else ' is'} " \
                                 "never read)" if d.unread else " (rounded down)"
    return f"with stride {s} and padding {p} the output is {o}{rounded}: --stride {s} --padding {p}"


def _nearest_hint(r: Solved) -> str:
    """Say which outputs are reachable at the nearest values, so the user sees how far off O is."""
    if r.unknown == "padding":
        return f"with padding 0 the output is {r.check(0).out}" if _fits(r, 0) else ""
    return ""


def _fits(r: Solved, value: int) -> bool:
    from .errors import LayerError

    try:
        r.check(value)
    except LayerError:
        return False
    return True
