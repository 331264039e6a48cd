"""Worked numeric examples (`conv --values`, `pool --values`): slide 000/002/003 matrices and torch."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from cnncalc import worked
from cnncalc.cli import main
from cnncalc.errors import LayerError

# slide 003: the 5x5 input image and 3x3 filter, and the activation maps it works out by hand
IMAGE = "1 2 3 4 5\n2 1 0 1 2\n3 0 1 1 0\n1 4 1 1 2\n2 1 1 0 0\n"
FILTER = "1 0 1\n1 0 1\n0 1 0\n"
SLIDE_STRIDE1 = [[6, 9, 11], [10, 4, 4], [7, 7, 4]]
SLIDE_STRIDE2 = [[6, 11], [7, 4]]
# slides 000/002/003: "max pool with 2x2 filters and stride 2"
POOL_IN = "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4"
POOL_OUT = [[6, 8], [3, 4]]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_slide_003_conv_library():
    x, w = worked.parse_matrix(IMAGE), worked.parse_matrix(FILTER)
    r = worked.conv2d(x, w)
    assert r.output == SLIDE_STRIDE1
    assert worked.conv2d(x, w, stride=2).output == SLIDE_STRIDE2
    # the slide writes out the second cell exactly like this
    assert r.cells[1] == ("out(1,2) = (2x1) + (3x0) + (4x1) + (1x1) + (0x0) + (1x1) + (0x0) + (1x1) + (1x0) = 9")


def test_slide_003_conv_cli_files(tmp_path):
    (tmp_path / "image.txt").write_text(IMAGE)
    (tmp_path / "filter.txt").write_text(FILTER.replace(" ", ", "))  # comma-separated works too
    r = run("conv", "--values", str(tmp_path / "image.txt"), "--kernel-values", str(tmp_path / "filter.txt"))
    assert r.exit_code == 0, r.output
    assert r.stdout == " 6  9 11\n10  4  4\n 7  7  4\n"
    r = run("conv", "--values", str(tmp_path / "image.txt"), "--kernel-values", str(tmp_path / "filter.txt"),
            "--stride", "2", "-f", "json")
    assert json.loads(r.stdout)["output"] == SLIDE_STRIDE2


def test_slide_003_conv_explain():
    r = run("conv", "--values", IMAGE.replace("\n", ";"), "--kernel-values", FILTER.replace("\n", ";"),
            "--stride", "2", "--explain")
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    assert "H_out = (5 − 3)/2 + 1 = 2" in lines
    assert "out(1,1) = (1x1) + (2x0) + (3x1) + (2x1) + (1x0) + (0x1) + (3x0) + (0x1) + (1x0) = 6" in lines
    assert lines[-2:] == ["6 11", "7  4"]


def test_slide_003_markdown_table():
    r = run("conv", "--values", IMAGE, "--kernel-values", FILTER, "-f", "markdown")
    assert "| **1** | 6 | 9 | 11 |" in r.stdout and "| **3** | 7 | 7 | 4 |" in r.stdout


def test_slide_max_pool():
    x = worked.parse_matrix(POOL_IN)
    r = worked.pool2d(x, 2, 2)
    assert r.output == POOL_OUT
    assert r.cells == ["out(1,1) = max(1, 1, 5, 6) = 6", "out(1,2) = max(2, 4, 7, 8) = 8",
                       "out(2,1) = max(3, 2, 1, 2) = 3", "out(2,2) = max(1, 0, 3, 4) = 4"]
    cli = run("pool", "--values", POOL_IN, "--kernel", "2", "--stride", "2")
    assert cli.exit_code == 0 and cli.stdout == "6 8\n3 4\n"
    explained = run("pool", "--values", POOL_IN, "--kernel", "2", "--explain").stdout
    assert "out(1,2) = max(2, 4, 7, 8) = 8" in explained


def test_avg_pool_slide_matrix_against_torch():
    torch = pytest.importorskip("torch")
    x = worked.parse_matrix(POOL_IN)
    ref = torch.nn.functional.avg_pool2d(torch.tensor(x, dtype=torch.float64)[None, None], 2)[0, 0].tolist()
    doc = json.loads(run("pool", "--values", POOL_IN, "-k", "2", "--type", "avg", "-f", "json").stdout)
    assert doc["output"] == ref


def test_padding_and_inline_brackets_against_torch():
    torch = pytest.importorskip("torch")
    r = run("conv", "--values", "[[1, 2, 3, 4, 5], [2, 1, 0, 1, 2], [3, 0, 1, 1, 0], [1, 4, 1, 1, 2], [2, 1, 1, 0, 0]]",
            "--kernel-values", FILTER, "--padding", "1", "-f", "json")
    x = torch.tensor(worked.parse_matrix(IMAGE), dtype=torch.float64)[None, None]
    w = torch.tensor(worked.parse_matrix(FILTER), dtype=torch.float64)[None, None]
    assert json.loads(r.stdout)["output"] == torch.nn.functional.conv2d(x, w, padding=1)[0, 0].tolist()


# ---- random matrices against torch (conv2d, max/avg pool) and TensorFlow's SAME rule --------------

def _rand(rng: random.Random, h: int, w: int, lo: int, hi: int) -> list[list[int]]:
    return [[rng.randint(lo, hi) for _ in range(w)] for _ in range(h)]


def test_conv_random_against_torch():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    rng = random.Random(3)
    checked = 0
    while checked < 300:
        h, w, kh, kw = rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 4)
        s, d, p = (rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(1, 2), rng.randint(1, 2)), (
            rng.randint(0, 2), rng.randint(0, 2))
        if d[0] * (kh - 1) + 1 > h + 2 * p[0] or d[1] * (kw - 1) + 1 > w + 2 * p[1]:
            continue
        x, k = _rand(rng, h, w, -5, 5), _rand(rng, kh, kw, -3, 3)
        ref = f.conv2d(torch.tensor(x, dtype=torch.float64)[None, None], torch.tensor(k, dtype=torch.float64)[None, None],
                       stride=s, padding=p, dilation=d)[0, 0].tolist()
        assert worked.conv2d(x, k, stride=s, padding=list(p), dilation=d).output == ref, (x, k, s, p, d)
        checked += 1


def test_pool_random_against_torch():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    rng = random.Random(4)
    checked = 0
    while checked < 300:
        h, w, kh, kw = rng.randint(1, 8), rng.randint(1, 8), rng.randint(1, 4), rng.randint(1, 4)
        s, p, ceil = (rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(0, kh // 2), rng.randint(0, kw // 2)), \
            rng.random() < 0.5
        if kh > h + 2 * p[0] or kw > w + 2 * p[1]:
            continue
        x = _rand(rng, h, w, -9, 9)
        t = torch.tensor(x, dtype=torch.float64)[None, None]
        assert worked.pool2d(x, (kh, kw), s, list(p), ceil, "max").output == \
            f.max_pool2d(t, (kh, kw), s, p, ceil_mode=ceil)[0, 0].tolist()
        got = worked.pool2d(x, (kh, kw), s, list(p), ceil, "avg").output
        ref = f.avg_pool2d(t, (kh, kw), s, p, ceil_mode=ceil)[0, 0].tolist()
        assert [len(r) for r in got] == [len(r) for r in ref]
        assert all(abs(a - b) < 1e-12 for ra, rb in zip(got, ref, strict=True) for a, b in zip(ra, rb, strict=True))
        checked += 1


def test_same_padding_against_tensorflow_rule():
    """TF SAME: pad (asymmetric, extra at the end); avg divides by the real values only.

    The reference is built from torch ops: zero-pad as TF does, convolve / sum, and for the average
    divide by the pooled count of ones (how tf.nn.avg_pool excludes padding).
    """
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    from cnncalc.layers.geometry import same_padding

    rng = random.Random(5)
    for _ in range(200):
        h, w, kh, kw = rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 4)
        s = (rng.randint(1, 3), rng.randint(1, 3))
        x, k = _rand(rng, h, w, -5, 5), _rand(rng, kh, kw, -3, 3)
        _, top, bottom = same_padding(h, kh, s[0])
        _, left, right = same_padding(w, kw, s[1])
        t = f.pad(torch.tensor(x, dtype=torch.float64)[None, None], (left, right, top, bottom))
        ones = f.pad(torch.ones(1, 1, h, w, dtype=torch.float64), (left, right, top, bottom))
        conv_ref = f.conv2d(t, torch.tensor(k, dtype=torch.float64)[None, None], stride=s)[0, 0].tolist()
        assert worked.conv2d(x, k, stride=s, padding="same").output == conv_ref
        kernel = torch.ones(1, 1, kh, kw, dtype=torch.float64)
        avg_ref = (f.conv2d(t, kernel, stride=s) / f.conv2d(ones, kernel, stride=s))[0, 0].tolist()
        got = worked.pool2d(x, (kh, kw), s, "same", op="avg").output
        assert all(abs(a - b) < 1e-12 for ra, rb in zip(got, avg_ref, strict=True) for a, b in zip(ra, rb, strict=True))
        neg_inf = f.pad(torch.tensor(x, dtype=torch.float64)[None, None], (left, right, top, bottom),
                        value=float("-inf"))
        assert worked.pool2d(x, (kh, kw), s, "same").output == f.max_pool2d(neg_inf, (kh, kw), s)[0, 0].tolist()


# ---- parsing and errors -------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("1 2 3; 4 5 6", [[1, 2, 3], [4, 5, 6]]),
    ("1,2,3\n4,5,6\n", [[1, 2, 3], [4, 5, 6]]),
    ("1, 2, 3\n\n4,\t5, 6  # a comment\n", [[1, 2, 3], [4, 5, 6]]),
    ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("0.5 -1 2e1", [[0.5, -1, 20.0]]),
])
def test_parse_matrix(text, expected):
    assert worked.parse_matrix(text) == expected


@pytest.mark.parametrize("text,fragment", [
    ("1 2 3; 4 5", "row 2 has 2 values but row 1 has 3"),
    ("1 x 3", "'x' is not a number (row 1, column 2)"),
    ("", "no numbers found"),
    ("1 nan", "not a finite number"),
])
def test_parse_matrix_errors(text, fragment):
    with pytest.raises(worked.MatrixError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        worked.parse_matrix(text)


def test_avg_values_are_readable():
    r = worked.pool2d([[1, 2], [3, 5]], 2, op="avg")
    assert r.output == [[2.75]] and r.cells == ["out(1,1) = (1 + 2 + 3 + 5)/4 = 2.75"]
    assert worked.pool2d([[1, 3], [3, 5]], 2, op="avg").output == [[3]]  # whole numbers stay integers


def test_kernel_larger_than_image_raises():
    with pytest.raises(LayerError, match="kernel 3 is larger than the padded input 2"):
        worked.conv2d([[1, 2], [3, 4]], [[1, 1, 1]] * 3)


@pytest.mark.parametrize("args,code,fragment", [
    (("conv", "--values", "1 2; 3 4", "--kernel-values", "1 1 1; 1 1 1; 1 1 1"), 1, "kernel 3 is larger"),
    (("conv", "--values", "1 2; 3 4"), 2, "needs both --values and --kernel-values"),
    (("conv", "--kernel-values", "1 2; 3 4"), 2, "needs both --values and --kernel-values"),
    (("conv", "--values", "1 2; 3", "--kernel-values", "1"), 2, "row 2 has 1 values but row 1 has 2"),
    (("conv", "--values", "missing.txt", "--kernel-values", "1"), 2, "'missing.txt' is neither a file nor numbers"),
    (("conv", "--values", "1 2; 3 4", "--kernel-values", "1", "--input", "2x2x1"), 2, "not used with --values"),
    (("conv", "--values", "1 2; 3 4", "--kernel-values", "1", "--kernel", "3"), 2, "does not match"),
    (("conv", "--values", "1 2; 3 4", "--kernel-values", "1", "--stride", "0"), 2, "must be ≥ 1"),
    (("pool", "--values", "1 2; 3 4", "-k", "3"), 1, "kernel 3 is larger"),
    (("pool", "--values", "1 2; 3 4", "-k", "2", "-p", "2"), 1, "more than half the pooling kernel"),
    (("pool", "--values", "1 2; 3 4", "-k", "2", "--input", "2x2x1"), 2, "not used with --values"),
])
def test_worked_cli_errors(args, code, fragment):
    r = run(*args)
    assert r.exit_code == code, r.output
    assert r.stdout == "" and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr


def test_values_from_stdin():
    r = CliRunner().invoke(main, ["pool", "--values", "-", "-k", "2"], input=POOL_IN.replace(";", "\n"))
    assert r.exit_code == 0 and r.stdout == "6 8\n3 4\n"


# ---- several channels (optional extension: channels separated by blank lines or |) ---------------

def test_parse_channels():
    assert worked.parse_channels("1 2; 3 4 | 5 6; 7 8") == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    assert worked.parse_channels("1 2\n3 4\n\n5 6\n7 8\n") == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    assert worked.parse_channels("1 2\n3 4\n") == [[[1, 2], [3, 4]]]
    with pytest.raises(worked.MatrixError, match=r"channel 2 is 1x2 but channel 1 is 2x2"):
        worked.parse_channels("1 2; 3 4 | 5 6")
    with pytest.raises(worked.MatrixError, match=r"channel 2: 'x' is not a number"):
        worked.parse_channels("1 2 | x 3")


def test_multichannel_conv_and_pool_against_torch():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    rng = random.Random(6)
    for _ in range(100):
        c, h, w, k = rng.randint(2, 3), rng.randint(3, 6), rng.randint(3, 6), rng.randint(1, 3)
        x = [_rand(rng, h, w, -4, 4) for _ in range(c)]
        filt = [_rand(rng, k, k, -2, 2) for _ in range(c)]
        s, p = rng.randint(1, 2), rng.randint(0, 1)
        t = torch.tensor(x, dtype=torch.float64)[None]
        ref = f.conv2d(t, torch.tensor(filt, dtype=torch.float64)[None], stride=s, padding=p)[0, 0].tolist()
        assert worked.conv2d(x, filt, stride=s, padding=p).output == ref
        pool_ref = f.max_pool2d(t, 2, 1)[0].tolist()
        assert worked.pool2d(x, 2, 1).output == pool_ref


def test_multichannel_cli():
    r = run("conv", "--values", "1 2 0; 0 1 1; 1 0 2 | 2 0 1; 1 1 0; 0 2 1", "--kernel-values", "1 0; 0 1 | 0 1; 1 0",
            "--explain")
    assert r.exit_code == 0
    assert "out(1,1) = [(1x1) + (2x0) + (0x0) + (1x1)] + [(2x0) + (0x1) + (1x1) + (1x0)] = 3" in r.stdout
    r = run("pool", "--values", "1 2; 3 4 | 5 6; 7 9", "-k", "2", "--explain")
    assert "channel 2: out(1,1) = max(5, 6, 7, 9) = 9" in r.stdout and r.stdout.endswith("4\n\n9\n")
    doc = json.loads(run("pool", "--values", "1 2; 3 4 | 5 6; 7 9", "-k", "2", "-f", "json").stdout)
    assert doc["output_shape"] == [2, 1, 1] and doc["output"] == [[[4]], [[9]]]
    r = run("conv", "--values", "1 2; 3 4 | 5 6; 7 9", "--kernel-values", "1")
    assert r.exit_code == 1 and "the filter has 1 channel but the input has 2" in r.stderr
