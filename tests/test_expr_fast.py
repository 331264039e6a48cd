"""The hand-written expression parser (expr.py) agrees with the reference evaluator (exprtree.py,
Python's own parser) on every text: the same value of the same type, or the same error message."""

from __future__ import annotations

import random

import pytest

from cnncalc import expr, exprtree

PIECES = ["1", "0", "2", "10", "007", "1.5", "0.25", "1e3", "1_0", "x", "y", "s", "t", "nope", "true", "false",
          "True", "False", "None", "'a'", '"b"', "''", "'x'", "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<",
          "<=", ">", ">=", "and", "or", "not", "if", "else", "in", "is", "(", ")", "(", ")", "[", "]", ",", " ",
          "lambda", "f'x'", "é", "1.", ".5", "\\", "#", "~", "&", "x.y", "10000000000000000", "3 if x else 4"]
SCOPE = {"x": 3, "y": 0, "s": "ab", "t": True, "f": 2.5}


def outcome(fn, src):
    try:
        v = fn(src)
        return ("value", type(v).__name__, repr(v))
    except expr.ExprError as exc:
        return ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - the reference may raise anything; both must agree
        return ("raised", type(exc).__name__)


def check(src: str) -> bool:
    text = "${" + src + "}"
    fast = outcome(lambda _: expr.evaluate(text, dict(SCOPE)), src)
    ref = outcome(lambda _: exprtree.evaluate_source(src.strip(), dict(SCOPE)), src)
    if len(src.strip()) <= 500:
        assert fast == ref, (src, fast, ref)
    return expr._COMPILED.get(src.strip()) is not None


def test_random_expressions_agree():
    rng = random.Random(7)
    compiled = 0
    for _ in range(20_000):
        src = " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9)))
        compiled += check(src)
    assert compiled > 500  # the fast path really was exercised


def test_structured_expressions_agree():
    rng = random.Random(11)

    def gen(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(["1", "2", "0", "x", "y", "s", "t", "f", "'a'", "true", "None", "1.5", "nope"])
        form = rng.randrange(6)
        if form == 0:
            return f"{gen(depth - 1)} {rng.choice(['+', '-', '*', '/', '//', '%'])} {gen(depth - 1)}"
        if form == 1:
            return f"{gen(depth - 1)} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {gen(depth - 1)}"
        if form == 2:
            return f"{gen(depth - 1)} {rng.choice(['and', 'or'])} {gen(depth - 1)}"
        if form == 3:
            return f"{rng.choice(['not ', '-', '+'])}{gen(depth - 1)}"
        if form == 4:
            return f"{gen(depth - 1)} if {gen(depth - 1)} else {gen(depth - 1)}"
        return f"({gen(depth - 1)})"

    compiled = sum(check(gen(5)) for _ in range(5_000))
    assert compiled > 4_000


@pytest.mark.parametrize("src,value", [
    ("planes * 4", 256), ("2 if i == 0 else 1", 2), ("i == 0", True), ("'downsample.1' if down else 'input'",
                                                                          "downsample.1"),
    ("-planes + 3 // 2", -63), ("not i and down or i", True), ("1 < 2 < 3", True), ("(1 + 2) * 3", 9),
    ("7 / 2", 3.5), ("7 % 3 - 1", 0), ("true and not false", True),
])
def test_spec_expressions(src, value):
    scope = {"planes": 64, "i": 0, "down": True}
    got = expr.evaluate("${" + src + "}", scope)
    assert got == value and type(got) is type(value)
    assert expr._COMPILED[src] is not None


def test_deep_nesting_goes_to_python():
    src = "(" * 240 + "1" + ")" * 240
    assert outcome(lambda _: expr.evaluate("${" + src + "}", {}), src) == outcome(
        lambda _: exprtree.evaluate_source(src, {}), src)
