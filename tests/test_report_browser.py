"""The report in a real browser (headless Debian Chromium through Selenium): no console error, the numbers
on the page are `show --format json`'s, clicks, collapsing, the convention switch, hover links, the diff
page, hostile specs, --watch reloads. Skipped where Chromium is missing, unless CNNCALC_REQUIRE_BROWSER=1
(CI sets it, after installing chromium and chromium-driver). Screenshots go to $CNNCALC_ARTIFACTS
(default build/test-artifacts)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from browser import Browser, click, missing
from click.testing import CliRunner
from conftest import ARCH, ROOT
from test_diff import ONE_INPUT, SKIP, TWO_INPUTS, edit

from cnncalc.cli import main

WHY = missing()
if WHY and os.environ.get("CNNCALC_REQUIRE_BROWSER") != "1":
    pytest.skip(f"no browser: {WHY}", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("CNNCALC_ARTIFACTS") or ROOT / "build" / "test-artifacts")
DENSENET = ROOT / "tests" / "data" / "densenet121.yaml"


@pytest.fixture(scope="module")
def browser():
    if WHY:
        pytest.fail(f"CNNCALC_REQUIRE_BROWSER=1 but {WHY}")
    b = Browser(1440, 900)
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Report pages, written once per module: pages(spec, *options) -> path."""
    root = tmp_path_factory.mktemp("pages")
    made: dict[tuple, Path] = {}

    def make(spec: Path, *options: str) -> Path:
        key = (str(spec), options)
        if key not in made:
            out = root / f"page{len(made)}.html"
            result = CliRunner().invoke(main, ["report", str(spec), "-o", str(out), *options])
            assert result.exit_code == 0, result.output
            made[key] = out
        return made[key]

    return make


def show_json(spec: Path, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["show", str(spec), "-f", "json", *extra])
    return json.loads(result.stdout)


def commas(n: int) -> str:
    return f"{n:,}"


def cnt(n: int) -> str:  # as the table writes a count: '-' for none
    return "-" if n == 0 else f"{n:,}"


def table_rows(b: Browser) -> list[dict[str, str]]:
    return b.js("""return Array.from(document.querySelectorAll('.table-pane tbody tr[data-layer]')).map(function (tr) {
        var o = {}; tr.querySelectorAll('td').forEach(function (td) { o[td.getAttribute('data-col')] = td.textContent; });
        return o; });""")


def open_page(b: Browser, path: Path) -> None:
    b.open(path)
    assert b.errors() == []


@pytest.mark.parametrize("spec", sorted(ARCH.glob("*.yaml")) + [DENSENET], ids=lambda p: p.stem)
def test_every_architecture_opens_without_a_console_error(browser, pages, spec):
    open_page(browser, pages(spec))
    n = len(show_json(spec)["layers"])
    drawn = browser.js("return document.querySelectorAll('.graph [data-layer], .graph [data-group]').length")
    assert drawn >= 1
    assert browser.js("return document.querySelectorAll('.table-pane tbody tr[data-layer]').length") == n
    assert browser.css(".t-count").text == f"{n} layers"
    assert browser.js("return document.querySelectorAll('.chart canvas').length") == 3
    # the graph fits: at most a few screens wide at the first look, never the length of the network
    width = browser.js("return document.querySelector('.graph').getBoundingClientRect().width")
    assert width < 4 * 1440
    # every input is a source node and every output a sink node (the whole graph drawn)
    click(browser, '[data-action="fit"]')
    io = browser.js("return ['input', 'output'].map(function (k) { return Array.from(document.querySelectorAll("
                    "'.graph .node.' + k + ' .n-name')).map(function (t) { return t.textContent; }); })")
    shown = show_json(spec)
    outputs = shown.get("outputs") or [{"name": shown["layers"][-1]["name"], "shape": shown["output_shape"]}]
    assert io[0] == [f"input  {'x'.join(map(str, shown['input_shape']))}"] if "inputs" not in shown else len(io[0]) > 1
    assert len(io[1]) == len(outputs) and io[1][-1].endswith("x".join(map(str, outputs[-1]["shape"])))
    assert browser.errors() == []


@pytest.mark.parametrize("spec", [ARCH / "resnet50.yaml", DENSENET], ids=lambda p: p.stem)
def test_long_networks_fit_a_laptop_screen(browser, pages, spec):
    """ResNet-50 (175 layers) and DenseNet-121 (427): the whole graph in the view, no scrolling."""
    open_page(browser, pages(spec))
    svg, view = browser.js("var s = document.querySelector('.graph').getBoundingClientRect(), "
                           "v = document.querySelector('.g-view'); return [[s.width, s.height], "
                           "[v.clientWidth, v.clientHeight, v.getBoundingClientRect().bottom]]")
    assert svg[0] <= view[0] and svg[1] <= view[1] + 1
    assert view[2] <= 900  # the view ends inside the first screen
    scale = browser.js("return parseFloat(document.querySelector('.graph').getAttribute('width')) / "
                       "document.querySelector('.graph').viewBox.baseVal.width")
    assert scale >= 0.7  # still readable


def test_table_and_totals_are_show_json(browser, pages):
    spec = ARCH / "resnet50.yaml"
    open_page(browser, pages(spec))
    shown = show_json(spec)
    rows = table_rows(browser)
    assert len(rows) == len(shown["layers"])
    csv_rf = CliRunner().invoke(main, ["show", str(spec), "-f", "csv", "--columns", "rf,jump,start"]).stdout
    rf = [line.split(",")[-3:] for line in csv_rf.splitlines()[1:-1]]
    for i, (row, layer) in enumerate(zip(rows, shown["layers"], strict=True)):
        assert row["idx"] == str(i + 1) and row["name"] == layer["name"] and row["type"] == layer["type"]
        assert row["shape"] == "x".join(map(str, layer["output_shape"]))
        for key in ("params", "trainable_params", "non_trainable_params", "macs", "flops"):
            assert row[key] == cnt(layer[key]), (layer["name"], key)
        assert row["act"] == cnt(layer["activation_elements"]) and row["act_mem"] == cnt(layer["activation_bytes"])
        assert row["param_mem"] == cnt(layer["param_bytes"])
        assert [row["rf"], row["jump"], row["start"]] == rf[i]
    foot = browser.js("""var o = {}; document.querySelectorAll('.table-pane tfoot td').forEach(function (td) {
        o[td.getAttribute('data-col')] = td.textContent; }); return o;""")
    t = shown["totals"]
    assert foot["params"] == commas(t["params"]) == "25,610,152"
    assert foot["macs"] == commas(t["macs"]) == "4,089,184,256" and foot["flops"] == commas(t["flops"])
    assert foot["act_mem"] == commas(shown["memory"]["activation_bytes"])
    cards = browser.js("""var o = {}; document.querySelectorAll('[data-total]').forEach(function (c) {
        o[c.getAttribute('data-total')] = c.querySelector('.c-value').textContent; }); return o;""")
    assert cards == {"params": "25,610,152", "non_trainable_params": "53,120", "macs": "4,089,184,256",
                     "flops": commas(t["flops"])}
    browser.screenshot(ARTIFACTS / "resnet50.png")


def test_clicking_a_layer_shows_its_explanation_and_spec_lines(browser, pages):
    spec = ARCH / "alexnet.yaml"
    open_page(browser, pages(spec))
    click(browser, '.graph [data-layer="0"]')
    explain = show_json(spec, "--explain")["layers"][0]["explain"]
    assert browser.css(".details pre.explain").text == "\n".join(explain)
    assert browser.css(".details .d-head").text == "conv1 (conv2d): 227x227x3 → 55x55x96"
    lines = browser.js("return Array.from(document.querySelectorAll('.details .spec-lines .sl')).map(function (r) {"
                       " return [r.querySelector('.ln').textContent, r.querySelector('.lt').textContent]; });")
    assert lines == [["15", "  - {type: conv2d, name: conv1, filters: 96, kernel: 11, stride: 4, padding: 0}"]]
    assert browser.js("return document.querySelector('.source .sl.mark').getAttribute('data-line')") == "15"
    assert "sel" in browser.css('.table-pane tr[data-layer="0"]').get_attribute("class")
    assert "sel" in browser.css('.graph [data-layer="0"]').get_attribute("class")
    browser.screenshot(ARTIFACTS / "alexnet.png")
    # a table row selects too, and the graph follows
    click(browser, '.table-pane tr[data-layer="16"]')
    assert browser.css(".details .d-head").text.startswith("fc6 (dense): 9216 → 4096")
    assert "sel" in browser.css('.graph [data-layer="16"]').get_attribute("class")


def test_blocks_collapse_and_expand(browser, pages):
    open_page(browser, pages(ARCH / "resnet50.yaml"))
    count = "return [document.querySelectorAll('.graph [data-layer]').length, " \
            "document.querySelectorAll('.graph [data-group]').length]"
    assert browser.js(count) == [7, 16]  # conv1, bn1, relu, maxpool, avgpool, flatten, fc and 16 bottlenecks
    assert browser.css('.graph [data-group="0"] .n-name').text == "▸ layer1.0 (12 layers)"
    assert browser.css('.graph [data-group="0"] .n-sub').text == "bottleneck · 256x56x56"
    click(browser, '.graph [data-group="0"]')
    assert browser.js(count) == [7 + 12, 15]  # the first bottleneck has a downsample branch: 12 layers
    assert browser.css('.graph [data-frame="0"] .f-title').text.startswith("▾ layer1.0")
    assert browser.css('.graph [data-layer="4"] .n-name').text == "conv1"  # layer1.0.conv1, named inside its block
    click(browser, '.graph [data-toggle="0"]')
    assert browser.js(count) == [7, 16]
    click(browser, '[data-action="expand-all"]')
    assert browser.js(count)[1] == 0
    click(browser, '[data-action="fit"]')  # the whole graph in view: every column drawn
    assert browser.js(count) == [175, 0]
    browser.screenshot(ARTIFACTS / "resnet50-expanded.png")
    click(browser, '[data-action="collapse-all"]')
    assert browser.js(count) == [7, 16]
    # selecting a layer inside a closed block opens it
    click(browser, '.table-pane tr[data-layer="30"]')
    assert browser.css('.graph [data-layer="30"]').get_attribute("data-layer") == "30"
    assert browser.errors() == []


def test_a_closed_block_with_a_long_name_shows_its_distinct_end(browser, pages, tmp_path):
    """Uses named by module path (torchvision's encoder.layers.encoder_layer_<i>) differ at their end:
    the label keeps that end, the full name is the node's tooltip."""
    spec = tmp_path / "long_blocks.yaml"
    spec.write_text("name: long\ninput: [8, 4, 4]\nlayout: channels_first\nblocks:\n  unit:\n    layers:\n"
                    "      - {type: conv2d, name: c, filters: 8, kernel: 1}\n      - relu\nlayers:\n" +
                    "".join(f"  - {{block: unit, name: encoder.layers.encoder_layer_{i}}}\n" for i in (0, 1, 10)))
    open_page(browser, pages(spec))
    click(browser, '[data-action="collapse-all"]')
    labels = browser.js("return Array.from(document.querySelectorAll('.graph [data-group] .n-name'))"
                        ".map(function (e) { return e.textContent; })")
    assert labels == ["▸ …encoder_layer_0 (2 layers)", "▸ …encoder_layer_1 (2 layers)", "▸ …ncoder_layer_10 (2 layers)"]
    tips = browser.js("return Array.from(document.querySelectorAll('.graph [data-group] > title'))"
                      ".map(function (e) { return e.textContent; })")
    assert tips[2].startswith("encoder.layers.encoder_layer_10 (block unit, 2 layers)")


def test_the_convention_switch_changes_every_mac_and_flop(browser, pages):
    from selenium.webdriver.support.ui import Select

    spec = ARCH / "resnet18.yaml"
    open_page(browser, pages(spec))
    click(browser, '.graph [data-layer="1"]')  # bn1
    for name in ("thop", "torchinfo", "calflops", "cnncalc"):
        Select(browser.css(".conv-select")).select_by_value(name)
        shown = show_json(spec, "--convention", name, "--explain")
        rows = table_rows(browser)
        assert [r["macs"] for r in rows] == [cnt(x["macs"]) for x in shown["layers"]]
        assert [r["flops"] for r in rows] == [cnt(x["flops"]) for x in shown["layers"]]
        assert browser.css('[data-total="macs"] .c-value').text == commas(shown["totals"]["macs"])
        assert browser.css('[data-total="flops"] .c-value').text == commas(shown["totals"]["flops"])
        assert browser.css(".details pre.explain").text == "\n".join(shown["layers"][1]["explain"])
        assert browser.css(".conv-summary").text.startswith({"thop": "MACs: thop.profile()", "torchinfo": "MACs: torchinfo",
                                                             "calflops": "calflops calculate_flops()",
                                                             "cnncalc": "MACs: conv/dense"}[name])
    Select(browser.css(".conv-select")).select_by_value("thop")
    assert browser.css('.graph [data-layer="1"] .n-num').text == "256 params · 3.21M MACs"  # bn1 under thop
    Select(browser.css(".conv-select")).select_by_value("cnncalc")
    assert browser.css('.graph [data-layer="1"] .n-num').text == "256 params · 0 MACs"


def test_sort_filter_and_hover_link_the_table_and_the_graph(browser, pages):
    from selenium.webdriver.common.action_chains import ActionChains

    spec = ARCH / "vgg16.yaml"
    open_page(browser, pages(spec))
    shown = show_json(spec)["layers"]
    click(browser, '.table-pane th[data-col="macs"]')
    rows = table_rows(browser)
    assert rows[0]["macs"] == commas(max(x["macs"] for x in shown))
    macs = [int(r["macs"].replace(",", "").replace("-", "0")) for r in rows]
    assert macs == sorted(macs, reverse=True)
    click(browser, '.table-pane th[data-col="macs"]')
    assert int(table_rows(browser)[0]["macs"].replace(",", "").replace("-", "0")) == 0
    click(browser, '.table-pane th[data-col="macs"]')  # a third click: back to the network's order
    assert [r["name"] for r in table_rows(browser)] == [x["name"] for x in shown]
    flt = browser.css(".t-filter")
    flt.send_keys("classifier")
    names = [r["name"] for r in table_rows(browser)]
    assert names == [x["name"] for x in shown if "classifier" in x["name"]] and len(names) == 7
    assert browser.css(".t-count").text == f"7 of {len(shown)} layers"
    flt.clear()
    flt.send_keys(" ")  # the filter is trimmed: every layer again
    assert len(table_rows(browser)) == len(shown)
    # hover a row: the node lights up; hover a node: the row lights up
    ActionChains(browser.driver).move_to_element(browser.css('.table-pane tr[data-layer="2"]')).perform()
    assert "hl" in browser.css('.graph [data-layer="2"]').get_attribute("class")
    ActionChains(browser.driver).move_to_element(browser.css('.graph [data-layer="0"]')).perform()
    assert "hl" in browser.css('.table-pane tr[data-layer="0"]').get_attribute("class")
    assert "hl" not in (browser.css('.table-pane tr[data-layer="2"]').get_attribute("class") or "")


def test_warnings_and_expect_results_link_to_their_layer(browser, pages, tmp_path):
    spec = tmp_path / "w.yaml"
    spec.write_text("""name: warned
input: 7x7x1
layers:
  - {type: conv2d, name: c1, filters: 2, kernel: 3, stride: 3, expect: {params: 21}}
  - {type: flatten, name: flat}
expect: {params: 20}
""")
    open_page(browser, pages(spec))
    items = browser.all(".diags .diag")
    texts = [i.text for i in items]
    assert any(t.startswith("warning c1: stride 3") and t.endswith(f"[stride-not-fitting] {spec}:4:5") for t in texts)
    assert any("error c1: expected params 21, got 20 [expect-failed]" in t for t in texts)
    assert browser.css(".diags .expect").text == "expect: 1 of 2 values unmet"
    items[0].click()
    assert browser.css(".details .d-head").text.startswith("c1 (conv2d)")
    assert browser.js("return document.querySelector('.source .sl.mark-err').getAttribute('data-line')") == "4"


def test_the_diff_page_marks_the_changed_layers(browser, tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    text = (ARCH / "resnet18.yaml").read_text()
    a.write_text(text)
    assert "{type: dense, name: fc, units: 1000}" in text
    b.write_text(re.sub(r"  - \{type: max_pool2d, name: maxpool,.*\n", "", text.replace(
        "{type: dense, name: fc, units: 1000}", "{type: dropout, name: drop}\n  - {type: dense, name: fc, units: 10}")))
    out = tmp_path / "cmp.html"
    result = CliRunner().invoke(main, ["report", str(a), "--compare", str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    open_page(browser, out)
    marked = browser.js("""var o = {}; ['a', 'b'].forEach(function (s) {
        var sel = ['added', 'removed', 'changed'].map(function (k) { return '.c-graph[data-side="' + s + '"] .node.layer.d-' + k; });
        o[s] = Array.from(document.querySelectorAll(sel.join(', '))).map(function (n) {
          return n.querySelector('.n-name').textContent + ':' + ['added', 'removed', 'changed'].filter(function (k) {
            return n.classList.contains('d-' + k); })[0]; });
        o[s + 'groups'] = document.querySelectorAll('.c-graph[data-side="' + s + '"] .node.group.d-inner').length; });
        return o;""")
    assert "maxpool:removed" in marked["a"] and "fc:changed" in marked["a"]
    assert "drop:added" in marked["b"] and "fc:changed" in marked["b"]
    assert marked["bgroups"] == 8  # every block's shapes moved when the max pool went: marked, closed
    summary = browser.css(".c-summary").text
    doc = json.loads(CliRunner().invoke(main, ["diff", str(a), str(b), "-f", "json"]).stdout)
    s = doc["summary"]
    assert summary == (f"{s['changed']} changed, {s['added']} added, {s['removed']} removed, {s['renamed']} renamed, "
                       f"{s['unchanged']} unchanged")
    totals = browser.js("""var o = {}; document.querySelectorAll('.c-totals tr[data-total]').forEach(function (r) {
        o[r.getAttribute('data-total')] = Array.from(r.querySelectorAll('td')).map(function (td) { return td.textContent; }); });
        return o;""")
    t = doc["totals"]["params"]
    assert totals["params"] == [commas(t["a"]), commas(t["b"]), f"{t['change']:+,}", t["relative_text"]]
    rows = browser.all(".c-layers tbody tr")
    assert len(rows) == sum(1 for e in doc["layers"] if e["status"] != "unchanged")
    fc = next(r for r in rows if r.find_elements("css selector", "td")[1].text == "fc")
    assert fc.find_elements("css selector", 'td[data-field="params"]')[0].text == "513,000 → 5,130"
    assert "changed" in fc.find_elements("css selector", 'td[data-field="params"]')[0].get_attribute("class")
    browser.screenshot(ARTIFACTS / "diff.png")
    # the convention switch re-weighs the comparison too
    from selenium.webdriver.support.ui import Select

    Select(browser.css(".conv-select-top")).select_by_value("ptflops")
    doc = json.loads(CliRunner().invoke(main, ["diff", str(a), str(b), "-f", "json", "--convention", "ptflops"]).stdout)
    t = doc["totals"]["macs"]
    cells = browser.js("return Array.from(document.querySelectorAll('.c-totals tr[data-total=\"macs\"] td'))"
                       ".map(function (td) { return td.textContent; })")
    assert cells == [commas(t["a"]), commas(t["b"]), f"{t['change']:+,}", t["relative_text"]]
    assert browser.css(".compare .conv-summary").text.startswith("MACs: ptflops")
    # each graph's edges point at its own arrowhead (ids are unique; a hidden graph's would not be drawn)
    assert browser.js("""return Array.from(document.querySelectorAll('svg.graph')).every(function (svg) {
        return Array.from(svg.querySelectorAll('path.edge')).every(function (p) {
          return svg.querySelector(p.getAttribute('marker-end').slice(4, -1)) !== null; }); })
        && new Set(Array.from(document.querySelectorAll('marker')).map(function (m) { return m.id; })).size
           === document.querySelectorAll('marker').length""")
    assert browser.errors() == []


def test_two_heads_shows_both_inputs_and_both_outputs(browser, pages):
    spec = ARCH / "two_heads.yaml"
    open_page(browser, pages(spec))
    names = [layer["name"] for layer in show_json(spec)["layers"]]
    click(browser, '[data-action="fit"]')
    nodes = browser.js("""return Array.from(document.querySelectorAll('.graph [data-io]')).map(function (n) {
        return [n.getAttribute('data-io'), n.getAttribute('data-index'), n.querySelector('.n-name').textContent]; });""")
    assert sorted(nodes) == [["input", "0", "input image · 128x128x3"], ["input", "1", "input mask · 128x128x1"],
                             ["output", "0", "output seg · 128x128x2"], ["output", "1", "output cls · 10"]]
    # each input feeds its own stem; each output hangs below its layer
    edges = set(browser.js("return Array.from(document.querySelectorAll('.graph path.edge')).map(function (p) {"
                           " return p.getAttribute('data-edge'); })"))
    seg, cls = names.index("seg"), names.index("cls")
    assert {"-1|I0>L0", "-1|I1>L1", f"-1|L{seg}>O0", f"-1|L{cls}>O1"} <= edges
    assert not any(e.startswith("-1|I0>") and e != "-1|I0>L0" for e in edges)
    header = browser.js("return Array.from(document.querySelectorAll('.subtitle .io-list')).map(function (e) {"
                        " return e.textContent; })")
    assert header == ["inputs image 128x128x3, mask 128x128x1", "outputs seg 128x128x2, cls 10"]
    assert browser.css('.table-pane tfoot td[data-col="shape"]').text == "seg 128x128x2, cls 10"
    # a layer that reuses weights says so; an output node selects its layer
    shared = names.index("enc1_mask.conv1")
    click(browser, '[data-action="collapse-all"]')
    block = browser.js("return Array.from(document.querySelectorAll('.graph .node.group')).map(function (g) {"
                       " return g.querySelector('.n-name').textContent + ' | ' + g.querySelector('.n-num').textContent; })")
    assert "▸ enc1_mask (6 layers) | shared weights · 75.50M MACs" in block
    assert "▸ enc1 (6 layers) | 4.74K params · 75.50M MACs" in block
    click(browser, '[data-action="expand-all"]')
    assert browser.css(f'.graph [data-layer="{shared}"] .n-num').text == "shared weights · 37.75M MACs"
    assert browser.css(f'.graph [data-layer="{shared}"] .n-sub').text == "conv 3x3 · 128x128x16"
    # a block with two inputs has a port for each, named after what it brings
    ports = browser.js("return Array.from(document.querySelectorAll('.graph [data-frame] ~ .port-in, .graph .port-in'))"
                       ".map(function (p) { return p.getAttribute('data-port'); })")
    assert sorted(set(ports)) == ["bottleneck.relu2", "dec2.relu", "fuse1", "fuse2"]
    click(browser, '.graph [data-io="output"][data-index="1"]')
    assert browser.css(".details .d-head").text.startswith("cls (dense)")
    assert browser.css(".details .d-output").text == "· network output 2 of 2"
    assert "sel" in browser.css(f'.graph [data-layer="{cls}"]').get_attribute("class")
    click(browser, '[data-action="collapse-all"]')
    browser.screenshot(ARTIFACTS / "two_heads.png")
    assert browser.errors() == []


def compare_page(tmp_path: Path, a: Path, b: Path) -> Path:
    out = tmp_path / f"{a.stem}-{b.stem}.html"
    result = CliRunner().invoke(main, ["report", str(a), "--compare", str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def marked_edges(b: Browser, side: str) -> dict[str, list[str]]:
    return b.js("""var o = {}; ['new', 'gone'].forEach(function (k) {
        o[k] = Array.from(document.querySelectorAll('.c-graph[data-side="' + arguments[0] + '"] path.edge.d-' + k))
          .map(function (p) { return p.getAttribute('data-edge'); }); }); return o;""".replace("arguments[0]", repr(side)))


def test_the_diff_page_marks_a_rewired_skip(browser, tmp_path):
    text = SKIP  # the rewired-skip pair of test_diff.py, here in the browser
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(text)
    b.write_text(text.replace("inputs: [c3, c1]", "inputs: [c3, c2]"))
    open_page(browser, compare_page(tmp_path, a, b))
    for side in "ab":
        assert "d-changed" in browser.css(f'.c-graph[data-side="{side}"] [data-layer="3"]').get_attribute("class")
        assert browser.all(f'.c-graph[data-side="{side}"] .node.d-added, .c-graph[data-side="{side}"] .node.d-removed') == []
    assert marked_edges(browser, "a") == {"new": [], "gone": ["-1|L0>L3"]}  # c1 → skip, no longer
    assert marked_edges(browser, "b") == {"new": ["-1|L1>L3"], "gone": []}  # c2 → skip, new
    row = browser.css(".c-layers tbody tr")
    assert [td.text for td in row.find_elements("css selector", "td")] == [
        "~", "skip", "add", "16x16x8", "0", "0", "2,048", "7", "c3, c1 → c3, c2"]
    assert "changed" in row.find_elements("css selector", 'td[data-field="inputs"]')[0].get_attribute("class")
    assert browser.css(".c-io-summary").text == "inputs and outputs as in A: input 16x16x8 → gap 8"
    assert browser.all(".c-io") == []
    assert browser.errors() == []
    # the same in two_heads: the second decoder's skip now comes from the image stem, not the fused stage 1
    rewired = tmp_path / "two_heads_rewired.yaml"
    heads = (ARCH / "two_heads.yaml").read_text()
    assert "{block: up, name: dec1, inputs: [dec2, fuse1], f: 16}" in heads
    rewired.write_text(heads.replace("{block: up, name: dec1, inputs: [dec2, fuse1], f: 16}",
                                     "{block: up, name: dec1, inputs: [dec2, image_stem], f: 16}"))
    open_page(browser, compare_page(tmp_path, ARCH / "two_heads.yaml", rewired))
    names = [layer["name"] for layer in show_json(rewired)["layers"]]
    cat = names.index("dec1.cat")
    assert "d-changed" in browser.css(f'.c-graph[data-side="b"] [data-layer="{cat}"]').get_attribute("class")
    new = marked_edges(browser, "b")["new"]
    assert new and all(e.endswith(f">L{cat}") or ">G" in e for e in new)  # into the block, then to its concat
    assert marked_edges(browser, "a")["gone"] and browser.css(".c-legend").text.count("a read B") == 2
    browser.screenshot(ARTIFACTS / "diff-rewired.png")
    assert browser.errors() == []


def test_the_diff_page_marks_inputs_and_outputs(browser, tmp_path):
    a, b = tmp_path / "one.yaml", tmp_path / "two.yaml"
    a.write_text(ONE_INPUT)
    b.write_text(edit(TWO_INPUTS, "depth: 32x32x1}\n", "depth: 32x32x1}\noutputs: [fc, gap]\n"))
    open_page(browser, compare_page(tmp_path, a, b))
    io = browser.js("""var o = {}; ['a', 'b'].forEach(function (s) {
        o[s] = Array.from(document.querySelectorAll('.c-graph[data-side="' + s + '"] [data-io]')).map(function (n) {
          return n.getAttribute('data-io') + n.getAttribute('data-index') + ':' + (['added', 'removed', 'changed'].filter(
            function (k) { return n.classList.contains('d-' + k); })[0] || ''); }).sort(); }); return o;""")
    assert io == {"a": ["input0:changed", "output0:"], "b": ["input0:changed", "input1:added", "output0:", "output1:added"]}
    rows = browser.js("return Array.from(document.querySelectorAll('.c-io tbody tr')).map(function (r) {"
                      " return Array.from(r.querySelectorAll('td')).map(function (td) { return td.textContent; }); })")
    assert rows == [["=", "input", "input → image", "32x32x3", "1"], ["+", "input", "depth", "32x32x1", "2"],
                    ["+", "output", "gap", "8", "2"]]
    assert browser.css(".c-io-summary").text == "inputs: 1 added, 1 renamed; outputs: 1 added"
    assert "d-changed" in browser.css('.c-graph[data-side="b"] [data-layer="3"]').get_attribute("class")  # gap reads fuse
    assert marked_edges(browser, "b")["new"] == ["-1|L2>L3"]
    browser.screenshot(ARTIFACTS / "diff-inputs.png")
    assert browser.errors() == []


HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> javascript:alert(1)'


def test_no_script_from_a_spec_runs(browser, pages, tmp_path):
    spec = tmp_path / "evil<img src=x onerror=window.__pwned=3>.yaml"
    name = json.dumps(HOSTILE + " \u2028 \u2029 'quote\" done")
    spec.write_text(f"""# {HOSTILE} <!--
name: {name}
input: 8x8x3
layers:
  - {{type: conv2d, name: c1, filters: 2, kernel: 3}}   # {HOSTILE}
""")
    open_page(browser, pages(spec))
    assert browser.js("return window.__pwned === undefined")
    assert browser.js("return [document.scripts.length, document.images.length, "
                      "document.querySelectorAll('iframe, object, embed, a[href]').length]") == [4, 0, 0]
    assert browser.css("header h1").text.startswith('</script><script>window.__pwned=1</script><img src=x')
    assert HOSTILE in browser.js("return document.querySelector('.source .src').textContent")
    assert browser.js("return document.title").startswith("</script>")
    # the error page of a hostile spec as well
    bad = tmp_path / "bad.yaml"
    bad.write_text(f'input: 8x8x3\nlayers:\n  - {{type: conv2d, filters: 2, kernel: 3, {json.dumps(HOSTILE)}: 1}}\n')
    from cnncalc import loads
    from cnncalc.errors import SpecError
    from cnncalc.report import error_html

    try:
        loads(bad.read_text(), str(bad))
        raise AssertionError("the spec should not load")
    except SpecError as exc:
        page = tmp_path / "errors.html"
        page.write_text(error_html(exc.diagnostics, str(bad), bad.read_text()))
    open_page(browser, page)
    assert browser.js("return window.__pwned === undefined")
    assert browser.js("return [document.scripts.length, document.images.length]") == [4, 0]
    assert "unknown-param" in browser.css(".diag.error").text and "<img src=x" in browser.css(".diag.error").text


def test_watch_reloads_the_open_page(browser, tmp_path):
    from test_report_watch import Watch, rewrite

    spec = tmp_path / "net.yaml"
    text = (ARCH / "alexnet.yaml").read_text()
    spec.write_text(text)
    w = Watch(spec, "-o", "-")
    try:
        browser.open(w.url)
        assert browser.errors() == []
        assert browser.css('[data-total="params"] .c-value').text == "62,378,344"
        rewrite(spec, text.replace("name: fc8, units: 1000", "name: fc8, units: 10"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if browser.css('[data-total="params"] .c-value').text == commas(62_378_344 - 4_097_000 + 40_970):
                    break
            except Exception:  # the page is reloading
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the page did not reload")
        rewrite(spec, text.replace("kernel: 11, stride: 4", "kernel: 999, stride: 4"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if browser.all(".diag.error"):
                    break
            except Exception:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the page did not show the error")
        assert re.search(r"net\.yaml:15:54: error: conv1: kernel 999 is larger", browser.css(".diag.error").text)
        assert browser.errors() == []
    finally:
        status, err = w.stop()
    assert status == 0 and "Traceback" not in err


def test_the_file_written_by_watch_opens_quietly(browser, tmp_path):
    """The -o file of --watch opened from disk: no polling of a server that is not there, no console error."""
    from cnncalc import analyse
    from cnncalc.report import read_source, report_html

    spec = ARCH / "cifar_net.yaml"
    page = tmp_path / "watched.html"
    page.write_text(report_html(analyse(spec), source=read_source(str(spec)), watch="3-1"))
    open_page(browser, page)
    time.sleep(1.2)  # two polling periods
    assert browser.errors() == []
