"""`cnncalc diff A B`: matching by name and by position, the changes, the totals, the formats, --fail-on."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import ARCH

import cnncalc
from cnncalc import diff as d
from cnncalc.cli import main

ALEXNET = (ARCH / "alexnet.yaml").read_text()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def diff_json(a, b, *extra: str) -> dict:
    result = run("diff", str(a), str(b), "-f", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_status(doc: dict, status: str) -> list:
    return [(e["a"], e["b"]) for e in doc["layers"] if e["status"] == status]


def test_a_spec_against_itself_changes_nothing():
    doc = diff_json(ARCH / "resnet50.yaml", ARCH / "resnet50.yaml")
    assert doc["summary"] == {"changed": 0, "added": 0, "removed": 0, "renamed": 0, "unchanged": 175}
    assert all(t["change"] == 0 and t["relative_text"] == "+0.00%" for k, t in doc["totals"].items()
               if k != "non_trainable_params") and doc["totals"]["params"]["a"] == 25_610_152


def test_changed_added_and_removed_layers(spec):
    a = spec(ALEXNET, "a.yaml")
    b = spec(ALEXNET.replace("{type: conv2d, name: conv1, filters: 96,", "{type: conv2d, name: conv1, filters: 64,")
             .replace("  - {type: local_response_norm, name: norm2, size: 5, alpha: 0.0001, beta: 0.75, k: 2}\n", "")
             .replace("  - {type: dense, name: fc8, units: 1000}",
                      "  - {type: dense, name: fc8, units: 1000}\n  - {type: dropout, name: drop8}"), "b.yaml")
    doc = diff_json(a, b)
    conv1 = next(e for e in doc["layers"] if e["a"] == "conv1")
    assert conv1["status"] == "changed" and conv1["matched_by"] == "name"
    assert conv1["output_shape"] == [[55, 55, 96], [55, 55, 64]]
    assert conv1["params"] == [34_944, 23_296] and conv1["macs"] == [105_415_200, 70_276_800]
    assert conv1["changed"] == ["output_shape", "params", "trainable_params", "macs", "flops"]
    assert by_status(doc, "removed") == [("norm2", None)]
    assert by_status(doc, "added") == [(None, "drop8")]
    conv2 = next(e for e in doc["layers"] if e["a"] == "conv2")
    assert conv2["params"] == [614_656, 409_856] and conv2["output_shape"][0] == conv2["output_shape"][1]
    # the order is B's, with a removed layer where it was
    names = [e["b"] or e["a"] for e in doc["layers"]]
    assert names.index("norm2") == names.index("pool2") + 1 and names[-3:] == ["fc8", "drop8", "softmax"]
    t = doc["totals"]["params"]
    assert (t["a"], t["b"], t["change"]) == (62_378_344, 62_378_344 - 11_648 - 204_800, -216_448)
    assert t["relative_text"] == f"{-216_448 / 62_378_344 * 100:+.2f}%" == "-0.35%"


def test_renamed_layers_are_matched_by_their_position(spec):
    a = spec(ALEXNET, "a.yaml")
    b = spec(ALEXNET.replace("name: conv3,", "name: conv3_renamed,").replace("name: relu3}", "name: relu3x}"),
             "b.yaml")
    doc = diff_json(a, b)
    assert by_status(doc, "renamed") == [("conv3", "conv3_renamed"), ("relu3", "relu3x")]
    assert not by_status(doc, "added") and not by_status(doc, "removed") and not by_status(doc, "changed")
    e = next(e for e in doc["layers"] if e["a"] == "conv3")
    assert e["matched_by"] == "position"


def test_specs_in_different_layouts_compare_in_the_first_ones():
    doc = diff_json(ARCH / "alexnet.yaml", ARCH / "alexnet_torchvision.yaml")
    assert doc["layout"] == "channels_last"
    conv3 = next(e for e in doc["layers"] if e["a"] == "conv3")
    assert conv3["b"] == "features.6" and conv3["output_shape"] == [[13, 13, 384], [13, 13, 384]]
    assert "output_shape" not in conv3["changed"] and conv3["params"] == [885_120, 663_936]
    assert ("norm1", None) in by_status(doc, "removed") and (None, "avgpool") in by_status(doc, "added")


def test_numbers_are_shows_under_the_convention():
    a, b = ARCH / "resnet18.yaml", ARCH / "resnet50.yaml"
    for conv in ("cnncalc", "fvcore", "calflops"):
        doc = diff_json(a, b, "--convention", conv)
        shown = {p: json.loads(run("show", str(p), "-f", "json", "--convention", conv).stdout) for p in (a, b)}
        by_name = {p: {layer["name"]: layer for layer in shown[p]["layers"]} for p in (a, b)}
        for e in doc["layers"]:
            for side, p in ((0, a), (1, b)):
                name = e["ab"[side]]
                if name is not None:
                    assert e["macs"][side] == by_name[p][name]["macs"]
                    assert e["flops"][side] == by_name[p][name]["flops"]
                    assert e["params"][side] == by_name[p][name]["params"]
        for key in ("params", "macs", "flops"):
            assert doc["totals"][key]["a"] == shown[a]["totals"][key]
            assert doc["totals"][key]["b"] == shown[b]["totals"][key]
        assert doc["convention"] == conv


def test_se_blocks_are_added_layers():
    doc = diff_json(ARCH / "resnet50.yaml", ARCH / "se_resnet50.yaml")
    assert doc["summary"]["added"] == 16 * 6 and doc["summary"]["removed"] == 0
    assert doc["totals"]["trainable_params"]["change"] == 28_088_024 - 25_557_032
    assert doc["totals"]["trainable_params"]["relative_text"] == "+9.90%"


def test_markdown_for_a_pull_request(spec):
    a = spec(ALEXNET, "a.yaml")
    b = spec(ALEXNET.replace("name: AlexNet (simplified, slide 001)", "name: 'x|y <b>*z*</b>'")
             .replace("filters: 96,", "filters: 64,"), "b.yaml")
    result = run("diff", str(a), str(b), "-f", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("### cnncalc diff: AlexNet \\(simplified, slide 001\\) → x\\|y \\<b\\>\\*z\\*\\</b\\>\n")
    assert "| params | 62,378,344 | 62,161,896 | **-216,448** | **-0.35%** |" in text
    assert "| ~ | conv1 | conv2d | **55x55x96 → 55x55x64** | **34,944 → 23,296** |" in text
    assert "<b>" not in text


def test_the_table_marks_changed_cells(spec):
    a = spec(ALEXNET, "a.yaml")
    b = spec(ALEXNET.replace("filters: 96,", "filters: 64,"), "b.yaml")
    result = run("diff", str(a), str(b))
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if " conv1 " in x)
    assert re.match(r"~\s+conv1\s+conv2d\s+55x55x96 → 55x55x64\s+34,944 → 23,296", line)
    assert "unchanged (convention cnncalc)" in result.stdout
    assert " fc8 " not in result.stdout  # unchanged layers only with --all
    assert " fc8 " in run("diff", str(a), str(b), "--all").stdout


def test_fail_on_thresholds(spec):
    a = spec(ALEXNET, "a.yaml")
    b = spec(ALEXNET.replace("name: fc6, units: 4096}", "name: fc6, units: 5000}"), "b.yaml")
    ok = run("diff", str(a), str(b), "--fail-on", "params>+20%", "--fail-on", "macs<-1%")
    assert ok.exit_code == 0
    bad = run("diff", str(a), str(b), "-f", "json", "--fail-on", "params>+5%,flops>0")
    assert bad.exit_code == 1
    errors = [line for line in bad.stderr.splitlines()]
    line = ALEXNET[:ALEXNET.index("name: fc6")].count("\n") + 1
    assert errors[0] == (f"{b}:{line}:5: error: params changed by +19.29% (62,378,344 → 74,413,296, +12,034,952): "
                         "--fail-on 'params>+5%'; the largest change is at fc6 [fail-on]")
    assert errors[1].startswith(f"{b}:{line}:5: error: flops changed by +") and errors[1].endswith("[fail-on]")
    assert len(errors) == 2
    assert json.loads(bad.stdout)["totals"]["params"]["change"] == 12_034_952  # the output is still printed


@pytest.mark.parametrize("rule,why", [("params>5", None), ("parms>5%", "unknown metric"), ("params=5%", "METRIC OP"),
                                      ("params>+5x", "METRIC OP")])
def test_fail_on_rules_are_checked(rule, why):
    if why is None:
        assert d.Threshold.parse(rule) == d.Threshold("params>5", "params", ">", 5.0, False)
        return
    result = run("diff", str(ARCH / "alexnet.yaml"), str(ARCH / "alexnet.yaml"), "--fail-on", rule)
    assert result.exit_code == 2 and why in result.output


def test_threshold_semantics():
    total = {"a": 100, "b": 106, "change": 6, "relative": 0.06}
    assert d.Threshold.parse("params>+5%").crossed(total)
    assert not d.Threshold.parse("params>+6%").crossed(total)
    assert d.Threshold.parse("params>=+6%").crossed(total)
    assert d.Threshold.parse("params>5").crossed(total) and not d.Threshold.parse("params>1K").crossed(total)
    assert d.Threshold.parse("params<-1%").crossed({"a": 100, "b": 98, "change": -2, "relative": -0.02})
    assert d.Threshold.parse("macs>+1000%").crossed({"a": 0, "b": 5, "change": 5, "relative": None})


def test_errors_in_either_spec_are_located(spec):
    bad = spec("input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 9}\n", "bad.yaml")
    result = run("diff", str(ARCH / "alexnet.yaml"), str(bad))
    assert result.exit_code == 1 and "bad.yaml:3:" in result.output and "Traceback" not in result.output
    assert run("diff", str(bad.parent / "none.yaml"), str(bad)).exit_code == 2


@pytest.mark.parametrize("path", sorted(ARCH.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_architecture_against_the_next(path):
    archs = sorted(ARCH.glob("*.yaml"))
    other = archs[(archs.index(path) + 1) % len(archs)]
    for fmt in ("table", "json", "markdown"):
        result = run("diff", str(path), str(other), "-f", fmt)
        assert result.exit_code == 0, result.output
    doc = json.loads(run("diff", str(path), str(other), "-f", "json").stdout)
    a, b = cnncalc.analyse(path), cnncalc.analyse(other)
    assert sum(1 for e in doc["layers"] if e["a"] is not None) == len(a.layers)
    assert sum(1 for e in doc["layers"] if e["b"] is not None) == len(b.layers)
    assert doc["totals"]["params"]["b"] == b.totals["params"]


def test_the_readme_diff_example_is_current():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- diff example: cnncalc diff ")
    command = readme[start:readme.index("-->", start)].split("diff example: cnncalc ")[1].split()
    shown = readme[readme.index("-->", start) + 4:readme.index("<!-- end of diff example -->")].strip("\n")
    result = run(*command)
    assert result.exit_code == 0
    assert shown == result.stdout.strip("\n").replace("### cnncalc diff:", "**cnncalc diff:**", 1)
    assert "docs/img/report.png" in readme and (ROOT / "docs" / "img" / "report.png").stat().st_size > 50_000
