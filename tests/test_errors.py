"""Every error names file:line:col and what to change; the CLI exits non-zero without a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main


def err(text: str) -> cnncalc.Diagnostic:
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "bad.yaml"))
    return info.value.first


def where(d: cnncalc.Diagnostic) -> tuple[int, int]:
    return d.loc.line, d.loc.col


def at(text: str, line: int, needle: str) -> tuple[int, int]:
    """The 1-based (line, column) of `needle` on `line` of `text`."""
    return line, text.splitlines()[line - 1].index(needle) + 1


def test_channel_mismatch_at_add():
    text = """input: [8, 8, 16]
layers:
  - {type: conv2d, name: a, filters: 32, kernel: 3, padding: 1}
  - {type: add, inputs: [a, input]}
"""
    d = err(text)
    assert d.rule == "shape-mismatch" and where(d) == at(text, 4, "[a, input]")
    assert "8x8x32 and 8x8x16 (channels differ)" in d.message and "projection" in d.message


def test_spatial_mismatch_at_concat():
    text = """input: [8, 8, 16]
layers:
  - {type: conv2d, name: a, filters: 4, kernel: 3, stride: 2, padding: 1}
  - {type: concat, name: c, inputs: [a, input]}
"""
    d = err(text)
    assert d.rule == "shape-mismatch" and where(d) == at(text, 4, "[a, input]") and "same spatial size" in d.message


def test_dense_after_spatial_without_flatten():
    """A dense layer maps the last axis, as the frameworks do; a network whose output is its per-position
    map of an image gets a warning at that layer (a classifier missing its flatten)."""
    a = cnncalc.analyse(cnncalc.loads("input: [6, 6, 256]\nlayers:\n  - {type: dense, units: 10}\n  - softmax\n",
                                      "bad.yaml"))
    [d] = a.warnings
    assert d.rule == "dense-needs-flat" and where(d) == (3, 5) and "flatten" in d.message
    assert a.layers[0].output_shape == (6, 6, 10)


def test_kernel_larger_than_padded_input():
    text = "input: [4, 4, 3]\nlayers:\n  - {type: conv2d, filters: 1, kernel: 5, padding: 0}\n"
    d = err(text)
    assert d.rule == "kernel-too-large" and where(d) == at(text, 3, "5,")
    assert "kernel 5 is larger than the padded input 4" in d.message


@pytest.mark.parametrize("text,rule,line,needle", [
    ("input: [0, 32, 3]\nlayers: [relu]\n", "nonpositive-size", 1, "["),
    ("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 0, kernel: 3}\n", "invalid-value", 3, "0,"),
    ("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3, stride: -1}\n", "invalid-value", 3, "-1"),
    ("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 2.5}\n", "invalid-value", 3, "2.5"),
    ("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: true, kernel: 3}\n", "invalid-value", 3, "true"),
    ("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: '8', kernel: 3}\n", "invalid-value", 3, "'8'"),
    ("input: [1, 1, 1]\nlayers:\n  - {type: conv_transpose2d, filters: 1, kernel: 1, padding: 1}\n",
     "nonpositive-size", 3, "1}"),
])
def test_bad_values(text, rule, line, needle):
    d = err(text)
    assert d.rule == rule and where(d) == at(text, line, needle)


def test_unknown_layer_type_suggests():
    text = "input: [32, 32, 3]\nlayers:\n  - {type: conv2, filters: 4}\n"
    d = err(text)
    assert d.rule == "unknown-layer" and where(d) == at(text, 3, "conv2") and "did you mean 'conv2d'" in d.message


def test_unknown_parameter_suggests():
    text = "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernal: 3}\n"
    d = err(text)
    assert d.rule == "unknown-param" and where(d) == at(text, 3, "kernal") and "did you mean 'kernel'" in d.message


def test_missing_required_parameter():
    d = err("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 4}\n")
    assert d.rule == "missing-param" and "needs `kernel`" in d.message


def test_reference_to_missing_layer():
    text = "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: r}\n  - {type: add, inputs: [r, rr2]}\n"
    d = err(text)
    assert d.rule == "unknown-reference" and where(d) == at(text, 4, "rr2") and "'rr2'" in d.message


def test_cycle():
    d = err("""input: [8, 8, 3]
layers:
  - {type: relu, name: a, inputs: [b]}
  - {type: relu, name: b, inputs: [a]}
""")
    assert d.rule == "cycle" and ("a → b → a" in d.message or "b → a → b" in d.message)


def test_duplicate_name():
    text = "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, name: a}\n"
    d = err(text)
    assert d.rule == "duplicate-name" and where(d) == at(text, 4, "a}") and "first at line 3" in d.message


def test_wrong_input_count():
    d = err("input: [8, 8, 3]\nlayers:\n  - {type: add}\n")
    assert d.rule == "wrong-input-count" and "at least 2 inputs" in d.message


def test_error_inside_block_names_the_use_site():
    text = """input: [8, 8, 3]
blocks:
  b:
    params: {k: null}
    layers:
      - {type: conv2d, filters: 4, kernel: $k}
layers:
  - {block: b, k: 9, name: blk}
"""
    d = err(text)
    assert where(d) == at(text, 6, "$k") and "blk.conv1" in d.message and "block 'b' used at line 8" in d.message


def test_all_errors_reported_together():
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads("input: [8, 8, 3]\nlayers:\n  - {type: foo}\n  - {type: conv2d, filters: -1, kernel: 3}\n")
    assert [d.loc.line for d in info.value.diagnostics] == [3, 4]


@pytest.mark.parametrize("text,rule", [
    ("", "empty-file"),
    ("# only a comment\n", "empty-file"),
    ("[1, 2]\n", "not-a-spec"),
    ("input: [1, 2\n", "invalid-yaml"),
    ("input: !!python/object:os.system [ls]\nlayers: [relu]\n", "invalid-yaml"),
    ("input: [8, 8, 3]\ninput: [8, 8, 3]\nlayers: [relu]\n", "duplicate-key"),
    ("input: [8, 8, 3]\n", "missing-key"),
    ("input: [8, 8, 3]\nlayer: [relu]\nlayers: [relu]\n", "unknown-key"),
])
def test_malformed_files(text, rule):
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "bad.yaml")
    assert info.value.first.rule == rule


def test_billion_laughs_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]")
    text = "\n".join(lines) + "\ninput: [8, 8, 3]\nlayers: [relu]\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "bomb.yaml")
    assert info.value.first.rule in ("too-large", "unknown-key")


def test_cli_error_is_one_line_with_location(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("input: [4, 4, 3]\nlayers:\n  - {type: conv2d, filters: 1, kernel: 5}\n")
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"{path}:3:40: error: conv1: kernel 5 is larger than the padded input 4 along H (4 + padding 0); "
        "use a smaller kernel or more padding [kernel-too-large]"]


def test_cli_missing_file_and_non_utf8(tmp_path):
    result = CliRunner().invoke(main, ["show", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read file" in result.output  # unreadable input, as `lint`
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\ninput: [8, 8, 3]\nlayers: [relu]\n")
    result = CliRunner().invoke(main, ["show", str(bad)])
    assert result.exit_code == 1 and f"{bad}:1:10: error: file is not valid UTF-8" in result.output


def test_names_digits_and_computed():
    a = cnncalc.analyse(cnncalc.loads("""input: [8, 8, 3]
layers:
  - {type: conv2d, name: conv1, filters: 4, kernel: 3, padding: 1}
  - {type: conv2d, name: "conv${i + 2}", filters: 4, kernel: 3, padding: 1, repeat: 3}
  - {type: relu, name: 0}
  - {type: relu, name: r, repeat: 2}
  - relu
"""))
    assert [x.name for x in a.layers] == ["conv1", "conv2", "conv3", "conv4", "0", "r.0", "r.1", "relu1"]


@pytest.mark.parametrize("name,needle", [('"-x"', '"-x"'), ('"a b"', '"a b"'), ("input", "input}"),
                                         ('"c${nope}"', '"c${nope}"')])
def test_bad_names(name, needle):
    text = f"input: [8, 8, 3]\nlayers:\n  - {{type: relu, name: {name}}}\n"
    d = err(text)
    assert where(d) == at(text, 3, needle)


def test_output_padding_with_same_is_refused():
    text = "input: [5, 5, 4]\nlayers:\n  - {type: conv_transpose2d, filters: 8, kernel: 3, stride: 2, padding: same, output_padding: 1}\n"
    d = err(text)
    assert d.rule == "invalid-value" and where(d) == at(text, 3, "1}") and "output_padding" in d.message


def test_a_layer_may_read_one_defined_after_it():
    """Inputs may name a later layer: the analysis orders the graph (and reports layers in that order)."""
    a = cnncalc.analyse(cnncalc.loads("input: [8, 8, 3]\nlayers:\n  - {type: add, name: sum, inputs: [late, input]}\n"
                      "  - {type: relu, name: late, inputs: [input]}\n", "f.yaml"))
    assert [layer.name for layer in a.layers] == ["late", "sum"]
    assert a.layer("sum").output_shape == (8, 8, 3) and a.layer("sum").flops == 8 * 8 * 3


def test_a_self_loop_is_a_cycle():
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads("input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a, inputs: [a]}\n", "s.yaml"))
    assert info.value.first.rule == "cycle" and (info.value.first.loc.line, info.value.first.loc.col) == (3, 35)  # at `inputs`
