"""Bad input never wins: bombs and huge numbers are refused in bounded memory, with a located
one-line error (test_errors.py covers the ordinary malformed inputs)."""

from __future__ import annotations

import tracemalloc

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.lint import check_text


def lint(text: str, max_mib: int | None = None) -> list:
    """Lint text (within a peak of max_mib MiB traced allocations, when given: slow); every problem
    is located inside the text."""
    if max_mib is None:
        diags = check_text(text, "h.yaml")
    else:
        tracemalloc.start()
        try:
            diags = check_text(text, "h.yaml")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < max_mib * 2**20, f"peak {peak / 2**20:.0f} MiB"
    lines = text.split("\n")
    for d in diags:
        assert d.loc.file == "h.yaml" and 1 <= d.loc.line <= len(lines), d.format()
        assert 1 <= d.loc.col <= len(lines[d.loc.line - 1]) + 1, d.format()
    return diags


def rules(text: str) -> list[str]:
    return [d.rule for d in lint(text)]


NESTED = """input: [8, 8, 3]
blocks:
  b0: {layers: [%s]}
  b1: {layers: [{block: b0, repeat: 1000}]}
  b2: {layers: [{block: b1, repeat: 1000}]}
layers:
  - {block: b2, repeat: 1000}
"""


CASES = {
    "repeat": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, repeat: 1000000000}\n", "too-large"),
    "input": ("input: [1000000000000, 8, 3]\nlayers: [relu]\n", "too-large"),
    "filters": ("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 1000000000000, kernel: 1}\n", "too-large"),
    "kernel": ("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: [1, 100000000]}\n", "too-large"),
    "hex": ("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 0x" + "f" * 100_000 + ", kernel: 1}\n",
            "too-large"),
    "empty-copies": (NESTED % "{type: relu, if: false}", "too-large"),  # 10⁹ empty copies
    "values": ("input: [8, 8, 3]\nlayers: [" + "relu, " * 150_000 + "relu]\n", "too-large"),  # > 100,000 values
    "string-times": ('input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 1, filters: "${\'x\' * 1000000000000}"}\n',
                     "bad-expression"),
    "string-format": ('input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 1, filters: "${\'%999999999d\' % 1}"}\n',
                      "bad-expression"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused(case):
    text, rule = CASES[case]
    assert rule in rules(text)


def test_a_broken_layer_in_nested_repeats_is_reported_once():
    assert rules(NESTED % "{type: foo}") == ["unknown-layer", "too-many-errors"]


def test_anchor_bomb_on_a_layer_list():
    lines = ["x0: &x0 [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "\n".join(lines) + "\ninput: [8, 8, 3]\nlayers: *x8\n"
    assert "too-large" in rules(text)


def test_huge_adaptive_pool_output_costs_nothing():
    # 16,777,216 x 16,777,216 windows: counted in closed form, never listed
    text = "input: [8, 8, 3]\nlayers:\n  - {type: adaptive_avg_pool2d, output_size: 16777216}\n"
    assert lint(text, max_mib=20) == []


def test_adaptive_window_sum_matches_the_listed_windows():
    from cnncalc.layers.adaptive_pool import adaptive_bins, adaptive_cells

    for size in range(1, 40):
        for out in range(1, 40):
            assert adaptive_cells(size, out) == sum(adaptive_bins(size, out))


def test_big_and_endless_files_are_read_only_up_to_the_limit(tmp_path):
    from cnncalc.yamlio import MAX_BYTES

    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.write(b"input: [8, 8, 3]\nlayers: [relu]\n#" + b"x" * (50 * 2**20))  # 50 MB
    r = CliRunner().invoke(main, ["lint", str(big)])
    assert r.exit_code == 1
    assert r.stdout == f"{big}:1:1: error: file is larger than {MAX_BYTES} bytes, the limit for a spec [too-large]\n"


def test_device_files_are_not_read_forever():
    import os

    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    r = CliRunner().invoke(main, ["lint", "/dev/zero"])
    assert r.exit_code == 1 and "[too-large]" in r.stdout


def test_yaml_tags_are_never_constructed():
    for tag in ("!!python/object/apply:os.system [echo hi]", "!!python/name:os.system", "!custom {a: 1}",
                "!!binary aGk=", "!!set {a, b}", "!!timestamp 2001-12-14"):
        assert rules(f"input: {tag}\nlayers: [relu]\n") == ["invalid-yaml"], tag


def test_huge_values_are_not_echoed_whole(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: 1, filters: '" + "x" * 500_000 + "'}\n")
    r = CliRunner().invoke(main, ["lint", str(path)])
    assert r.exit_code == 1 and "[invalid-value]" in r.stdout and len(r.stdout) < 1000
