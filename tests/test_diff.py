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


# ---- several inputs and outputs, connectivity, shared weights ----------------------------------

TWO_HEADS = (ARCH / "two_heads.yaml").read_text()
SKIP = """name: skip
input: 16x16x8
layers:
  - {type: conv2d, name: c1, filters: 8, kernel: 3, padding: 1}
  - {type: conv2d, name: c2, filters: 8, kernel: 3, padding: 1}
  - {type: conv2d, name: c3, filters: 8, kernel: 3, padding: 1}
  - {type: add, name: skip, inputs: [c3, c1]}
  - {type: global_avg_pool2d, name: gap}
"""
ONE_INPUT = """name: one input
input: 32x32x3
layers:
  - {type: conv2d, name: stem, filters: 8, kernel: 3, padding: 1}
  - {type: global_avg_pool2d, name: gap}
  - {type: dense, name: fc, units: 10}
"""
TWO_INPUTS = """name: two inputs
inputs: {image: 32x32x3, depth: 32x32x1}
layers:
  - {type: conv2d, name: stem, inputs: [image], filters: 8, kernel: 3, padding: 1}
  - {type: conv2d, name: depth_stem, inputs: [depth], filters: 8, kernel: 3, padding: 1}
  - {type: add, name: fuse, inputs: [stem, depth_stem]}
  - {type: global_avg_pool2d, name: gap}
  - {type: dense, name: fc, units: 10}
"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def entry(doc: dict, name: str) -> dict:
    return next(e for e in doc["layers"] if name in (e["a"], e["b"]))


def test_two_heads_against_itself_lists_both_inputs_and_both_outputs():
    path = ARCH / "two_heads.yaml"
    doc = diff_json(path, path)
    assert doc["summary"] == {"changed": 0, "added": 0, "removed": 0, "renamed": 0, "unchanged": 50}
    assert [(e["a"], e["b"], e["shape"][1], e["status"]) for e in doc["inputs"]] == [
        ("image", "image", [128, 128, 3], "unchanged"), ("mask", "mask", [128, 128, 1], "unchanged")]
    assert [(e["a"], e["b"], e["shape"][1], e["index"], e["status"]) for e in doc["outputs"]] == [
        ("seg", "seg", [128, 128, 2], [0, 0], "unchanged"), ("cls", "cls", [10], [1, 1], "unchanged")]
    assert doc["a"]["inputs"] == [{"name": "image", "shape": [128, 128, 3]}, {"name": "mask", "shape": [128, 128, 1]}]
    assert doc["b"]["outputs"] == [{"name": "seg", "shape": [128, 128, 2]}, {"name": "cls", "shape": [10]}]
    shared = entry(doc, "enc1_mask.conv1")
    assert shared["shares"] == ["enc1.conv1", "enc1.conv1"] and shared["inputs"] == [["mask_stem"], ["mask_stem"]]
    assert entry(doc, "fuse1")["inputs"] == [["enc1.relu2", "enc1_mask.relu2"]] * 2
    table = run("diff", str(path), str(path)).stdout
    assert "inputs:" not in table and "outputs:" not in table and "reads" not in table


def test_a_rewired_skip_is_a_changed_input(spec):
    a = spec(SKIP, "a.yaml")
    b = spec(edit(SKIP, "inputs: [c3, c1]", "inputs: [c3, c2]"), "b.yaml")
    doc = diff_json(a, b)
    skip = entry(doc, "skip")
    assert skip["status"] == "changed" and skip["changed"] == ["inputs"]
    assert skip["inputs"] == [["c3", "c1"], ["c3", "c2"]]
    assert skip["params"] == [0, 0] and skip["output_shape"] == [[16, 16, 8], [16, 16, 8]]
    assert doc["summary"] == {"changed": 1, "added": 0, "removed": 0, "renamed": 0, "unchanged": 4}
    assert all(t["change"] == 0 for t in doc["totals"].values())
    line = next(x for x in run("diff", str(a), str(b)).stdout.splitlines() if " skip " in x)
    assert re.match(r"~\s+skip\s+add\s+16x16x8\s+0\s+0\s+2,048\s+7\s+c3, c1 → c3, c2$", line.rstrip())
    md = run("diff", str(a), str(b), "-f", "markdown").stdout
    assert "| | layer | type | output shape | params | MACs | FLOPs | RF | reads |\n|---|---|---|---|---:|---:|---:|---:|---|" in md
    assert "| ~ | skip | add | 16x16x8 | 0 | 0 | 2,048 | 7 | **c3, c1 → c3, c2** |" in md
    # renaming what the skip reads is no rewiring: the names are mapped through the matching
    renamed = spec(SKIP.replace("c1", "first"), "renamed.yaml")
    doc = diff_json(a, renamed)
    assert by_status(doc, "renamed") == [("c1", "first")] and entry(doc, "skip")["status"] == "unchanged"


def test_a_rewired_skip_between_blocks(spec):
    b = spec(edit(TWO_HEADS, "{block: up, name: dec1, inputs: [dec2, fuse1], f: 16}",
                  "{block: up, name: dec1, inputs: [dec2, image_stem], f: 16}"), "b.yaml")
    doc = diff_json(ARCH / "two_heads.yaml", b)
    assert by_status(doc, "changed") == [("dec1.cat", "dec1.cat")]
    cat = entry(doc, "dec1.cat")
    assert cat["changed"] == ["inputs"] and cat["inputs"] == [["dec1.up", "fuse1"], ["dec1.up", "image_stem"]]
    assert doc["totals"]["params"]["change"] == 0 and doc["totals"]["macs"]["change"] == 0


def test_an_added_input(spec):
    a, b = spec(ONE_INPUT, "a.yaml"), spec(TWO_INPUTS, "b.yaml")
    doc = diff_json(a, b)
    assert doc["inputs"] == [
        {"a": "input", "b": "image", "shape": [[32, 32, 3], [32, 32, 3]], "index": [0, 0], "changed": [],
         "status": "renamed", "matched_by": "position"},
        {"a": None, "b": "depth", "shape": [None, [32, 32, 1]], "index": [None, 1], "changed": ["shape", "index"],
         "status": "added", "matched_by": None}]
    assert doc["outputs"][0]["status"] == "unchanged"
    assert by_status(doc, "added") == [(None, "depth_stem"), (None, "fuse")]
    assert entry(doc, "stem")["status"] == "unchanged"  # it reads the same input, renamed
    gap = entry(doc, "gap")
    assert gap["changed"] == ["inputs"] and gap["inputs"] == [["stem"], ["fuse"]]
    assert entry(doc, "depth_stem")["inputs"] == [None, ["depth"]]
    assert doc["totals"]["params"]["change"] == 80  # depth_stem: 3·3·1·8 + 8
    table = run("diff", str(a), str(b)).stdout
    assert "inputs: 1 added, 1 renamed" in table
    assert re.search(r"^=\s+input\s+input → image\s+32x32x3\s+1$", table, re.M)
    assert re.search(r"^\+\s+input\s+depth\s+32x32x1\s+2$", table, re.M)
    assert re.search(r"^\+\s+depth_stem .* depth\s*$", table, re.M)
    md = run("diff", str(a), str(b), "-f", "markdown").stdout
    assert "unchanged (convention `cnncalc`); **inputs: 1 added, 1 renamed**" in md
    assert "| | network | name | shape | position |\n|---|---|---|---|---:|\n| = | input | input → image | 32x32x3 | 1 |\n" \
           "| + | input | depth | 32x32x1 | 2 |" in md
    # and the other way: the input is removed
    back = diff_json(b, a)
    assert [(e["a"], e["b"], e["status"]) for e in back["inputs"]] == [("image", "input", "renamed"),
                                                                      ("depth", None, "removed")]


def test_a_removed_output_head(spec):
    b = spec(edit(edit(edit(TWO_HEADS, "outputs: [seg, cls]", "outputs: [seg]"),
                       "  - {type: global_avg_pool2d, name: gap, inputs: [bottleneck]}                               # 64\n", ""),
                  "  - {type: dense, name: cls, units: $classes}                                                # 10\n", ""),
             "b.yaml")
    doc = diff_json(ARCH / "two_heads.yaml", b)
    assert doc["outputs"] == [
        {"a": "seg", "b": "seg", "shape": [[128, 128, 2], [128, 128, 2]], "index": [0, 0], "changed": [],
         "status": "unchanged", "matched_by": "name"},
        {"a": "cls", "b": None, "shape": [[10], None], "index": [1, None], "changed": ["shape", "index"],
         "status": "removed", "matched_by": None}]
    assert doc["b"]["outputs"] == [{"name": "seg", "shape": [128, 128, 2]}]
    assert by_status(doc, "removed") == [("gap", None), ("cls", None)]
    assert doc["totals"]["params"]["change"] == -650  # cls: 64·10 + 10
    assert all(e["status"] == "unchanged" for e in doc["inputs"])
    table = run("diff", str(ARCH / "two_heads.yaml"), str(b)).stdout
    assert "outputs: 1 removed" in table and re.search(r"^-\s+output\s+cls\s+10\s+2$", table, re.M)
    md = run("diff", str(ARCH / "two_heads.yaml"), str(b), "-f", "markdown").stdout
    assert "| - | output | cls | 10 | 2 |" in md and "**outputs: 1 removed**" in md


def test_outputs_that_change_shape_place_or_layer(spec):
    a = ARCH / "two_heads.yaml"
    wider = spec(edit(TWO_HEADS, "seg_classes: 2}", "seg_classes: 3}"), "wider.yaml")
    seg = diff_json(a, wider)["outputs"][0]
    assert (seg["status"], seg["changed"], seg["shape"]) == ("changed", ["shape"], [[128, 128, 2], [128, 128, 3]])
    swapped = diff_json(a, spec(edit(TWO_HEADS, "outputs: [seg, cls]", "outputs: [cls, seg]"), "swapped.yaml"))
    assert [(e["b"], e["index"], e["changed"]) for e in swapped["outputs"]] == [("cls", [1, 0], ["index"]),
                                                                               ("seg", [0, 1], ["index"])]
    assert swapped["summary"]["changed"] == 0  # no layer changed, only the order of the outputs
    # a spec's only output, now another layer: torchvision's AlexNet ends at the classifier, ours at softmax
    doc = diff_json(ARCH / "alexnet.yaml", ARCH / "alexnet_torchvision.yaml")
    assert [(e["a"], e["b"], e["status"], e["changed"]) for e in doc["outputs"]] == [
        ("softmax", "classifier.6", "changed", ["layer"])]
    assert [(e["shape"], e["changed"]) for e in doc["inputs"]] == [([[227, 227, 3], [224, 224, 3]], ["shape"])]


def test_a_layer_that_stops_or_starts_sharing_weights(spec):
    own = spec(edit(TWO_HEADS, "{share: enc2, name: enc2_mask, inputs: [pool1_mask]}",
                    "{block: stage, name: enc2_mask, inputs: [pool1_mask], f: 32}"), "own.yaml")
    doc = diff_json(ARCH / "two_heads.yaml", own)
    changed = {e["b"]: e for e in doc["layers"] if e["status"] == "changed"}
    assert sorted(changed) == sorted(f"enc2_mask.{n}" for n in ("conv1", "bn1", "relu1", "conv2", "bn2", "relu2"))
    conv1 = changed["enc2_mask.conv1"]
    assert conv1["shares"] == ["enc2.conv1", None] and conv1["params"] == [0, 4_608]
    assert conv1["changed"] == ["params", "trainable_params", "shares"]
    assert changed["enc2_mask.relu1"]["changed"] == ["shares"]  # no weights, but no longer the same module
    assert doc["totals"]["params"]["change"] == 4_608 + 9_216 + 128 + 128
    table = run("diff", str(ARCH / "two_heads.yaml"), str(own)).stdout
    assert "shares weights of" in table and re.search(r"enc2_mask\.relu1 .* enc2\.relu1 → own\s*$", table, re.M)
    back = diff_json(own, ARCH / "two_heads.yaml")
    assert entry(back, "enc2_mask.conv2")["shares"] == [None, "enc2.conv2"]
    md = run("diff", str(own), str(ARCH / "two_heads.yaml"), "-f", "markdown").stdout
    assert "| **9,216 → 0** |" in md and "| **own → enc2.conv2** |" in md
    # sharing another layer's weights is a change too; the same one under another name is not
    shared = """input: [8]
layers:
  - {type: dense, name: d1, units: 8, inputs: [input]}
  - {type: dense, name: d2, units: 8, inputs: [input]}
  - {share: d1, name: again, inputs: [d2]}
  - {type: add, name: sum, inputs: [d1, again]}
"""
    a = spec(shared, "shared.yaml")
    again = entry(diff_json(a, spec(edit(shared, "share: d1", "share: d2"), "d2.yaml")), "again")
    assert (again["status"], again["changed"], again["shares"]) == ("changed", ["shares"], ["d1", "d2"])
    renamed = diff_json(a, spec(shared.replace("d1", "first"), "renamed.yaml"))
    assert entry(renamed, "again")["status"] == "unchanged" and by_status(renamed, "renamed") == [("d1", "first")]


def test_spec_names_reach_the_table_and_markdown_as_escapes(spec):
    a = spec('name: "a\\x1b[31mred\\u202e|<b>"\ninput: 8x8x3\nlayers:\n  - {type: conv2d, name: c1, filters: 2, kernel: 3}\n',
             "a.yaml")
    for fmt in ("table", "markdown"):
        out = run("diff", str(a), str(ARCH / "hw_conv_760.yaml"), "-f", fmt).stdout
        assert "\x1b" not in out and "\u202e" not in out
        assert ("a\\x1b[31mred\\u202e|<b>" if fmt == "table" else "a\\\\x1b\\[31mred\\\\u202e\\|\\<b\\>") in out
