"""One-layer calculators (`conv`, `pool`, `dense`, `size`) and their --format json / --explain.

Numbers come from the slides (000/002: 7x7 ⊛ 3x3 sizes, the 760-parameter homework) or from
running torch; error paths check exit status and the one-line message.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc import calc
from cnncalc.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ---- slide values -------------------------------------------------------------------------------

def test_conv_homework_760():  # slide 002: "each filter has 5*5*3 + 1 = 76 params => 76*10 = 760"
    r = run("conv", "--input", "32x32x3", "--filters", "10", "--kernel", "5", "--stride", "1", "--padding", "2")
    assert r.exit_code == 0, r.output
    assert "32x32x3 → 32x32x10" in r.stdout
    assert "params: 760 (trainable 760, non-trainable 0)" in r.stdout
    assert "MACs:   768,000" in r.stdout and r.stderr == ""


def test_conv_explain_homework():
    r = run("conv", "--input", "32x32x3", "--filters", "10", "--kernel", "5", "--padding", "2", "--explain")
    assert r.exit_code == 0
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    assert "H_out = (32 − 5 + 2·2)/1 + 1 = 32" in lines
    assert "W_out = (32 − 5 + 2·2)/1 + 1 = 32" in lines
    assert "params = 10 · (5·5·3 + 1) = 760" in lines
    assert "MACs = 32·32·10 · 5·5·3 = 768,000" in lines
    # 2 FLOPs per MAC plus one add per output value for the bias (cnncalc convention)
    assert "FLOPs = 2·768,000 MACs + 10,240 bias adds = 1,546,240" in lines


@pytest.mark.parametrize("args,out", [(("7", "3", "1"), "5"), (("7", "3", "2"), "3"), (("7", "3", "1", "1"), "7"),
                                      (("32", "5", "1", "2"), "32")])
def test_size_slide_000(args, out):
    r = run("size", *args)
    assert r.exit_code == 0 and r.stdout == out + "\n" and r.stderr == ""


def test_size_stride_does_not_fit():  # slide 000: stride 3 ⇒ (7 − 3)/3 + 1 = 2.33 ⇒ 2
    r = run("size", "7", "3", "3")
    assert r.exit_code == 0 and r.stdout == "2\n"
    assert r.stderr.startswith("warning: stride does not fit: 2.33")
    assert "the last 1 input row is never read" in r.stderr


def test_size_explain_and_json():
    r = run("size", "7", "3", "3", "--explain")
    assert "output = (7 − 3)/3 + 1 = 2.33 → ⌊⌋ floor = 2" in r.stdout.splitlines()
    doc = json.loads(run("size", "7", "3", "3", "-f", "json").stdout)
    assert doc["output"] == 2 and doc["exact"] is False and round(doc["ratio"], 2) == 2.33
    assert json.loads(run("size", "7", "3", "2", "-f", "json").stdout)["exact"] is True


def test_size_markdown():
    r = run("size", "7", "3", "2", "-f", "markdown")
    assert "| 7 | 3 | 2 | 0 | 3 |" in r.stdout


def test_six_5x5_filters_slide_000():
    layer = calc.conv("32x32x3", filters=6, kernel=5)
    assert layer.output_shape == (28, 28, 6) and layer.params == 6 * (5 * 5 * 3 + 1)


def test_pool_slide_sizes():
    r = run("pool", "--input", "4x4x1", "--kernel", "2", "--stride", "2", "-f", "json")
    doc = json.loads(r.stdout)
    assert doc["output_shape"] == [2, 2, 1] and doc["params"] == 0 and doc["type"] == "max_pool2d"
    assert json.loads(run("pool", "--input", "4x4x1", "--kernel", "2", "--type", "avg", "-f", "json").stdout)[
        "type"] == "avg_pool2d"


# ---- json output --------------------------------------------------------------------------------

def test_json_keys_match_show(spec):
    path = spec("input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 5, padding: 2}\n")
    show_layer = json.loads(run("show", str(path), "-f", "json").stdout)["layers"][0]
    doc = json.loads(run("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "2", "-f", "json").stdout)
    assert set(doc) == set(show_layer)
    for key in ("input_shapes", "output_shape", "params", "trainable_params", "non_trainable_params", "macs",
                "flops"):
        assert doc[key] == show_layer[key]
    dense = json.loads(run("dense", "--in", "3072", "--out", "10", "-f", "json").stdout)
    assert set(dense) == set(show_layer)
    explained = json.loads(run("dense", "--in", "3072", "--out", "10", "-f", "json", "--explain").stdout)
    assert set(explained) == set(show_layer) | {"explain"}
    assert "params = 3,072 · 10 + 10 = 30,730" in explained["explain"]


def test_markdown_calculator():
    r = run("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "2", "-f", "markdown", "--explain")
    assert r.exit_code == 0
    assert "| 32x32x10 | 760 |" in r.stdout
    assert "- `params = 10 · (5·5·3 + 1) = 760`" in r.stdout


# ---- options ------------------------------------------------------------------------------------

def test_layout_channels_first():
    doc = json.loads(run("conv", "-i", "3x32x32", "-n", "10", "-k", "5", "--layout", "channels_first",
                         "-f", "json").stdout)
    assert doc["output_shape"] == [10, 28, 28] and doc["params"] == 760


def test_padding_forms():
    def shape(*extra):
        return json.loads(run("conv", "-i", "7x9x1", "-n", "1", "-k", "3", *extra, "-f", "json").stdout)[
            "output_shape"]
    assert shape("-p", "same") == [7, 9, 1]
    assert shape("-p", "valid") == [5, 7, 1]
    assert shape("-p", "1,0") == [7, 7, 1]
    assert shape("-p", "0,1,2,0") == [6, 9, 1]
    assert shape("-k", "3x5") == [5, 5, 1]  # -k given twice: the last wins


def test_same_padding_explain():  # the example derivation
    r = run("conv", "-i", "7x7x1", "-n", "1", "-k", "3", "-s", "2", "-p", "same", "--explain")
    assert "SAME (H): total pad = max((⌈7/2⌉ − 1)·2 + 3 − 7, 0) = 2 → top 1, bottom 1" in r.stdout


def test_stride_warning_goes_to_stderr():
    r = run("conv", "-i", "7x7x1", "-n", "1", "-k", "3", "-s", "3", "-f", "json")
    assert json.loads(r.stdout)["output_shape"] == [2, 2, 1]
    assert "warning: stride 3 does not fit along H" in r.stderr


def test_library_functions():
    assert calc.dense(3072, 10).params == 30_730
    assert calc.dense(3072, 10, bias=False).params == 30_720
    assert calc.pool((4, 4, 1), 2).output_shape == (2, 2, 1)
    assert calc.pool("5x5x1", 2, ceil_mode=True).output_shape == (3, 3, 1)
    d = calc.size(7, 3, 3)
    assert (d.out, round(d.ratio, 2), d.unread) == (2, 2.33, 1)


# ---- against torch ------------------------------------------------------------------------------

CONV_CASES = [
    # (H, W, C_in, filters, kernel, stride, padding, dilation, groups, bias)
    (32, 32, 3, 10, 5, 1, 2, 1, 1, True),
    (227, 227, 3, 96, 11, 4, 0, 1, 1, True),
    (16, 12, 8, 4, (3, 5), (2, 1), (1, 2), 1, 2, False),
    (20, 20, 6, 6, 3, 1, 2, 2, 3, True),
    (9, 9, 4, 8, 3, 2, 0, 1, 4, True),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_torch(case):
    torch = pytest.importorskip("torch")
    h, w, c, n, k, s, p, d, g, b = case
    layer = calc.conv((h, w, c), n, k, s, p, d, g, b)
    m = torch.nn.Conv2d(c, n, k, s, p, d, g, b)
    y = m(torch.zeros(1, c, h, w))
    assert layer.output_shape == (y.shape[2], y.shape[3], y.shape[1])
    assert layer.params == sum(t.numel() for t in m.parameters())


@pytest.mark.parametrize("kind,k,s,p,ceil", [("max", 2, 2, 0, False), ("max", 3, 2, 1, True), ("avg", 3, 2, 0, True),
                                             ("avg", (2, 3), (1, 2), (1, 0), False)])
def test_pool_matches_torch(kind, k, s, p, ceil):
    torch = pytest.importorskip("torch")
    layer = calc.pool((13, 10, 4), k, s, p, ceil, kind)
    op = torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d
    y = op(k, s, p, ceil_mode=ceil)(torch.zeros(1, 4, 13, 10))
    assert layer.output_shape == (y.shape[2], y.shape[3], y.shape[1])


def test_dense_matches_torch():
    torch = pytest.importorskip("torch")
    r = run("dense", "--in", "3072", "--out", "10", "-f", "json")
    assert json.loads(r.stdout)["params"] == sum(t.numel() for t in torch.nn.Linear(3072, 10).parameters())
    r = run("dense", "--in", "3072", "--out", "10", "--no-bias", "-f", "json")
    assert json.loads(r.stdout)["params"] == sum(
        t.numel() for t in torch.nn.Linear(3072, 10, bias=False).parameters())


# ---- errors: usage errors exit 2, layer-rule errors exit 1, always one line ---------------------

@pytest.mark.parametrize("args,fragment", [
    (("conv", "-i", "32x32", "-n", "10", "-k", "5"), "32x32 has 2 dims; give HxWxC, e.g. 32x32x3 (channels_last)"),
    (("conv", "-i", "32x32", "-n", "1", "-k", "3", "--layout", "channels_first"), "give CxHxW"),
    (("conv", "-i", "axb", "-n", "10", "-k", "5"), "'axb' is not a shape like 32x32x3"),
    (("conv", "-i", "32x0x3", "-n", "10", "-k", "5"), "sizes must be ≥ 1"),
    (("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-s", "-1"), "must be ≥ 1, got -1"),
    (("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-s", "0"), "must be ≥ 1, got 0"),
    (("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "-2"), "padding must be ≥ 0"),
    (("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "full"), "is not INT, H,W"),
    (("conv", "-i", "32x32x3", "-n", "0", "-k", "5"), "--filters"),
    (("conv", "-i", "32x32x3", "-k", "5"), "--filters"),
    (("conv", "-n", "3", "-k", "5"), "--input"),
    (("conv", "-i", "32x32x3", "-n", "3", "-k", "5", "--bogus"), "No such option"),
    (("pool", "-k", "2"), "--input"),
    (("pool", "-i", "4x4x1"), "--kernel"),
    (("pool", "-i", "4x4x1", "-k", "2", "--type", "min"), "--type"),
    (("dense", "--in", "0", "--out", "10"), "--in"),
    (("size", "7", "0", "1"), "'F'"),
    (("size", "7", "3", "-1"), "'[S]': -1 is not in the range"),
    (("size", "7", "3", "1", "-1"), "'[P]': -1 is not in the range"),
    (("size", "x"), "'N'"),
    (("conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-f", "csv"), "--format"),
])
def test_usage_errors(args, fragment):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args,fragment", [
    (("conv", "-i", "5x5x3", "-n", "1", "-k", "7"), "kernel 7 is larger than the padded input 5 along H"),
    (("conv", "-i", "5x5x3", "-n", "4", "-k", "3", "-g", "2"), "groups 2 must divide the input channels (3)"),
    (("pool", "-i", "4x4x1", "-k", "2", "-p", "2"), "more than half the pooling kernel"),
    (("pool", "-i", "4x4x1", "-k", "2", "-p", "same", "--ceil-mode"), "ceil_mode does not combine"),
    (("size", "3", "5", "1"), "kernel 5 is larger than the padded input 3"),
])
def test_layer_errors(args, fragment):
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert r.stdout == "" and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr and "<calc>" not in r.stderr


def test_commands_listed_in_help():
    r = run("--help")
    for name in ("conv", "pool", "dense", "size", "solve"):
        assert f"  {name} " in r.stdout


def test_calculator_module_is_lazy():
    import subprocess
    import sys

    code = ("import sys, cnncalc.cli, cnncalc.commands.calc, cnncalc.commands.solve; "
            "print(any(m in sys.modules for m in ('yaml', 'rich', 'cnncalc.spec', 'cnncalc.analysis')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_convention_option_on_calculators():
    # the 760-parameter layer as the real tools count it (docs/flops.md): torchinfo/ptflops 778,240
    # mult-adds (bias included), torchvision 768,000, calflops 1,546,240 FLOPs
    args = ["conv", "-i", "32x32x3", "-n", "10", "-k", "5", "-p", "2", "-f", "json", "--convention"]
    assert json.loads(run(*args, "torchinfo").output)["macs"] == 778_240
    assert json.loads(run(*args, "torchvision").output)["macs"] == 768_000
    assert json.loads(run(*args, "calflops").output)["flops"] == 1_546_240
    bad = run(*args, "nope")
    assert bad.exit_code == 2 and "unknown convention 'nope'" in bad.output
