"""`$name` and `${expression}` values: what they evaluate to, and the located error when they cannot."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cnncalc
from cnncalc import expr
from cnncalc.expr import ExprError

SCOPE = {"planes": 64, "i": 0, "down": True, "s": "ab", "f": 2.5}


def value(text: str):
    return expr.evaluate(text, dict(SCOPE))


def message(text: str) -> str:
    with pytest.raises(ExprError) as info:
        value(text)
    return str(info.value)


@pytest.mark.parametrize("src,want", [
    ("planes * 4", 256), ("2 if i == 0 else 1", 2), ("i == 0", True),
    ("'downsample.1' if down else 'input'", "downsample.1"), ("-planes + 3 // 2", -63), ("not i and down or i", True),
    ("1 < 2 < 3", True), ("3 < 2 < nope", False), ("(1 + 2) * 3", 9), ("7 / 2", 3.5), ("7 % 3 - 1", 0),
    ("true and not false", True), ("True or False", True), ("None", None), ("+f", 2.5), ("-f * 2", -5.0),
    ("s + 'c'", "abc"), ("0 or 5", True), ("1 and 0", False), ("  planes  ", 64), ("1if 1 else 2", 1),
    ("999999999999999 * 1", 999999999999999), ("10 ** 0 if 0 else 4", 4),
])
def test_expressions(src, want):
    got = value("${" + src + "}")
    assert got == want and type(got) is type(want)


def test_integers_stay_exact():
    assert value("${999999999999999 - 1}") == 999999999999998
    assert value("${123456789012345 // 7}") == 17636684144620
    assert type(value("${planes // 2}")) is int and type(value("${planes / 2}")) is float


@pytest.mark.parametrize("text,want", [("$planes", 64), ("$planes\n", 64), ("${planes}\n", 64), ("${\nplanes\n}", 64),
                                       ("$s", "ab")])
def test_forms(text, want):
    assert value(text) == want


@pytest.mark.parametrize("text", ["$", "$ planes", "$planes x", "$é", "${planes", "$1", "planes", "${planes}x",
                                  "$planes\n\n"])
def test_not_an_expression(text):
    assert message(text) == f"{text!r} is not an expression; write $name or ${{expression}}"


@pytest.mark.parametrize("text,want", [
    ("$nope", "unknown parameter $nope (known here: down, f, i, planes, s)"),
    ("${nope + 1}", "unknown parameter $nope (known here: down, f, i, planes, s)"),
    ("${1 or nope}", "unknown parameter $nope (known here: down, f, i, planes, s)"),  # every operand is evaluated
    ("${1 +}", "cannot parse expression '1 +'"),
    ("${1 +\n 2}", "cannot parse expression '1 +\\n 2'"),
    ("${a\x00}", "cannot parse expression 'a\\x00'"),
    ("${" + "(" * 240 + "1" + ")" * 240 + "}", "cannot parse expression '" + "(" * 240 + "1" + ")" * 240 + "'"),
    ("${2 ** 3}", "unsupported syntax in expression: '2 ** 3'"),
    ("${planes.real}", "unsupported syntax in expression: 'planes.real'"),
    ("${f(1)}", "unsupported syntax in expression: 'f(1)'"),
    ("${1 in [1]}", "unsupported syntax in expression: '1 in [1]'"),
    ("${~1}", "unsupported syntax in expression: '~1'"),
    ("${-s}", "unsupported syntax in expression: '-s'"),
    ("${5j}", "unsupported syntax in expression: '5j'"),
    ("${lambda: 1}", "unsupported syntax in expression: 'lambda: 1'"),
    ("${s * 3}", "strings can only be joined with +"),
    ("${'%d' % 1}", "strings can only be joined with +"),
    ("${s + 1}", 'cannot compute expression: can only concatenate str (not "int") to str'),
    ("${1 / 0}", "cannot compute expression: division by zero"),
    ("${s < 1}", "cannot compare: '<' not supported between instances of 'str' and 'int'"),
    ("${'x' * 0 + s + s}", "strings can only be joined with +"),
    ("${" + "1 + " * 200 + "1}", "expression is too long (500 characters at most)"),
])
def test_errors(text, want):
    assert message(text) == want


def test_expressions_up_to_500_characters():
    src = "1+" * 249 + "11"
    assert len(src) == 500 and value("${ " + src + " }") == 260
    assert message("${" + src + "1}") == "expression is too long (500 characters at most)"


def test_long_strings_are_refused():
    scope = {"t": "x" * 600}
    with pytest.raises(ExprError, match="^expression value is too long$"):
        expr.evaluate("${t + t}", scope)


@pytest.mark.parametrize("src", ["99999999999999999999 * 99999999999999999999", "1e300 * 1e300", "1e400",
                                 "9" * 400, "-" + "9" * 400, "-99999999999999999", "1000000000000000 + 1",
                                 "0.5 + 1e16"])
def test_huge_values_are_refused(src):
    assert message("${" + src + "}") == "expression value is too large"


def test_a_huge_value_is_a_located_error_not_an_overflow():
    # a float parameter would have turned a 400-digit int into OverflowError
    text = "input: [8, 8, 3]\nlayers:\n  - {type: batch_norm, eps: \"${" + "9" * 400 + "}\"}\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "t.yaml"))
    d = info.value.first
    assert (d.loc.line, d.loc.col, d.rule) == (3, text.splitlines()[2].index('"${') + 1, "bad-expression")
    assert d.message == "batch_norm: expression value is too large"


def test_no_warning_reaches_stderr():
    # `1if` is a SyntaxWarning to Python's parser, which prints it to stderr by default
    code = ("import cnncalc\n"
            "a = cnncalc.analyse(cnncalc.loads('input: [8, 8, 3]\\nlayers:\\n"
            "  - {type: conv2d, filters: \"${1if 1 else 2}\", kernel: \"${0x1if 1 else 3}\"}\\n'))\n"
            "print(a.layers[0].params)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (r.stdout, r.stderr) == ("4\n", "")  # filters 1, kernel 1: 1 x (1 x 1 x 3 + 1)
