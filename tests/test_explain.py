"""`show --explain`: every layer's derivation in table (plain text), markdown and json output."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import ARCH

from cnncalc.cli import main

HW = str(ARCH / "hw_conv_760.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_show_explain_table():
    r = run("show", HW, "--explain")
    assert r.exit_code == 0
    text = r.stdout.split("Derivations:", 1)[1]
    assert "\nconv1 (conv2d): 32x32x3 → 32x32x10\n" in text
    # indented by four spaces: a code block when pasted into Markdown
    assert "\n    H_out = (32 − 5 + 2·2)/1 + 1 = 32\n" in text
    assert "\n    params = 10 · (5·5·3 + 1) = 760\n" in text
    assert "\n    FLOPs = 2·768,000 MACs + 10,240 bias adds = 1,546,240" in text


def test_show_without_explain_has_no_derivations():
    assert "Derivations" not in run("show", HW).stdout


def test_show_explain_markdown():
    r = run("show", HW, "--explain", "-f", "markdown")
    assert "#### Derivations" in r.stdout
    assert "**conv1** (conv2d): 32x32x3 → 32x32x10" in r.stdout
    assert "- `params = 10 · (5·5·3 + 1) = 760`" in r.stdout


def test_show_explain_json():
    plain = json.loads(run("show", HW, "-f", "json").stdout)
    doc = json.loads(run("show", HW, "-f", "json", "--explain").stdout)
    assert "explain" not in plain["layers"][0]
    layer = doc["layers"][0]
    assert set(layer) == set(plain["layers"][0]) | {"explain"}
    assert layer["explain"][:3] == ["H_out = (32 − 5 + 2·2)/1 + 1 = 32", "W_out = (32 − 5 + 2·2)/1 + 1 = 32",
                                    "params = 10 · (5·5·3 + 1) = 760"]


def test_show_explain_csv_is_a_usage_error():
    r = run("show", HW, "--explain", "-f", "csv")
    assert r.exit_code == 2 and "--explain works with table, markdown and json" in r.stderr


def test_every_layer_of_a_real_network_is_explained():
    """GoogLeNet has conv, pool, LRN, concat, dropout, dense: every layer gets a block, and every
    number that is not zero has a line deriving it."""
    doc = json.loads(run("show", str(ARCH / "googlenet.yaml"), "-f", "json", "--explain").stdout)
    ch = 0 if doc["layout"] == "channels_first" else -1
    for layer in doc["layers"]:
        lines = layer["explain"]
        if layer["flops"]:
            assert lines[-1].startswith("FLOPs = ") and lines[-1].endswith(f"= {layer['flops']:,}"), layer["name"]
        if layer["params"] and layer["type"] in ("conv2d", "dense"):
            assert any(ln.startswith("params = ") and ln.split(" = ")[-1].split(" ")[0] == f"{layer['params']:,}"
                       for ln in lines), layer["name"]
        if layer["type"] == "concat":
            assert lines[0] == f"channels = {' + '.join(str(s[ch]) for s in layer['input_shapes'])} = " \
                f"{layer['output_shape'][ch]:,}"


def test_pool_explain_counts_comparisons(spec):
    path = spec("input: [4, 4, 1]\nlayers:\n  - {type: max_pool2d, kernel: 2}\n")
    doc = json.loads(run("show", str(path), "-f", "json", "--explain").stdout)
    # 4 outputs, each the max of 4 values: 3 comparisons each
    assert "comparisons = 2·2·1 outputs · (2·2 − 1) = 12" in doc["layers"][0]["explain"]
    assert doc["layers"][0]["flops"] == 12
