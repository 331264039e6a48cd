"""Inverse sizing (`cnncalc solve`): every solution plugged back into the forward rule, and no
solution missed (brute force over a grid of sizes); a sample also checked with real torch layers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.calc import size
from cnncalc.cli import main
from cnncalc.errors import LayerError
from cnncalc.solve import SolveError, solve


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def forward(i: int, f: int, s: int, p: int, d: int = 1) -> int | None:
    """The forward rule as cnncalc's layers apply it (None: the kernel does not fit)."""
    try:
        return size(i, f, s, p, d).out
    except LayerError:
        return None


def textbook(i: int, f: int, s: int, p: int, d: int = 1) -> int | None:
    """⌊(N − F + 2P)/S⌋ + 1 written independently of cnncalc, for the brute-force search."""
    n = i + 2 * p - d * (f - 1) - 1
    return None if n < 0 else n // s + 1


# ---- the issue's and the slides' examples --------------------------------------------------------

def test_padding_keeps_32():  # 32x32 input, 5x5 filter, stride 1: padding 2 keeps 32 (slide 002 homework)
    r = solve(32, 32, kernel=5)
    assert r.unknown == "padding" and list(r.values) == [2]
    cli = run("solve", "--input", "32", "--kernel", "5", "--output", "32")
    assert cli.exit_code == 0 and cli.stdout.splitlines()[0] == "padding = 2"


@pytest.mark.parametrize("f,p", [(3, 1), (5, 2), (7, 3)])  # slide 001/003: (F − 1)/2 padding keeps the size
def test_same_size_padding(f, p):
    assert list(solve(7, 7, kernel=f, stride=1).values) == [p]


def test_stride_slide_000():  # 7x7, 3x3: stride 1 → 5, stride 2 → 3; output 2 from stride 3 (2.33 → 2) or 4
    assert list(solve(7, 5, kernel=3, padding=0).values) == [1]
    assert list(solve(7, 3, kernel=3, padding=0).values) == [2]
    r = solve(7, 2, kernel=3, padding=0)
    assert list(r.values) == [3, 4]
    assert [r.check(v).ratio == r.check(v).out for v in r.values] == [False, True]
    out = run("solve", "-i", "7", "-k", "3", "-o", "2", "-p", "0").stdout
    assert "stride = 3: output = (7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2  (stride does not fit" in out
    assert "stride = 4: output = (7 − 3)/4 + 1 = 2\n" in out


def test_kernel_slide_000():  # 32x32x3 with 5x5 filters → 28x28 (slide 000)
    assert list(solve(32, 28).values) == [5]
    r = run("solve", "--input", "32", "--output", "28", "--explain")
    assert "kernel = 5" in r.stdout and "5 ≤ F_eff ≤ 5" in r.stdout


def test_output_one_stride_unbounded():
    r = solve(7, 1, kernel=3, padding=0)
    assert r.unbounded and r.values[0] == 5
    assert "stride ≥ 5" in run("solve", "-i", "7", "-k", "3", "-o", "1", "-p", "0").stdout


def test_no_solution_exit_1_with_hint():
    r = run("solve", "--input", "32", "--kernel", "4", "--output", "32")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("error: no integer padding gives output 32 from input 32, kernel 4, stride 1")
    assert "total padding of 3 does (1 before, 2 after" in r.stderr and r.stderr.count("\n") == 1
    r = run("solve", "--input", "5", "--kernel", "7", "--output", "2", "--for", "stride")
    assert r.exit_code == 1 and "kernel (7) is larger than the padded input (5)" in r.stderr


def test_json_and_markdown():
    doc = json.loads(run("solve", "-i", "7", "-k", "3", "-o", "2", "-p", "0", "-f", "json").stdout)
    assert doc["unknown"] == "stride" and doc["count"] == 2 and (doc["first"], doc["last"]) == (3, 4)
    assert [s["stride"] for s in doc["solutions"]] == [3, 4] and [s["exact"] for s in doc["solutions"]] == [False, True]
    md = run("solve", "-i", "32", "-k", "5", "-o", "32", "-f", "markdown").stdout
    assert "**padding = 2**" in md


def test_long_range_summarised():
    r = run("solve", "-i", "100000", "-k", "1", "-o", "2", "--for", "stride")
    assert r.stdout.splitlines()[0] == "stride = 50000 … 99999 (50,000 solutions)"
    assert "2.99998 → ⌊⌋ floor = 2" in r.stdout  # never a misleading "3.00 → 2"
    assert len(r.stdout.splitlines()) == 4


@pytest.mark.parametrize("args,fragment", [
    (("solve", "-i", "32", "-o", "32", "-k", "5", "-s", "1", "-p", "2"), "nothing to solve"),
    (("solve", "-i", "32", "-o", "32", "-k", "5", "-s", "1", "--for", "stride"), "stride is both given (1)"),
    (("solve", "-i", "32", "-o", "32", "--for", "padding"), "give the kernel size"),
    (("solve", "-i", "0", "-o", "32", "-k", "5"), "--input"),
    (("solve", "-i", "32", "-k", "5"), "--output"),
    (("solve", "-i", "32", "-o", "32", "-k", "5", "--for", "dilation"), "--for"),
])
def test_usage_errors(args, fragment):
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert fragment in r.stderr


def test_library_usage_errors():
    with pytest.raises(SolveError, match="nothing to solve"):
        solve(32, 32, kernel=5, stride=1, padding=2)
    with pytest.raises(SolveError, match="output must be ≥ 1"):
        solve(32, 0, kernel=5)


# ---- exhaustive: plug back in and compare with brute force ---------------------------------------

GRID_I = range(1, 19)
GRID_O = range(1, 22)


def test_padding_grid():
    for i in GRID_I:
        for o in GRID_O:
            for f in range(1, 10):
                for s in range(1, 6):
                    for d in (1, 2):
                        r = solve(i, o, kernel=f, stride=s, dilation=d)
                        assert all(forward(i, f, s, p, d) == o for p in r.values)
                        # P beyond (O·S + F_eff)/2 gives an output above O: the brute force is complete
                        brute = [p for p in range(0, (o * s + d * f) // 2 + 2) if textbook(i, f, s, p, d) == o]
                        assert list(r.values) == brute, (i, o, f, s, d)


def test_stride_grid():
    for i in GRID_I:
        for o in GRID_O:
            for f in range(1, 10):
                for p in range(0, 4):
                    for d in (1, 2):
                        r = solve(i, o, kernel=f, padding=p, dilation=d)
                        limit = i + 2 * p + 2  # any stride ≥ the padded input gives output 1
                        brute = [s for s in range(1, limit + 5) if textbook(i, f, s, p, d) == o]
                        got = list(r.values)
                        assert all(forward(i, f, s, p, d) == o for s in got)
                        if r.unbounded:
                            assert all(textbook(i, f, s, p, d) == o for s in range(got[0], limit + 5))
                            got = list(range(got[0], limit + 5))
                        assert got == brute, (i, o, f, p, d)


def test_kernel_grid():
    for i in GRID_I:
        for o in GRID_O:
            for s in range(1, 6):
                for p in range(0, 4):
                    for d in (1, 2, 3):
                        r = solve(i, o, stride=s, padding=p, dilation=d)
                        brute = [f for f in range(1, i + 2 * p + 2) if textbook(i, f, s, p, d) == o]
                        assert list(r.values) == brute, (i, o, s, p, d)
                        assert all(forward(i, f, s, p, d) == o for f in r.values)


def test_solutions_against_torch():
    """A sample of solutions, run as real torch convolutions, give the wanted output length."""
    torch = pytest.importorskip("torch")
    conv1d = torch.nn.functional.conv1d
    checked = 0
    for i in (5, 7, 12, 32):
        for o in (1, 2, 3, 5, 16, 32):
            for f in (1, 3, 5):
                for s in (1, 2, 3):
                    r = solve(i, o, kernel=f, stride=s)
                    for p in r.values:
                        assert conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, f), stride=s, padding=p).shape[-1] == o
                        checked += 1
                r = solve(i, o, kernel=3, padding=1)
                for s in list(r.values)[:5]:
                    assert conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, 3), stride=s, padding=1).shape[-1] == o
                    checked += 1
    assert checked > 50
