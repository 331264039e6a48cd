"""Places where a newcomer gets stuck: each answer says what to do next."""

from __future__ import annotations

import json

from click.testing import CliRunner

import cnncalc
from cnncalc.calc import size
from cnncalc.cli import main
from cnncalc.lint import check_text


def run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


# ---- solve: when no padding works with stride 1, a stride and padding that do ---------------------

def test_solve_proposes_a_stride_and_padding_when_no_padding_alone_works():
    r = run("solve", "--input", "32", "--kernel", "3", "--output", "16")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == ("error: no integer padding gives output 16 from input 32, kernel 3, stride 1; with padding 0 "
                        "the output is 30; with stride 2 and padding 1 the output is 16 (rounded down): --stride 2 "
                        "--padding 1\n")
    assert size(32, 3, 2, 1).out == 16


def test_the_proposed_pair_is_checked_forward():
    for i, k, o in ((224, 7, 112), (32, 3, 10), (5, 3, 1), (100, 1, 7), (227, 11, 55)):
        r = run("solve", "--input", str(i), "--kernel", str(k), "--output", str(o), "-f", "json")
        hint = json.loads(r.stdout)["hint"]
        s, p = (int(x) for x in hint.rsplit("--stride ", 1)[1].split(" --padding "))
        assert size(i, k, s, p).out == o, (i, k, o, hint)
    r = run("solve", "--input", "227", "--kernel", "11", "--output", "55")
    assert "with stride 4 and padding 0 the output is 55: --stride 4 --padding 0" in r.stderr  # AlexNet, exact


def test_no_pair_is_proposed_when_the_stride_was_given():
    r = run("solve", "--input", "32", "--kernel", "3", "--output", "16", "--stride", "1")
    assert r.stderr == ("error: no integer padding gives output 16 from input 32, kernel 3, stride 1; with padding 0 "
                        "the output is 30\n")


# ---- concat: which input has which shape, and the warning that caused it -------------------------

INCEPTION = """name: two branches
input: 8x8x3
layers:
  - {type: conv2d, name: b1, filters: 4, kernel: 3, stride: 2, padding: 1}
  - {type: conv2d, name: p1, filters: 4, kernel: 3, stride: 2, inputs: [input]}
  - {type: relu, name: p2}
  - {type: concat, name: cat, inputs: [b1, p2]}
"""


def test_a_concat_mismatch_names_the_inputs_and_the_rounding_upstream():
    assert [d.format() for d in check_text(INCEPTION, "n.yaml")] == [
        "n.yaml:5:5: warning: p1: stride 2 does not fit along H and W: (8 − 3)/2 + 1 = 3.50 → ⌊⌋ floor = 3; the last "
        "1 input row and column are never read (for an exact fit use input 7 or 9, or 1 more padding) "
        "[stride-not-fitting]",
        "n.yaml:7:39: error: cat: concat needs the same spatial size on every input, got 4x4x4 and 3x3x4; fix the "
        "strides or padding of one branch (b1 is 4x4x4, p2 is 3x3x4; p1 rounded p2's size down, see its "
        "stride-not-fitting warning at line 5) [shape-mismatch]"]


def test_a_concat_mismatch_without_rounding_names_the_inputs_only():
    text = INCEPTION.replace("input: 8x8x3", "input: 7x7x3")  # 7 → 4 and 7 → 3, both exact
    errors = [d.format() for d in check_text(text, "n.yaml") if d.severity == "error"]
    assert errors == ["n.yaml:7:39: error: cat: concat needs the same spatial size on every input, got 4x4x4 and "
                      "3x3x4; fix the strides or padding of one branch (b1 is 4x4x4, p2 is 3x3x4) [shape-mismatch]"]


# ---- --format json --explain keeps the explanation ------------------------------------------------

def test_json_explain_keeps_the_derivations_everywhere(tmp_path):
    path = tmp_path / "hw.yaml"
    path.write_text("input: 32x32x3\nlayers:\n  - {type: conv2d, filters: 10, kernel: 5, padding: 2}\n")
    doc = json.loads(run("show", str(path), "-f", "json", "--explain").stdout)
    assert doc["layers"][0]["explain"][2] == "params = 10 · (5·5·3 + 1) = 760"
    for args in (["conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "2"], ["pool", "-i", "4x4x1", "-k", "2"],
                 ["dense", "--in", "3072", "--out", "10"], ["size", "7", "3", "3"],
                 ["solve", "-i", "32", "-k", "5", "-o", "32"], ["conv", "--values", "1 2; 3 4", "--kernel-values", "1"],
                 ["pool", "--values", "1 2; 3 4", "-k", "2"]):
        d = json.loads(run(*args, "-f", "json", "--explain").stdout)
        assert d["explain"] and all(isinstance(line, str) for line in d["explain"]), args


# ---- exported code names the spec as the user gave it ---------------------------------------------

def test_exported_code_names_the_spec_as_given_and_quoted(tmp_path, monkeypatch):
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "my net.yaml").write_text("input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3}\n")
    monkeypatch.chdir(tmp_path / "nets")
    code = run("export", "./my net.yaml", "--to", "pytorch").stdout
    assert "Generated by cnncalc" in code and "from my net.yaml\n(regenerate: cnncalc export 'my net.yaml' --to " \
        "pytorch)." in code
    assert str(tmp_path) not in code
    code = run("export", "../nets/my net.yaml", "--to", "keras").stdout
    assert "from ../nets/my net.yaml\n(regenerate: cnncalc export '../nets/my net.yaml' --to keras)." in code
    a = cnncalc.analyse(cnncalc.load("./my net.yaml"))
    from cnncalc.export import export

    assert str(tmp_path) not in export(a, "pytorch").code
