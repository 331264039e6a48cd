"""`cnncalc diagram`: well-formed SVG whose boxes follow the shapes, branches in lanes, Mermaid text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.diagram import mermaid, svg

ROOT = Path(__file__).resolve().parent.parent
ARCHS = sorted(p.stem for p in (ROOT / "architectures").glob("*.yaml"))
NS = "{http://www.w3.org/2000/svg}"


def analyse(arch: str):
    return cnncalc.analyse(ROOT / "architectures" / f"{arch}.yaml")


def boxes(text: str) -> dict[str, ET.Element]:
    """Front-face rectangle of each block, keyed by the block's first layer name (from its <title>)."""
    root = ET.fromstring(text)
    out = {}
    for g in root.iter(f"{NS}g"):
        title = g.find(f"{NS}title").text
        out[title.split(":")[0].split(" → ")[0]] = g.find(f"{NS}rect")
    return out


EXTRA = sorted(p for p in (ROOT / "tests" / "data").rglob("*.yaml") if "lint" not in p.parts)  # lint's are broken


@pytest.mark.parametrize("arch", ARCHS + EXTRA, ids=str)
def test_svg_is_well_formed_and_shows_every_layer(arch):
    a = analyse(arch) if isinstance(arch, str) else cnncalc.analyse(arch)
    text = svg.render(a)
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg" and float(root.get("width")) > 0
    titles = " ".join(t.text for t in root.iter(f"{NS}title"))
    for layer in a.layers:
        assert re.search(rf"(^| ){re.escape(layer.name)}[ :]", titles), layer.name


def test_box_sizes_follow_the_shapes():
    b = boxes(svg.render(analyse("alexnet")))
    h = {name: float(r.get("height")) for name, r in b.items()}
    w = {name: float(r.get("width")) for name, r in b.items()}
    assert h["input"] > h["conv1"] > h["pool1"] > h["conv3"] > h["pool3"]  # 227 > 55 > 27 > 13 > 6
    assert w["conv3"] > w["conv1"] > w["input"]  # 384 > 96 > 3 channels
    assert h["fc6"] > h["fc8"]  # 4096 > 1000 features


def test_branches_are_drawn_in_lanes():
    b = boxes(svg.render(analyse("googlenet")))
    heads = ["inception3a.branch1.conv", "inception3a.branch2.0.conv", "inception3a.branch3.0.conv",
             "inception3a.branch4.0"]
    xs = {round(float(b[n].get("x")) + float(b[n].get("width")) / 2) for n in heads}
    ys = [float(b[n].get("y")) for n in heads]
    assert len(xs) == 1 and ys == sorted(ys) and len(set(ys)) == 4  # one column, four lanes
    r = boxes(svg.render(analyse("resnet18")))
    assert float(r["layer2.0.downsample.0"].get("y")) > float(r["layer2.0.conv1"].get("y"))


def test_labels_are_escaped(spec):
    path = spec('name: "R&D <net> \\"x\\""\ninput: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 2, kernel: 3}\n')
    root = ET.fromstring(svg.render(cnncalc.analyse(path)))
    assert 'R&D <net> "x"' in "".join(root.itertext())
    assert mermaid._label("a<b>", 'say "hi" & go') == "a&lt;b&gt;<br/>say #quot;hi#quot; &amp; go"


def test_mermaid_has_a_node_per_block_and_an_edge_per_input():
    from cnncalc.diagram import blocks

    a = analyse("resnet18")
    text = mermaid.render(a)
    assert text.startswith("flowchart LR\n")
    assert 'n0["input<br/>3x224x224"]' in text
    assert 'n1["conv1<br/>conv 7x7 /2 + bn, relu<br/>64x112x112"]' in text  # conv1, bn1, relu folded
    assert "n1 --> n2" in text
    bs = blocks(a)
    assert len(re.findall(r"^    n\d+\[", text, re.M)) == len(bs)
    assert text.count("-->") == sum(len(b.inputs) for b in bs)
    # 8 basic blocks: each add reads the block's last conv branch and its shortcut
    assert sum(1 for b in bs if b.kind == "add" and len(b.inputs) == 2) == 8


def test_readme_picture_is_current():
    assert (ROOT / "docs/img/alexnet.svg").read_text() == svg.render(analyse("alexnet"))


def test_diagram_command(tmp_path):
    out = tmp_path / "net.svg"
    r = CliRunner().invoke(main, ["diagram", "architectures/cifar_net.yaml", "-o", str(out)])
    assert r.exit_code == 0, r.output
    ET.parse(out)
    r = CliRunner().invoke(main, ["diagram", "architectures/cifar_net.yaml", "--format", "mermaid"])
    assert r.exit_code == 0 and r.output.startswith("flowchart LR")


def test_diagram_of_a_bad_spec_is_a_one_line_error(spec):
    path = spec("input: [8, 8, 3]\nlayers:\n  - {type: dense, units: 4, in_features: 8}\n")
    r = CliRunner().invoke(main, ["diagram", str(path)])
    assert r.exit_code == 1
    assert r.output.strip().endswith("[shape-mismatch]") and len(r.output.strip().splitlines()) == 1


def test_long_networks_wrap_into_rows():
    a = analyse("resnet50")
    wrapped = ET.fromstring(svg.render(a))
    assert float(wrapped.get("width")) <= 1800
    b = boxes(svg.render(a))
    assert float(b["fc"].get("y")) > float(b["conv1"].get("y")) + 1000  # the classifier is rows below the stem
    one_row = ET.fromstring(svg.render(a, wrap=0))
    assert float(one_row.get("width")) > 4 * 1800 and float(one_row.get("height")) < float(wrapped.get("height"))
    r = CliRunner().invoke(main, ["diagram", "architectures/resnet50.yaml", "--width", "0"])
    assert r.exit_code == 0 and ET.fromstring(r.output).get("width") == one_row.get("width")
