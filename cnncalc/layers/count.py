"""Counts that remember their arithmetic.

A layer's rule computes its parameters and operations as `Count`s: exact integers that also keep
the factors and terms they were made from. The analysis uses them as plain ints; `--explain`
writes the same arithmetic back out, as on the slides: `params = 10 · (5·5·3 + 1) = 760`. So
the derivation a student reads is, by construction, the computation that gave the number.

    >>> p = times(10, plus(volume(5, 5, 3), 1))
    >>> p, p.formula()
    (760, '10 · (5·5·3 + 1)')
"""

from __future__ import annotations

import math


class Count(int):
    """An exact int and the expression that produced it.

    `op` is "" for a plain number, "·" for a product of sizes written tightly (a kernel 5·5·3,
    an output grid 32·32·10), " · " for a product of factors, " + " for a sum and " − " for a
    difference; `terms` are its operands; `label` names what the number counts ("outputs")."""

    op: str
    terms: tuple[int, ...]  # Counts, or plain ints where there is nothing more to show
    label: str

    def __new__(cls, value: int, op: str = "", terms: tuple[int, ...] = (), label: str = "") -> Count:
        self = super().__new__(cls, value)
        self.op, self.terms, self.label = op, terms, label
        return self

    def __repr__(self) -> str:
        return f"Count({int(self)}, {self.formula()!r})" if self.op else f"Count({int(self)})"

    def formula(self, inner: bool = False) -> str:
        """The arithmetic as text, numbers with thousands separators."""
        if not self.op:
            text = f"{int(self):,}"
        else:
            parts = []
            for i, t in enumerate(self.terms):
                if not isinstance(t, Count):
                    parts.append(f"{t:,}")
                    continue
                part = t.formula(inner=True)
                # a sum inside a product, or subtracted, needs parentheses; a labelled one has its own
                grouped = self.op in ("·", " · ") or (self.op == " − " and i > 0)
                if grouped and t.op in (" + ", " − ") and not t.label:
                    part = f"({part})"
                parts.append(part)
            text = self.op.join(parts)
        if self.label:
            if self.op and inner:
                return f"({text} {self.label})" if self.op in (" + ", " − ") else f"{text} {self.label}"
            return f"{text} {self.label}"
        return text

    def line(self, what: str) -> str:
        """`what = formula = value` (or `what = value` when there is nothing to derive)."""
        if not self.op:
            return f"{what} = {int(self):,}" + (f" {self.label}" if self.label else "")
        return f"{what} = {self.formula()} = {int(self):,}"


def count(value: int | Count, label: str = "") -> Count:
    """A number as a Count (a Count keeps its arithmetic; a label names what it counts)."""
    if isinstance(value, Count):
        return value if not label else Count(int(value), value.op, value.terms, label)
    return Count(value, "", (), label)


ZERO = Count(0)


def volume(*sizes: int | Count, label: str = "") -> Count:
    """A product of sizes, written tightly: 5·5·3."""
    if len(sizes) == 1:
        return count(sizes[0], label)
    return Count(math.prod(sizes), "·", sizes, label)


def times(*factors: int | Count, label: str = "") -> Count:
    """A product of factors, written with spaces: 10 · (5·5·3 + 1)."""
    if len(factors) == 1:
        return count(factors[0], label)
    return Count(math.prod(factors), " · ", factors, label)


def plus(*addends: int | Count, label: str = "") -> Count:
    """A sum; zero addends are left out (a layer without bias adds nothing)."""
    terms = tuple(t for t in addends if t or (isinstance(t, Count) and t.label))
    if not terms:
        return count(0, label)
    if len(terms) == 1:
        return count(terms[0], label)
    return Count(sum(terms), " + ", terms, label)


def minus(a: int | Count, b: int | Count, label: str = "") -> Count:
    """A difference: (2·2 − 1) comparisons per window."""
    return Count(a - b, " − ", (a, b), label) if b else count(a, label)
