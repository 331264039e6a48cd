"""`expect:` assertions: layers, blocks, the network; `show` and `check` fail on a mismatch.

Expected numbers come from the slides (homework: 32x32x10, 760 params; AlexNet CONV1 55x55x96,
POOL1 27x27x96 with 0 params) or from torch (marked)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.expect import check, count, number_text

HW = "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, name: conv1, filters: 10, kernel: 5, padding: 2"


def problems(text: str) -> list[str]:
    return [d.format() for d in check(cnncalc.analyse(cnncalc.loads(text, "e.yaml")))]


def at(text: str, line: int, needle: str, file: str = "e.yaml") -> str:
    """`file:line:col` of `needle` on `line` of `text` (1-based)."""
    return f"{file}:{line}:{text.splitlines()[line - 1].index(needle) + 1}"


def test_homework_answers_pass():
    text = HW + ", expect: {output_shape: 32x32x10, params: 760, trainable_params: 760, non_trainable_params: 0}}\n" \
        "expect: {output_shape: [32, 32, 10], params: '760'}\n"
    a = cnncalc.analyse(cnncalc.loads(text, "e.yaml"))
    assert check(a) == [] and count(a) == 6


def test_every_mismatch_is_reported_at_its_value():
    text = HW + ", expect: {output_shape: 28x28x10, params: 750}}\nexpect: {params: 761, output_shape: 32x32x3}\n"
    shape_at = at(text, 4, "32x32x3")
    assert problems(text) == [
        f"{at(text, 3, '28x28x10')}: error: conv1: expected output_shape 28x28x10, got 32x32x10 [expect-failed]",
        f"{at(text, 3, '750')}: error: conv1: expected params 750, got 760 [expect-failed]",
        f"{at(text, 4, '761')}: error: network: expected params 761, got 760 [expect-failed]",
        f"{shape_at}: error: network: expected output_shape 32x32x3, got 32x32x10 [expect-failed]",
    ]


def test_channels_first_shapes_are_in_the_spec_layout():
    text = ("input: [3, 227, 227]\nlayout: channels_first\nlayers:\n"
            "  - {type: conv2d, filters: 96, kernel: 11, stride: 4, expect: {output_shape: [96, 55, 55]}}\n"
            "  - {type: max_pool2d, kernel: 3, stride: 2, expect: {output_shape: 96x27x27, params: 0}}\n")
    assert problems(text) == []
    text = text.replace("96x27x27", "27x27x96")
    assert problems(text) == [
        f"{at(text, 5, '27x27x96')}: error: pool1: expected output_shape 27x27x96, got 96x27x27 [expect-failed]"]


def test_unknown_and_malformed_expect_keys():
    text = HW + ", expect: {parms: 760, macs: lots, output_shape: [32, x]}}\nexpect: 760\n"
    assert problems(text) == [
        f"{at(text, 3, 'parms')}: error: unknown expect key 'parms'; did you mean 'params'? (known: output_shape, params, "
        "trainable_params, non_trainable_params, macs, flops) [unknown-key]",
        f"{at(text, 3, 'lots')}: error: expected macs must be a non-negative integer, got 'lots' [invalid-value]",
        f"{at(text, 3, '[32, x]')}: error: expected output_shape must be a list of integers in the spec's layout or a string "
        "like '32x32x10', got [32, 'x'] [invalid-value]",
        f"{at(text, 4, '760')}: error: `expect` must be a mapping such as {{output_shape: 32x32x10, params: 760}} "
        "[invalid-value]",
    ]


def test_expect_inside_a_block_applies_to_every_instance():
    text = """input: [32, 32, 3]
blocks:
  b:
    params: {f: null}
    layers:
      - {type: conv2d, name: conv, filters: $f, kernel: 5, padding: 2, expect: {params: 760}}
layers:
  - {block: b, name: ok, f: 10}
  - {block: b, name: bad, f: 10}
"""
    # the second instance reads 10 channels: 10·(5·5·10 + 1) = 2,510 params
    assert problems(text) == [f"{at(text, 6, '760')}: error: bad.conv: expected params 760, got 2510 [expect-failed]"]


def test_expect_on_a_block_use_checks_its_output_and_totals():
    text = """input: [32, 32, 3]
blocks:
  b:
    layers:
      - {type: conv2d, filters: 10, kernel: 5, padding: 2}
      - {type: batch_norm}
layers:
  - {block: b, name: blk, expect: {output_shape: 32x32x10, params: 800, trainable_params: 780}}
"""
    # conv 760 (slides) + batch norm of 10 channels: 20 trainable (gamma, beta) + 20 running statistics
    assert problems(text) == []
    text = text.replace("800", "760")
    assert problems(text) == [
        f"{at(text, 8, '760')}: error: block blk: expected params 760, got 800 [expect-failed]"]


def test_macs_and_flops_against_torch():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(3, 10, 5, padding=2)
    y = conv(torch.zeros(1, 3, 32, 32))
    macs = y.numel() * conv.weight[0].numel()  # each output value: one dot product of 5·5·3
    params = sum(p.numel() for p in conv.parameters())
    text = HW + f", expect: {{macs: {macs}, params: {params}}}}}\n"
    assert problems(text) == []
    text = text.replace(f"macs: {macs}", f"macs: {macs + 1}")
    assert problems(text) == [
        f"{at(text, 3, str(macs + 1))}: error: conv1: expected macs {macs + 1}, got {macs} [expect-failed]"]


def test_show_exits_1_on_a_mismatch(spec):
    path = spec(HW + ", expect: {params: 750}}\n")
    r = CliRunner().invoke(main, ["show", "--format", "json", str(path)])
    assert r.exit_code == 1 and '"params": 760' in r.stdout  # the table/JSON is still printed
    assert r.stderr == f"{at(path.read_text(), 3, '750', str(path))}: error: conv1: expected params 750, got 760 [expect-failed]\n"
    assert CliRunner().invoke(main, ["show", str(spec(HW + ", expect: {params: 760}}\n", "ok.yaml"))]).exit_code == 0


def test_check_command(spec, tmp_path):
    ok = spec(HW + ", expect: {output_shape: 32x32x10, params: 760}}\n", "ok.yaml")
    bad = spec(HW + ", expect: {params: 750}}\n", "bad.yaml")
    none = spec(HW + "}\n", "none.yaml")
    r = CliRunner().invoke(main, ["check", str(ok), str(none)])
    assert r.exit_code == 0 and r.stdout == f"{ok}: 2 expectations met\n{none}: no expectations\n"
    r = CliRunner().invoke(main, ["check", str(ok), str(bad)])
    assert r.exit_code == 1 and r.stderr == f"{at(bad.read_text(), 3, '750', str(bad))}: error: conv1: expected params 750, got 760 [expect-failed]\n"
    assert CliRunner().invoke(main, ["check", "-q", str(ok)]).stdout == ""
    r = CliRunner().invoke(main, ["check", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "cannot read file" in r.stderr
    r = CliRunner().invoke(main, ["check", str(spec("input: [4, 4, 3]\nlayers: [{type: conv2d, filters: 1, kernel: 5}]\n",
                                                    "shape.yaml"))])
    assert r.exit_code == 1 and "[kernel-too-large]" in r.stderr


def test_shipped_homework_example_checks():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "architectures" / "hw_conv_760.yaml"
    r = CliRunner().invoke(main, ["check", str(path)])
    assert r.exit_code == 0 and r.stdout == f"{path}: 4 expectations met\n"


@pytest.mark.parametrize("text,want", [
    ("61,100,840", 61_100_840), ("61_100_840", 61_100_840), ("61 100 840", 61_100_840), ("760", 760),
    ("0", 0), ("1,000", 1000), ("٣٤", 34), ("007", 7),
    ("1,00", None), ("1234,567", None), (",100", None), ("1,000,", None), ("1,000_000", 1_000_000),
    ("1.000", None), ("", None), ("12a", None), (" 760", None), ("1\u00a0000", None), ("-1", None), ("²", None),
])
def test_counts_as_written_on_slides(text, want):
    assert number_text(text) == want
