"""`cnncalc report`: the page's data equals `show --format json`, the page is self-contained and inert,
bad input gives a located error and writes nothing. (What a browser shows: test_report_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import embedded_data
from click.testing import CliRunner
from conftest import ARCH, ROOT

from cnncalc import conventions
from cnncalc.cli import main

ARCHS = sorted(ARCH.glob("*.yaml"))
DENSENET = ROOT / "tests" / "data" / "densenet121.yaml"


def run(*args: str, cwd: Path | None = None):
    if cwd is None:
        return CliRunner().invoke(main, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def show_json(path: Path, *extra: str) -> dict:
    result = run("show", str(path), "-f", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def report(path: Path, tmp_path: Path, *extra: str) -> tuple[str, dict]:
    out = tmp_path / (path.stem + ".html")
    result = run("report", str(path), "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    return text, embedded_data(text)


@pytest.mark.parametrize("path", ARCHS + [DENSENET], ids=lambda p: p.stem)
def test_every_number_is_the_one_show_json_gives(path, tmp_path):
    _, data = report(path, tmp_path)
    rep = data["report"]
    assert rep["doc"] == show_json(path)
    for conv in rep["conventions"]:
        shown = show_json(path, "--convention", conv["name"])
        assert conv["macs"] == [layer["macs"] for layer in shown["layers"]]
        assert conv["flops"] == [layer["flops"] for layer in shown["layers"]]
        assert (conv["total_macs"], conv["total_flops"]) == (shown["totals"]["macs"], shown["totals"]["flops"])
        assert conv["summary"] == conventions.get(conv["name"]).summary
    assert [c["name"] for c in rep["conventions"]] == ["cnncalc", "torchvision", "fvcore", "thop", "torchinfo",
                                                       "ptflops", "calflops"]


def test_the_explanations_are_show_explain_under_every_convention(tmp_path):
    path = ARCH / "googlenet.yaml"  # conv, batch norm, pooling (ceil mode), concat, adaptive pool, dense
    _, data = report(path, tmp_path)
    ex = data["report"]["explain"]
    for name in conventions.names():
        shown = show_json(path, "--explain", "--convention", name)["layers"]
        for i, layer in enumerate(shown):
            assert ex["lines"][i] + (ex["tails"][name][i] or []) == layer["explain"], (name, layer["name"])
    assert ex["headers"][0] == "conv1.conv (conv2d): 3x224x224 → 64x112x112"


def test_table_cells_of_the_receptive_field_are_shows(tmp_path):
    path = ARCH / "alexnet.yaml"
    _, data = report(path, tmp_path)
    result = run("show", str(path), "-f", "csv", "--columns", "rf,jump,start")
    rows = list(csv_rows(result.stdout))[1:-1]
    cells = data["report"]["cells"]
    assert [r[-3:] for r in rows] == [list(t) for t in zip(cells["rf"], cells["jump"], cells["start"], strict=True)]
    assert cells["rf"][12] == "163"  # conv5 (docs/memory.md)


def csv_rows(text: str):
    import csv
    import io

    return csv.reader(io.StringIO(text))


def test_blocks_warnings_expect_and_spec_lines(tmp_path, spec):
    path = spec("""name: small
input: 8x8x3
blocks:
  unit:
    layers:
      - {type: conv2d, name: c, filters: 4, kernel: 3, padding: 1,
         expect: {params: 112}}
      - relu
layers:
  - {block: unit, name: u, repeat: 2}
  - {type: conv2d, name: odd, filters: 4, kernel: 3, stride: 2}
  - {type: conv2d, name: spare, filters: 4, kernel: 1}
  - {type: flatten, name: flat, inputs: [odd]}
expect: {params: 1}
""")
    _, data = report(path, tmp_path)
    rep = data["report"]
    names = [layer["name"] for layer in rep["doc"]["layers"]]
    assert names[:4] == ["u.0.c", "u.0.relu1", "u.1.c", "u.1.relu1"]
    assert [(g["name"], g["block"], g["line"]) for g in rep["groups"]] == [("u.0", "unit", 10), ("u.1", "unit", 10)]
    assert rep["layer_group"] == [0, 0, 1, 1, -1, -1, -1]
    assert rep["layer_lines"][0] == [6, 7, 10]  # the entry's two lines and the block use
    assert rep["layer_lines"][4] == [11]
    assert rep["layer_loc"][4] == [11, 5]
    rules = sorted(w["rule"] for w in rep["warnings"])
    assert rules == ["stride-not-fitting", "unused-layer"]
    assert rep["expect"]["stated"] == 3
    assert [d["message"] for d in rep["expect"]["unmet"]] == ["u.1.c: expected params 112, got 148",
                                                              "network: expected params 1, got 428"]
    assert rep["expect"]["unmet"][1]["text"].endswith("error: network: expected params 1, got 428 [expect-failed]")


def test_the_page_allows_only_its_own_inline_scripts_and_styles(tmp_path):
    text, _ = report(ARCH / "resnet18.yaml", tmp_path)
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text).group(1)
    policy = html.unescape(policy)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert len(scripts) == 3 and len(styles) == 2

    def sha(s: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"

    assert directives["script-src"].split() == [sha(s) for s in scripts]
    assert directives["style-src"].split() == [sha(s) for s in styles]
    assert "unsafe" not in policy and "connect-src" not in policy  # only the --watch page may fetch


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_page_is_self_contained(tmp_path):
    text, _ = report(ARCH / "alexnet.yaml", tmp_path)
    parser = _Tags()
    parser.feed(text)
    tags = parser.tags
    assert not [t for t, a in tags if "src" in a or "href" in a or t in ("link", "iframe", "object", "embed")]
    assert [t for t, _ in tags].count("script") == 4
    assert "sourceMappingURL" not in text
    assert "dagre" in text and "uPlot" in text  # the bundled libraries are inline


def test_bundled_libraries_are_pinned_with_their_licences():
    from importlib import resources

    vendor = resources.files("cnncalc.report").joinpath("assets").joinpath("vendor")
    versions = json.loads(vendor.joinpath("versions.json").read_text())
    assert versions == {"@dagrejs/dagre": "3.1.3", "@dagrejs/graphlib": "4.0.6", "uplot": "1.6.32"}
    script = (ROOT / "cnncalc" / "report" / "assets" / "fetch-vendor.sh").read_text()
    for line in ("DAGRE=3.1.3", "GRAPHLIB=4.0.6", "UPLOT=1.6.32"):
        assert line in script
    for name in ("dagre.LICENSE", "graphlib.LICENSE", "uPlot.LICENSE"):
        assert "Permission is hereby granted" in vendor.joinpath(name).read_text()
    assert "(v1.6.32)" in vendor.joinpath("uPlot.iife.min.js").read_text()[:200]


HOSTILE = ('</script><script>window.__pwned=1</script><!-- "quote\' <img src=x onerror=window.__pwned=2> '
           'javascript:alert(1) \u2028line\u2029sep &amp; ${x}')


def test_hostile_text_stays_data(tmp_path, spec):
    comment = HOSTILE.replace("\u2028", " ").replace("\u2029", " ")  # YAML reads them as line breaks
    path = spec(f"""# {comment}
name: {json.dumps(HOSTILE)}
description: {json.dumps(HOSTILE)}
input: 8x8x3
layers:
  - {{type: conv2d, name: c1, filters: 2, kernel: 3}}   # {comment}
""", name="hostile.yaml")
    text, data = report(path, tmp_path)
    assert data["report"]["doc"]["name"] == HOSTILE
    assert comment in data["report"]["source"]["text"]
    head, body = text.split("<body>")
    assert "<script" not in head and body.count("<script") == 4
    assert "\u2028" not in text and "\u2029" not in text
    assert "</script><script>window" not in text and "<img" not in text and "<!-- " not in text
    title = re.search("<title>(.*?)</title>", text, re.S).group(1)
    assert "<" not in title and "&lt;/script&gt;" in title


def test_a_bad_spec_is_one_located_error_and_no_file(tmp_path, spec):
    path = spec("input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 9}\n")
    out = tmp_path / "page.html"
    result = run("report", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert re.fullmatch(r".*net\.yaml:3:\d+: error: .*kernel 9 is larger.*\[kernel-too-large\]\n", result.output, re.S)
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_an_unreadable_spec_exits_2(tmp_path):
    result = run("report", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2 and "missing.yaml" in result.output
    assert not (tmp_path / "x.html").exists()


def test_it_refuses_to_overwrite_the_spec(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text((ARCH / "hw_conv_760.yaml").read_text())
    before = path.read_bytes()
    for target in (str(path), str(tmp_path / "." / "net.yaml")):
        result = run("report", str(path), "-o", target)
        assert result.exit_code == 2 and "refusing to overwrite the spec" in result.output
    result = run("report", str(ARCH / "alexnet.yaml"), "--compare", str(path), "-o", str(path))
    assert result.exit_code == 2
    assert path.read_bytes() == before


def test_an_unwritable_output_is_one_line_and_leaves_the_old_file(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    old = locked / "page.html"
    old.write_text("old page")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        result = run("report", str(ARCH / "hw_conv_760.yaml"), "-o", str(old))
        assert result.exit_code == 1 and result.output.count("\n") == 1 and "cannot write" in result.output
        assert old.read_text() == "old page"
    finally:
        locked.chmod(0o700)


def test_the_write_is_atomic(tmp_path, monkeypatch):
    from cnncalc import report as rep

    target = tmp_path / "page.html"
    target.write_text("old page")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rep.os, "replace", boom)
    with pytest.raises(OSError):
        rep.write_atomic(str(target), "new page")
    assert target.read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]  # no temporary file left


def test_default_output_and_stdout(tmp_path):
    result = run("report", str(ARCH / "hw_conv_760.yaml"), cwd=tmp_path)
    assert result.exit_code == 0 and (tmp_path / "hw_conv_760.html").is_file()
    result = run("report", str(ARCH / "hw_conv_760.yaml"), "-o", "-")
    assert result.stdout.startswith("<!DOCTYPE html>") and embedded_data(result.stdout)["report"]["doc"]["totals"][
        "params"] == 760


def test_memory_options_reach_the_page(tmp_path):
    _, data = report(ARCH / "vgg16.yaml", tmp_path, "-b", "64", "--dtype", "float16", "--optimizer", "sgd")
    assert data["report"]["doc"] == show_json(ARCH / "vgg16.yaml", "-b", "64", "--dtype", "float16",
                                              "--optimizer", "sgd")
    assert data["report"]["memory_summary"].startswith("Memory (batch 64, float16)")


def test_set_overrides_and_convention(tmp_path):
    _, data = report(ARCH / "alphago_policy.yaml", tmp_path, "--set", "k=256", "--convention", "thop")
    assert data["convention"] == "thop"
    assert data["report"]["doc"] == show_json(ARCH / "alphago_policy.yaml", "--set", "k=256", "--convention", "thop")


def test_integers_beyond_javascripts_exact_range_travel_as_strings():
    from cnncalc.report.page import json_for_script

    data = {"a": [2**53 - 1, 2**53, -(2**60), 1.5, 0.1 + 0.2, 1.2345678901234567e+300], "b": True, "c": None, "d": "12345678901234567890 \"x\" <"}
    assert json.loads(json_for_script(data)) == {
        "a": [2**53 - 1, "9007199254740992", "-1152921504606846976", 1.5, 0.30000000000000004,
              1.2345678901234567e+300], "b": True, "c": None,
        "d": "12345678901234567890 \"x\" <"}
    assert "<" not in json_for_script(data)


@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.stem)
def test_compare_with_every_architecture(path, tmp_path):
    other = ARCH / "resnet18.yaml"
    _, data = report(path, tmp_path, "--compare", str(other))
    assert data["kind"] == "compare" and set(data["diffs"]) == set(conventions.names())
    for name in ("cnncalc", "thop"):
        result = run("diff", str(path), str(other), "-f", "json", "--convention", name)
        full = json.loads(result.stdout)
        d = data["diffs"][name]
        assert d["totals"] == full["totals"] and d["summary"] == full["summary"]
        rows = [{**data["entries"][r[0]], "status": r[1], "changed": r[2], "macs": r[3], "flops": r[4]}
                for r in d["rows"]]
        assert rows == [e for e in full["layers"] if e["status"] != "unchanged"]
    assert data["other"]["doc"] == show_json(other)


def test_report_help_lists_its_options():
    result = subprocess.run([sys.executable, "-m", "cnncalc", "report", "--help"], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    for option in ("--output", "--compare", "--watch", "--port", "--convention", "--batch-size"):
        assert option in result.stdout


def test_an_output_in_a_missing_directory_is_one_line(tmp_path):
    result = run("report", str(ARCH / "hw_conv_760.yaml"), "-o", str(tmp_path / "no" / "such" / "page.html"))
    assert result.exit_code == 1
    assert result.output == f"{tmp_path / 'no' / 'such' / 'page.html'}: error: cannot write: No such file or directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_every_input_and_output_reaches_the_page(tmp_path):
    path = ARCH / "two_heads.yaml"
    _, data = report(path, tmp_path)
    rep = data["report"]
    names = [layer["name"] for layer in rep["doc"]["layers"]]
    assert rep["inputs"] == [{"name": "image", "shape": [128, 128, 3]}, {"name": "mask", "shape": [128, 128, 1]}]
    assert rep["outputs"] == [{"name": "seg", "shape": [128, 128, 2], "layer": names.index("seg")},
                              {"name": "cls", "shape": [10], "layer": names.index("cls")}]
    assert rep["named_inputs"] is True and rep["named_outputs"] is True
    # a layer called again says so in its numbers line, not in its (shortened) operation line
    assert rep["captions"][names.index("enc1_mask.conv1")] == rep["captions"][names.index("enc1.conv1")] == "conv 3x3"
    _, single = report(ARCH / "resnet18.yaml", tmp_path)
    assert single["report"]["inputs"] == [{"name": "input", "shape": [3, 224, 224]}]
    assert single["report"]["outputs"] == [{"name": "fc", "shape": [1000], "layer": 68}]
    assert single["report"]["named_inputs"] is False and single["report"]["named_outputs"] is False


def test_the_comparison_carries_the_inputs_outputs_and_reads(tmp_path, spec):
    text = (ARCH / "two_heads.yaml").read_text()
    old = "{block: up, name: dec1, inputs: [dec2, fuse1], f: 16}"
    assert old in text
    b = spec(text.replace(old, "{block: up, name: dec1, inputs: [dec2, image_stem], f: 16}").replace(
        "outputs: [seg, cls]", "outputs: [seg]"), "b.yaml")
    _, data = report(ARCH / "two_heads.yaml", tmp_path, "--compare", str(b))
    full = json.loads(run("diff", str(ARCH / "two_heads.yaml"), str(b), "-f", "json").stdout)
    d = data["diffs"]["cnncalc"]
    assert d["inputs"] == full["inputs"] and d["outputs"] == full["outputs"]
    assert [(e["a"], e["status"]) for e in d["outputs"]] == [("seg", "unchanged"), ("cls", "removed")]
    cat = next(e for e in data["entries"] if e["a"] == "dec1.cat")
    assert cat["inputs"] == [["dec1.up", "fuse1"], ["dec1.up", "image_stem"]]
    row = next(r for r in d["rows"] if data["entries"][r[0]]["a"] == "dec1.cat")
    assert row[1:3] == ["changed", ["inputs"]]
