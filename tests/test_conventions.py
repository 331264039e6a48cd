"""Named MACs/FLOPs conventions: published figures, the 760-parameter layer, the CLI and JSON.

The per-tool numbers below were obtained by running the tools on the equivalent PyTorch layer
(tests/test_conventions_oracle.py re-runs them where the tools are installed).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import ARCH

import cnncalc
from cnncalc import conventions
from cnncalc.cli import main
from cnncalc.layers import all_types, lookup

HW = ARCH / "hw_conv_760.yaml"

# 32x32x3 input, 10 5x5 filters, pad 2: torch.nn.Conv2d(3, 10, 5, padding=2) measured with
# fvcore 0.1.5 / thop 0.1.1 (768,000), torchinfo 1.8.0 / ptflops 0.7.5 (778,240) and
# calflops 0.3.2 (MACs 768,000, FLOPs 1,546,240).
HW_MACS = {"cnncalc": 768_000, "torchvision": 768_000, "fvcore": 768_000, "thop": 768_000,
           "torchinfo": 778_240, "ptflops": 778_240, "calflops": 768_000}


@pytest.mark.parametrize("name", list(HW_MACS))
def test_760_layer_in_every_convention(name):
    a = cnncalc.analyse(HW, convention=name)
    assert a.convention == name and a.totals["macs"] == HW_MACS[name]
    if name == "calflops":
        assert a.totals["flops"] == 1_546_240
    elif name != "cnncalc":
        assert a.totals["flops"] == 2 * HW_MACS[name]


def test_default_convention_is_cnncalc_and_unchanged():
    a = cnncalc.analyse(HW)
    assert a.convention == conventions.DEFAULT == "cnncalc"
    # 768,000 MACs (no bias); FLOPs 2·768,000 + 10,240 bias adds
    assert (a.totals["macs"], a.totals["flops"]) == (768_000, 1_546_240)


# torchvision's model documentation ("GFLOPS" column; it counts conv/linear multiply-adds).
@pytest.mark.parametrize("arch,digits,gflops", [("alexnet_torchvision", 3, 0.714), ("vgg16", 2, 15.47),
                                                ("resnet50", 3, 4.089)])
def test_torchvision_published_gflops(arch, digits, gflops):
    a = cnncalc.analyse(ARCH / f"{arch}.yaml", convention="torchvision")
    assert round(a.totals["macs"] / 1e9, digits) == gflops


def test_alexnet_torchvision_is_torchvisions_alexnet():
    a = cnncalc.analyse(ARCH / "alexnet_torchvision.yaml")
    assert a.totals["params"] == 61_100_840 and a.layer("features.0").output_shape == (64, 55, 55)


def test_rule_tables_name_real_layers_and_terms():
    known = set(all_types()) | {cls.family for cls in all_types().values()} | {"*"}
    terms = set(conventions.OP_KINDS) | set(conventions.TERMS)
    for conv in conventions.CONVENTIONS.values():
        for table in (conv.mac_rules, conv.flop_rules or {}):
            assert set(table) <= known, conv.name
            for rule in table.values():
                if not callable(rule):
                    assert set(rule) <= terms, conv.name


@pytest.mark.parametrize("name", list(conventions.CONVENTIONS))
def test_every_architecture_counts_in_every_convention(name):
    for path in sorted(ARCH.glob("*.yaml")):
        a = cnncalc.analyse(path, convention=name)
        assert a.totals["macs"] >= 0 and a.totals["flops"] >= a.totals["macs"] > 0


def test_unknown_convention_names_the_choices():
    with pytest.raises(ValueError, match="unknown convention 'fvcor'.*fvcore"):
        conventions.get("fvcor")
    assert conventions.get("FVCore").name == "fvcore"


def test_ops_only_shortcuts_need_tensors_for_size_rules():
    ops = {"mac": 100, "bias": 10}
    conv2d, batch_norm = lookup("conv2d"), lookup("batch_norm")
    assert conventions.get("cnncalc").macs(conv2d, ops) == 100
    assert conventions.get("cnncalc").flops(conv2d, ops) == 210
    assert conventions.get("torchinfo").macs(conv2d, ops) == 110
    with pytest.raises(ValueError, match="needs the layer's tensors"):
        conventions.get("fvcore").macs(batch_norm, {"mul": 5, "add": 5})


# --------------------------------------------------------------------------- JSON and CLI

OLD_LAYER_KEYS = {"name", "type", "inputs", "input_shapes", "output_shape", "params", "trainable_params",
                  "non_trainable_params", "macs", "flops"}


def test_json_has_convention_and_per_layer_ops():
    r = CliRunner().invoke(main, ["show", str(ARCH / "resnet18.yaml"), "-f", "json", "--convention", "fvcore"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["convention"] == "fvcore"
    for layer in d["layers"]:
        assert OLD_LAYER_KEYS | {"ops"} <= set(layer)
        assert list(layer["ops"]) == list(conventions.OP_KINDS)
    by_name = {layer["name"]: layer for layer in d["layers"]}
    # bn1 on 64x112x112: fvcore counts input elements x2 (affine); its ops are one mul and one add each
    assert by_name["bn1"]["macs"] == 2 * 64 * 112 * 112
    assert by_name["bn1"]["ops"]["mul"] == by_name["bn1"]["ops"]["add"] == 64 * 112 * 112
    assert by_name["maxpool"]["ops"]["cmp"] > 0 and by_name["maxpool"]["macs"] == 0


def test_show_convention_table_footer():
    r = CliRunner().invoke(main, ["show", str(HW), "--convention", "torchinfo"])
    assert r.exit_code == 0, r.output
    assert "778,240" in r.output and "convention: torchinfo" in r.output


def test_show_default_footer_names_the_convention():
    r = CliRunner().invoke(main, ["show", str(HW)])
    assert r.exit_code == 0 and "convention: cnncalc" in r.output


def test_show_unknown_convention_is_a_usage_error():
    r = CliRunner().invoke(main, ["show", str(HW), "--convention", "flopz"])
    assert r.exit_code == 2 and "unknown convention 'flopz'" in r.output and "Traceback" not in r.output


def test_conventions_command_lists_all_with_one_line_each():
    r = CliRunner().invoke(main, ["conventions"])
    assert r.exit_code == 0
    lines = [line for line in r.output.splitlines() if ": " in line]
    assert [line.split(":")[0] for line in lines] == ["cnncalc (default)", "torchvision", "fvcore", "thop",
                                                      "torchinfo", "ptflops", "calflops"]


def test_conventions_command_shows_one_rule_table():
    r = CliRunner().invoke(main, ["conventions", "ptflops"])
    assert r.exit_code == 0 and "verified against ptflops 0.7.5" in r.output
    assert "relu               2·out" in r.output and "FLOPs = 2 · MACs" in r.output
    bad = CliRunner().invoke(main, ["conventions", "nope"])
    assert bad.exit_code == 2 and "unknown convention 'nope'" in bad.output


# Single layers whose count is idiosyncratic, as measured by the tools (torch 2.13; versions in
# pyproject's `conventions` extra) on the equivalent torch module; input given channels-first.
# tests/test_conventions_oracle.py re-measures all of them when the tools are installed.
MEASURED = [
    # (layer, input, convention, MACs, FLOPs or None)
    ("{type: adaptive_avg_pool2d, output_size: 3}", "[4, 13, 13]", "thop", 711, None),  # float64 (13/3)^2
    ("{type: adaptive_avg_pool2d, output_size: [2, 3]}", "[3, 7, 5]", "thop", 123, None),
    ("{type: adaptive_avg_pool2d, output_size: 1}", "[4, 13, 13]", "fvcore", 676, None),
    ("{type: adaptive_avg_pool2d, output_size: 1}", "[4, 13, 13]", "ptflops", 1352, None),
    ("relu", "[4, 6, 6]", "ptflops", 288, None),  # module hook + patched F.relu
    ("relu6", "[4, 6, 6]", "ptflops", 144, None),
    ("relu6", "[4, 6, 6]", "calflops", 0, 0),  # F.hardtanh is not patched
    ("{type: max_pool2d, kernel: 3, stride: 2}", "[4, 13, 13]", "ptflops", 1352, None),
    ("{type: max_pool2d, kernel: 3, stride: 2}", "[4, 13, 13]", "calflops", 0, 676),
    ("{type: avg_pool2d, kernel: 3, stride: 2}", "[4, 13, 13]", "thop", 144, None),
    ("{type: local_response_norm, size: 5, k: 2}", "[8, 6, 6]", "ptflops", 1296, None),
    ("{type: local_response_norm, size: 3}", "[5, 4, 6]", "calflops", 0, 528),
    ("batch_norm", "[4, 6, 6]", "thop", 576, None),
    ("batch_norm", "[4, 6, 6]", "torchinfo", 8, None),
    ("{type: batch_norm, affine: false}", "[4, 6, 6]", "fvcore", 144, None),
    ("softmax", "[10]", "thop", 29, None),
    ("{type: dense, units: 7}", "[12]", "calflops", 84, 168),  # dense bias not counted
    ("{type: dense, units: 7}", "[12]", "torchinfo", 91, None),
    ("{type: conv_transpose2d, filters: 5, kernel: 3, stride: 2}", "[3, 4, 4]", "thop", 10935, None),
    ("{type: conv_transpose2d, filters: 5, kernel: 3, stride: 2}", "[3, 4, 4]", "torchinfo", 11340, None),
    ("{type: conv_transpose2d, filters: 5, kernel: 3, stride: 2}", "[3, 4, 4]", "ptflops", 2565, None),
    ("{type: conv_transpose2d, filters: 5, kernel: 3, stride: 2}", "[3, 4, 4]", "calflops", 2160, 4325),
    ("{type: depthwise_conv2d, kernel: 3}", "[4, 8, 8]", "torchinfo", 1440, None),
    ("{type: add, inputs: [input, input]}", "[4, 6, 6]", "ptflops", 0, None),
]


@pytest.mark.parametrize("layer,shape,name,macs,flops", MEASURED)
def test_measured_single_layers(layer, shape, name, macs, flops):
    a = cnncalc.analyse(cnncalc.loads(f"input: {shape}\nlayout: channels_first\nlayers:\n  - {layer}\n"), convention=name)
    assert a.totals["macs"] == macs
    assert a.totals["flops"] == (2 * macs if flops is None else flops)
