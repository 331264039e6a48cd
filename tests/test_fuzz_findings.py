"""Inputs found by fuzzing that ended in a traceback or a wrong number: each is now answered with
the right number or a located one-line error."""

from __future__ import annotations

import ast
import json

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.lint import check_text

BIG = "9" * 5000  # more digits than int() reads from text


def run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def lint(text: str) -> list[str]:
    return [d.format() for d in check_text(text, "f.yaml")]


@pytest.mark.parametrize("text, expected", [
    (f'input: 8x8x3\nlayers: [relu]\nexpect: {{params: "{BIG}"}}\n',
     "f.yaml:3:18: error: expected params must be a non-negative integer, got '9999"),
    (f'input: 8x8x3\nlayers: [relu]\nexpect: {{output_shape: "{BIG}x3"}}\n',
     "f.yaml:3:24: error: expected output_shape must be a list of integers"),
    (f'input: "{BIG}x3x3"\nlayers: [relu]\n', "f.yaml:1:8: error: input must be a list of 1 to 4 positive"),
    (f'input: 8x8x3\nlayers: [{{type: conv2d, filters: 1, kernel: "{BIG}x3"}}]\n',
     "f.yaml:2:45: error: conv2d: kernel must be an integer or a list of 2 integers, got '9999"),
])
def test_numbers_too_long_for_int_are_located_errors(text, expected):
    (message,) = lint(text)
    assert message.startswith(expected) and message.endswith("[invalid-value]"), message
    assert len(message) < 700  # the 5,000 digits are not echoed whole


def test_a_size_beyond_the_limit_is_too_large_not_misread():
    (message,) = lint('input: 8x8x3\nlayers: [{type: conv2d, filters: 1, kernel: "99999999999999999999x3"}]\n')
    assert message == "f.yaml:2:45: error: conv2d: kernel '99999999999999999999x3' is too large (limit 16777216) " \
                      "[too-large]"


@pytest.mark.parametrize("value, shown", [(".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), (".NaN", "nan")])
def test_float_parameters_are_finite(value, shown):
    assert lint(f"input: 8x8x3\nlayers:\n  - {{type: batch_norm, eps: {value}}}\n") == [
        f"f.yaml:3:29: error: batch_norm: eps must be a finite number, got {shown} [invalid-value]"]


def test_a_huge_integer_set_on_the_command_line_for_a_float_is_refused(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("params: {e: 0.001}\ninput: 8x8x3\nlayers:\n  - {type: batch_norm, eps: $e}\n")
    r = run("show", str(path), "--set", "e=" + "9" * 400)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"{path}:4:29: error: batch_norm: eps must be a finite number, got 9999")


def test_size_and_solve_refuse_sizes_beyond_the_limit_in_one_line():
    for args in (["size", "9" * 400, "3", "1"], ["size", BIG, "3"], ["size", "99999999999999999999", "3", "1"],
                 ["solve", "--input", "9" * 400, "--kernel", "3", "--output", "5"],
                 ["solve", "--input", "32", "--output", "16", "--stride", "9" * 30],
                 ["conv", "-i", "8x8x1", "-n", "1", "-k", BIG], ["pool", "-i", f"{BIG}x8x1", "-k", "2"]):
        r = run(*args)
        assert r.exit_code == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1, (args, r.output)
        assert len(r.stderr) < 300, r.stderr


def test_the_rounded_ratio_is_computed_exactly():
    from cnncalc.calc import size

    # a float gave 33333333333333331968.00, less than the floored result it was rounded to
    assert size(99999999999999999999, 2, 3).formula == \
        "(99999999999999999999 − 2)/3 + 1 = 33333333333333333333.33 → ⌊⌋ floor = 33333333333333333333"
    assert size(7, 3, 3).formula == "(7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2"
    assert size(100001, 2, 100000).formula == "(100001 − 2)/100000 + 1 = 1.99999 → ⌊⌋ floor = 1"
    r = run("size", "16777216", "2", "3")  # the largest size: the warning's ratio is exact as well
    assert r.stdout == "5592405\n" and r.stderr.startswith("warning: stride does not fit: 5592405.67 = ")


def test_keras_helper_parameters_are_identifiers_for_digit_named_layers():
    text = json.dumps({"input": "8x8x4", "blocks": {"b": {"params": {"f": 4, "g": 4}, "layers": [
        {"type": "conv2d", "name": "0", "filters": "$f", "kernel": 3, "padding": 1},
        {"type": "conv2d", "name": "1", "filters": "$g", "kernel": 3, "padding": 1},
        {"type": "concat", "name": "2", "inputs": ["1", "input"]}]}},
        "layers": [{"block": "b", "name": f"s{i}", "f": f, "g": g} for i, (f, g) in
                   enumerate([(4, 5), (8, 4), (8, 5), (2, 5)])]})
    from cnncalc.export import export

    a = cnncalc.analyse(cnncalc.loads(text, "d.yaml"))
    for target in ("keras", "pytorch"):
        tree = ast.parse(export(a, target).code)  # `def b(x, name, 0_filters, ...)` was a SyntaxError
        helper = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in ("b", "B"))
        init = helper if isinstance(helper, ast.FunctionDef) else next(
            n for n in helper.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        args = [a.arg for a in init.args.args]
        assert {"layer_0_filters", "layer_1_filters"} <= set(args) or \
            {"layer_0_out_channels", "layer_1_out_channels"} <= set(args), args


# ---- YAML: merge keys and positions ------------------------------------------------------------------

def layers(text: str) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    a = cnncalc.analyse(cnncalc.loads(text, "m.yaml"))
    return [(layer.name, layer.spec.params["stride"], layer.output_shape) for layer in a.layers]


def test_an_explicit_key_overrides_a_merged_one():
    text = "input: 8x8x3\nlayers:\n  - &p {type: max_pool2d, kernel: 2, stride: 1}\n  - {<<: *p, stride: 2, name: q}\n"
    assert layers(text) == [("pool1", (1, 1), (7, 7, 3)), ("q", (2, 2), (3, 3, 3))]


def test_of_merged_mappings_the_first_wins():
    text = ("input: 9x9x3\nlayers:\n  - &a {type: max_pool2d, kernel: 2, stride: 1}\n"
            "  - &b {type: max_pool2d, kernel: 3, stride: 3}\n  - {<<: [*b, *a], name: c, inputs: [input]}\n")
    assert layers(text)[-1] == ("c", (3, 3), (3, 3, 3))  # b's kernel 3 and stride 3 on 9x9: 3x3


def test_a_key_written_twice_in_one_mapping_is_still_an_error():
    text = "input: 8x8x3\nlayers:\n  - &p {type: max_pool2d, kernel: 2}\n  - {<<: *p, stride: 2, stride: 3}\n"
    assert lint(text) == ["f.yaml:4:25: error: duplicate key 'stride' (first at line 4); keep one [duplicate-key]"]
    assert lint("input: 8x8x3\nlayers:\n  - {<<: [1], type: relu}\n") == [
        "f.yaml:3:11: error: `<<` merges a mapping or a list of mappings into this one, e.g. `<<: *anchor` "
        "[invalid-yaml]"]


KERNEL = "  - {type: conv2d, filters: 1, kernel: 9}"  # the error is at the `9`, column 40


@pytest.mark.parametrize("before, line", [
    ("# a comment\n", 4),
    ("# a comment\r\n", 4),  # Windows line ends: one line each
    ('name: "a\u2028b"\n', 4),  # inside a quoted string
    # YAML also ends a line at NEL, U+2028, U+2029 and a lone CR; editors show them inside the line
    ("# a comment\x85", 3),
    ("# a comment\u2028", 3),
    ("# a comment\u2029\u2028", 3),
    ("# a comment\r", 3),
])
def test_positions_count_lines_as_editors_do(before, line):
    text = before + "input: 8x8x3\nlayers:\n" + KERNEL + "\n"
    (message,) = lint(text)
    assert message.startswith(f"f.yaml:{line}:40: error: conv1: kernel 9 is larger"), message


def test_a_lone_carriage_return_does_not_end_a_line_for_editors():
    text = "input: 8x8x3\rlayers:\r" + KERNEL + "\r"
    (message,) = lint(text)
    assert message.startswith(f"f.yaml:1:{len('input: 8x8x3|layers:|') + 40}: error: conv1: kernel 9"), message


def test_yaml_syntax_errors_after_a_separator_are_placed_on_the_editor_line():
    (message,) = lint("# note\u2028input: [8, 8, 3\nlayers: [relu]\n")
    assert message.startswith("f.yaml:2:7: error: the `[` at line 1, column 15 is not closed"), message
