"""Worked examples (`conv --values`, `pool --values`) are small by design: every size the input
controls is bounded, and an example too big to write out is refused before any cell is computed."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cnncalc import worked
from cnncalc.cli import main
from cnncalc.errors import LayerError
from cnncalc.limits import MAX_VALUES_BYTES, MAX_WORKED_TERMS


def run(*args: str, input: str | None = None):
    r = CliRunner().invoke(main, list(args), input=input)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def test_padding_that_makes_a_huge_output_is_refused_before_computing():
    r = run("conv", "--values", "1", "--kernel-values", "1", "--padding", "2000")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == ("error: the output would be 4,001x4,001 = 16,008,001 values; a worked example computes at "
                        "most 10,000 (less padding, or a larger stride; without --values the calculator gives the "
                        "shape alone) [too-large]\n")


def test_a_window_too_big_to_write_out_is_refused():
    r = run("pool", "--values", "1 2; 3 4", "--kernel", "4000000", "--padding", "2000000", "--type", "avg")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("error: the derivations would write out 16,000,000,000,000 terms (1 output value of a "
                               "4,000,000x4,000,000 window); a worked example writes at most 1,000,000")


def test_the_terms_limit_counts_channels_and_is_exact_at_the_boundary():
    x = [[1] * 100 for _ in range(100)]
    k = [[1] * 10 for _ in range(10)]
    # 100x100 ⊛ 10x10 with padding 0: 91·91 outputs of 100 terms = 828,100 terms: allowed
    assert len(worked.conv2d(x, k).output) == 91
    # two channels double the terms: 1,656,200 > 1,000,000
    with pytest.raises(LayerError) as info:
        worked.conv2d([x, x], [k, k])
    assert info.value.rule == "too-large" and "1,656,200 terms" in info.value.message
    assert 91 * 91 * 100 <= MAX_WORKED_TERMS < 2 * 91 * 91 * 100


def test_values_too_large_for_exact_sums_are_refused():
    # 1e308 summed over a window overflowed to inf: `pool --type avg -f json` printed Infinity
    r = run("pool", "--values", "1e308 1e308; 1e308 1e308", "--kernel", "2", "--type", "avg", "-f", "json")
    assert r.exit_code == 2 and "Infinity" not in r.stdout
    assert "1e308 is too large for a worked example (row 1, column 1); values are at most 10^15 in size" in r.stderr
    r = run("conv", "--values", "9" * 5000, "--kernel-values", "1")  # int() refuses > 4,300 digits
    assert r.exit_code == 2 and "is too long for a value (row 1, column 1)" in r.stderr


def test_a_values_file_or_stdin_is_read_only_up_to_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("1 " * (MAX_VALUES_BYTES // 2 + 1))
    r = run("conv", "--values", str(big), "--kernel-values", "1")
    assert r.exit_code == 2
    assert f"{big} has more than 1,048,576 bytes of values; a worked example is a small matrix" in r.stderr
    r = run("conv", "--values", "-", "--kernel-values", "1", input="1 " * (MAX_VALUES_BYTES // 2 + 1))
    assert r.exit_code == 2 and "standard input has more than 1,048,576 bytes of values" in r.stderr


def test_devices_and_pipes_are_not_values_files(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    r = run("conv", "--values", "/dev/zero", "--kernel-values", "1")
    assert r.exit_code == 2 and "'/dev/zero' is neither a file nor numbers" in r.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = run("pool", "--values", str(fifo), "--kernel", "2")  # opening it would wait for a writer
    assert r.exit_code == 2 and "is neither a file nor numbers" in r.stderr


def test_small_examples_still_work():
    r = run("pool", "--values", "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4", "--kernel", "2")
    assert r.exit_code == 0 and r.stdout == "6 8\n3 4\n"
