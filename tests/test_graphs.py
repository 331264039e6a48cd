"""Real graphs: named inputs, several outputs, shared weights, blocks with several inputs, `$params` in
the input, layouts, the channels-first warning and the did-you-mean rule — in the parser, the
analysis, `show` (every format, --batch-size, --sweep), lint, the receptive-field and memory columns
and the diagram. Numbers are checked against PyTorch where a framework computes them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from conftest import ARCH, ROOT

import cnncalc
from cnncalc.cli import main
from cnncalc.lint import check_text
from cnncalc.spec import close_match, same_meaning

TWO = ARCH / "two_heads.yaml"
SINK = ROOT / "tests" / "data" / "kitchen_sink_graphs.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def analyse(text: str, overrides=None):
    return cnncalc.analyse(cnncalc.loads(text, "g.yaml", overrides))


def errors(text: str) -> list[str]:
    with pytest.raises(cnncalc.SpecError) as exc:
        analyse(text)
    return [d.format() for d in exc.value.diagnostics]


def rules(text: str) -> set[str]:
    return {d.rule for d in check_text(text, "g.yaml")}


# ---------------------------------------------------------------- named inputs and outputs

NAMED = """\
inputs: {image: 32x32x3, mask: [32, 32, 1]}
outputs: [seg, cls]
layers:
  - {type: conv2d, name: a, inputs: [image], filters: 8, kernel: 3, padding: 1}
  - {type: conv2d, name: b, inputs: [mask], filters: 8, kernel: 3, padding: 1}
  - {type: add, name: fuse, inputs: [a, b]}
  - {type: conv2d, name: seg, filters: 2, kernel: 1}
  - {type: global_avg_pool2d, name: gap, inputs: [fuse]}
  - {type: dense, name: cls, units: 10}
"""


def test_named_inputs_and_outputs():
    a = analyse(NAMED)
    assert a.inputs == [("image", (32, 32, 3)), ("mask", (32, 32, 1))]
    assert a.outputs == [("seg", (32, 32, 2)), ("cls", (10,))]
    assert a.layer("b").inputs == ["mask"] and a.layer("b").params == 8 * 9 + 8
    assert a.warnings == []  # neither output is "never used"
    d = a.to_dict()
    assert d["inputs"] == [{"name": "image", "shape": [32, 32, 3]}, {"name": "mask", "shape": [32, 32, 1]}]
    assert d["outputs"] == [{"name": "seg", "shape": [32, 32, 2]}, {"name": "cls", "shape": [10]}]
    assert d["input_shape"] == [32, 32, 3] and d["output_shape"] == [32, 32, 2]


def test_every_output_is_shown_in_every_format(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(NAMED)
    table = run("show", str(path)).output
    assert "Outputs: seg 32x32x2, cls 10" in table and "inputs image 32x32x3, mask 32x32x1" in table
    md = run("show", str(path), "-f", "markdown").output
    assert "Inputs image 32x32x3, mask 32x32x1 (channels_last), outputs seg 32x32x2, cls 10." in md
    total = list(csv.reader(io.StringIO(run("show", str(path), "-f", "csv").output)))[-1]
    assert total[:3] == ["(total)", "", "seg=32x32x2;cls=10"]


def test_a_layer_left_out_of_outputs_is_warned_about():
    text = NAMED + "  - {type: dense, name: extra, inputs: [gap], units: 3}\n"
    (w,) = analyse(text).warnings
    assert w.rule == "unused-layer" and w.loc.line == 10
    assert "the network outputs are seg, cls); connect it, list it under `outputs:`, or remove it" in w.message


def test_an_input_nothing_reads_is_warned_about():
    text = NAMED.replace("{image: 32x32x3,", "{image: 32x32x3, spare: [4],")
    (w,) = analyse(text).warnings
    assert (w.rule, w.loc.line, w.loc.col) == ("unused-input", 1, 33)
    assert "input 'spare' is never read" in w.message


@pytest.mark.parametrize("text, message", [
    # several inputs: a layer naming none has nothing to read
    (NAMED.replace("name: a, inputs: [image], ", "name: a, "),
     "g.yaml:4:5: error: a: the network has several inputs (image, mask); say which this layer reads, e.g. "
     "`inputs: [image]` [missing-input]"),
    (NAMED.replace("inputs: {", "input: 8x8x3\ninputs: {"),
     "g.yaml:1:8: error: give `input` (one input) or `inputs` (named inputs), not both [duplicate-key]"),
    (NAMED.replace("outputs: [seg, cls]", "outputs: [seg, clss]"),
     "g.yaml:2:16: error: output 'clss' is not a layer of `layers`; did you mean 'cls'? [unknown-reference]"),
    (NAMED.replace("outputs: [seg, cls]", "outputs: [seg, mask]"),
     "g.yaml:2:16: error: output 'mask' is a network input, not a layer [unknown-reference]"),
    (NAMED.replace("outputs: [seg, cls]", "outputs: [seg, seg]"),
     "g.yaml:2:16: error: output 'seg' is listed twice; list each output once [duplicate-name]"),
    (NAMED.replace("inputs: {image: 32x32x3, mask: [32, 32, 1]}", "inputs: [32x32x3]"),
     "g.yaml:1:9: error: `inputs` names the network inputs and their shapes, e.g. `inputs: {image: 224x224x3, "
     "mask: 224x224x1}` [invalid-value]"),
])
def test_graph_mistakes_are_located_errors(text, message):
    assert message in errors(text)


def test_single_input_specs_keep_their_json():
    """No new key in the JSON of a spec that uses none of the new forms."""
    old_top = {"name", "layout", "input_shape", "output_shape", "convention", "layers", "totals", "warnings", "memory"}
    old_layer = {"name", "type", "inputs", "input_shapes", "output_shape", "params", "trainable_params",
                 "non_trainable_params", "macs", "flops", "ops", "receptive_field", "jump", "start",
                 "receptive_field_kind", "activation_elements", "activation_bytes", "param_bytes"}
    for path in sorted(ARCH.glob("*.yaml")):
        if path.stem == "two_heads":
            continue
        doc = json.loads(run("show", str(path), "-f", "json").output)
        assert set(doc) == old_top, path.stem
        assert {k for layer in doc["layers"] for k in layer} == old_layer, path.stem
        assert doc["layers"][0]["inputs"] == ["input"]


# ---------------------------------------------------------------- shared weights

SHARED = """\
inputs: {a: 16x16x3, b: 12x12x3}
outputs: [pa, pb]
layers:
  - {type: conv2d, name: conv, inputs: [a], filters: 4, kernel: 3, bias: true}
  - {share: conv, name: conv_b, inputs: [b]}
  - {type: global_avg_pool2d, name: pa, inputs: [conv]}
  - {type: global_avg_pool2d, name: pb, inputs: [conv_b]}
"""


def test_a_shared_layer_is_counted_once_in_params_and_every_time_in_macs():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    a = analyse(SHARED)
    conv = torch.nn.Conv2d(3, 4, 3)  # one module, called on both inputs (other sizes: fine for the frameworks)
    with FlopCounterMode(display=False) as counter:
        ya, yb = conv(torch.zeros(1, 3, 16, 16)), conv(torch.zeros(1, 3, 12, 12))
    assert a.layer("conv").output_shape == tuple(ya.shape[2:]) + (4,)
    assert a.totals["params"] == sum(p.numel() for p in conv.parameters()) == 112
    assert (a.layer("conv").params, a.layer("conv_b").params) == (112, 0)
    assert 2 * a.totals["macs"] == counter.get_total_flops()
    assert a.layer("conv_b").output_shape == (10, 10, 4) == tuple(yb.shape[2:]) + (4,)
    assert a.layer("conv_b").shares == "conv" and a.layer("conv_b").to_dict()["shares"] == "conv"
    assert "shares" not in a.layer("conv").to_dict()


def test_a_shared_layer_shows_in_every_format(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SHARED)
    explained = run("show", str(path), "--explain").output
    assert "params = 0 here: the weights are those of conv, counted there" in explained
    assert "params = 4 · (3·3·3 + 1) = 112" in explained  # at the layer that owns them
    table = run("show", str(path)).output
    row = next(line for line in table.splitlines() if "conv_b" in line)
    assert "shared" in row and "Shared weights (params counted once, MACs at every call): conv_b → conv" in table
    assert "| 2 | conv_b | conv2d | 10x10x4 | shared (conv) | 10,800 |" in run("show", str(path), "-f", "markdown").output
    rows = list(csv.reader(io.StringIO(run("show", str(path), "-f", "csv").output)))
    assert rows[0][-1] == "shares" and rows[2][0] == "conv_b" and rows[2][3] == "0" and rows[2][-1] == "conv"


@pytest.mark.parametrize("old, new", [
    ("b: 12x12x3", "b: 12x12x5"),  # the weights fix the input channels
    ("bias: true", "bias: per_position"),  # a per-position bias fixes the spatial size too
])
def test_a_share_the_weights_cannot_take_is_refused(old, new):
    (err,) = errors(SHARED.replace(old, new))
    assert err.startswith("g.yaml:5:13: error: conv_b: it shares the weights of conv, which reads 16x16x3, but it reads")
    assert err.endswith("[share-mismatch]")


def test_share_mistakes():
    assert errors(SHARED.replace("{share: conv,", "{share: conf,"))[0] == (
        "g.yaml:5:13: error: share: 'conf' is not a layer or block use defined before this point; did you mean "
        "'conv'? [unknown-reference]")
    assert "g.yaml:5:33: error: 'filters' cannot be given with `share`" in errors(
        SHARED.replace("name: conv_b,", "name: conv_b, filters: 4,"))[0]
    assert errors(SHARED.replace("{share: conv,", "{type: conv2d, share: conv,"))[0].startswith(
        "g.yaml:5:6: error: a layer with `share` is the shared layer called again")


def test_a_shared_block_use_repeats_its_layers_with_the_same_weights():
    a = cnncalc.analyse(TWO)
    mask = [layer for layer in a.layers if layer.name.startswith("enc1_mask.")]
    assert [layer.shares for layer in mask] == [f"enc1.{n}" for n in ("conv1", "bn1", "relu1", "conv2", "bn2",
                                                                        "relu2")]
    assert sum(layer.params for layer in mask) == 0
    assert [layer.macs for layer in mask] == [a.layer(layer.shares).macs for layer in mask]
    assert a.network.shared_uses == {"enc1_mask": "enc1", "enc2_mask": "enc2"}


def test_repeat_calls_a_shared_layer_again_and_again():
    a = cnncalc.analyse(SINK)
    assert [a.layer(f"sq_again.{i}").shares for i in range(2)] == ["sq", "sq"]
    assert a.layer("sq").params == 72 and a.layer("sq_again.1").params == 0 and a.layer("sq_again.1").macs == 64


# ---------------------------------------------------------------- blocks with several inputs

BLOCK = """\
input: 16x16x8
blocks:
  up:
    inputs: [x, skip]
    layers:
      - {type: conv_transpose2d, name: up, inputs: [x], filters: 8, kernel: 2, stride: 2}
      - {type: concat, name: cat, inputs: [up, skip]}
layers:
  - {type: max_pool2d, name: pool, kernel: 2}
  - {block: up, name: dec, inputs: [pool, input]}
"""


def test_a_block_takes_several_inputs():
    a = analyse(BLOCK)
    assert a.layer("dec.up").inputs == ["pool"] and a.layer("dec.cat").inputs == ["dec.up", "input"]
    assert a.output_shape == (16, 16, 16)


@pytest.mark.parametrize("change, message", [
    ("inputs: [pool, input]}", "g.yaml:10:36: error: block 'up' takes 2 inputs (x, skip), got 1 [wrong-input-count]"),
    ("name: dec, inputs: [pool, input]}", "g.yaml:10:5: error: block 'up' takes 2 inputs (x, skip); give them in "
                                          "order: `inputs: [..., ...]` [missing-input]"),
    ("inputs: [up, skip]}", "g.yaml:7:48: error: dec.cat: unknown layer 'input' in inputs (the block inputs are "
                            "x, skip) [unknown-reference]"),
])
def test_block_input_mistakes(change, message):
    replacement = {"inputs: [pool, input]}": "inputs: [pool]}", "name: dec, inputs: [pool, input]}": "name: dec}",
                   "inputs: [up, skip]}": "inputs: [up, input]}"}[change]
    assert message in errors(BLOCK.replace(change, replacement))


# ---------------------------------------------------------------- $params in the input, layouts

def test_params_in_the_input_follow_set():
    text = "params: {s: 32}\ninput: [$s, '${s // 2}', 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3}\n"
    assert analyse(text).output_shape == (30, 14, 4)
    assert analyse(text, {"s": 64}).output_shape == (62, 30, 4)
    text = "params: {s: 32}\ninput: ${s}x${s}x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3}\n"
    assert analyse(text, {"s": 10}).input_shape == (10, 10, 3)
    assert errors(text.replace("${s}x", "${t}x")) == [
        "g.yaml:2:8: error: unknown parameter $t (known here: s) [bad-expression]"]


@pytest.mark.parametrize("layout, expected", [
    ("NCHW", "channels_first"), ("nchw", "channels_first"), ("Channels_First", "channels_first"), ("CHW", "channels_first"),
    ("NHWC", "channels_last"), ("nhwc", "channels_last"), ("channels-last", "channels_last"), ("HWC", "channels_last"),
])
def test_layout_spellings(layout, expected):
    assert analyse(f"input: [3, 32, 32]\nlayout: {layout}\nlayers: [relu]\n").layout == expected


def test_an_unknown_layout_is_refused_with_the_spellings():
    assert errors("input: [3, 32, 32]\nlayout: NCWH\nlayers: [relu]\n") == [
        "g.yaml:2:9: error: layout must be channels_last (NHWC, the default: height, width, channels) or "
        "channels_first (NCHW: channels, height, width), got 'NCWH'; did you mean 'channels_first'? [invalid-value]"]


def test_a_channels_first_looking_input_is_warned_about():
    text = "input: [3, 224, 224]\nlayers:\n  - {type: conv2d, filters: 64, kernel: 7, stride: 2, padding: 3}\n"
    a = analyse(text)
    assert a.output_shape == (2, 112, 64)  # what the default layout says: the warning is why
    (w,) = a.warnings
    assert (w.rule, w.loc.line, w.loc.col) == ("channels-first-input", 1, 8)
    assert w.message == ("input 3x224x224 is read channels-last (the default layout): 224 channels of 3x224; it "
                         "looks channels-first (3 channels of 224x224): add `layout: channels_first` (or "
                         "`layout: channels_last` to keep this reading)")
    assert analyse("layout: channels_first\n" + text).output_shape == (64, 112, 112)
    assert analyse("layout: channels_last\n" + text).warnings == []
    assert analyse(text.replace("[3, 224, 224]", "[1, 8, 8]")).warnings == []  # small images: no guess


# ---------------------------------------------------------------- did you mean

def test_did_you_mean_never_swaps_a_word_for_its_opposite():
    assert not same_meaning("in_channels", "out_channels") and not same_meaning("in_features", "out_features")
    assert close_match("in_channels", ["filters", "out_channels", "kernel"]) is None
    assert close_match("kernal", ["filters", "out_channels", "kernel"]) == "kernel"
    (err,) = errors("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, in_features: 3, filters: 4, kernel: 3}\n")
    assert "out_" not in err and "did you mean" not in err
    assert "unknown parameter 'in_features' for conv2d: the input size comes from the layer this one reads, so " \
           "leave `in_features` out" in err
    (d,) = check_text("input: [8]\nlayers:\n  - {type: dense, units: 4, expect: {input_shape: 8}}\n", "g.yaml")
    assert d.message.startswith("unknown expect key 'input_shape' (known:")  # not "did you mean 'output_shape'?"


# ---------------------------------------------------------------- stricter values

@pytest.mark.parametrize("text, message", [
    ("input: [8, 8, 3]\nlayers:\n  - {type: relu, repeat: 2, if: 'false'}\n",
     "g.yaml:3:33: error: `if` must be true or false (or an expression giving one), got 'false' [invalid-value]"),
    ("input: [8, 8, 3]\ndescription: 3\nlayers: [relu]\n", "g.yaml:2:14: error: `description` must be a string"),
    ("input: [8, 8, 3]\nlayers:\n  - {type: relu, inputs: []}\n", "g.yaml:3:26: error: relu1: `inputs` is empty"),
])
def test_values_the_parser_now_refuses(text, message):
    assert any(e.startswith(message) for e in errors(text))


# ---------------------------------------------------------------- --batch-size in shapes and counts

def test_batch_size_puts_the_batch_in_shapes_macs_and_flops():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    path = str(ARCH / "hw_conv_760.yaml")
    with FlopCounterMode(display=False) as counter:
        y = torch.nn.Conv2d(3, 10, 5, padding=2)(torch.zeros(4, 3, 32, 32))
    macs = counter.get_total_flops() // 2
    assert macs == 4 * 768_000
    doc = json.loads(run("show", path, "-b", "4", "-f", "json").output)
    assert doc["batch"] == {"size": 4, "input_shape": [4, 32, 32, 3], "output_shape": [4, 32, 32, 10],
                            "macs": macs, "flops": 4 * doc["totals"]["flops"]}
    assert doc["layers"][0]["batch"]["output_shape"] == [y.shape[0], 32, 32, y.shape[1]]
    assert doc["totals"]["macs"] == 768_000 and doc["totals"]["params"] == 760  # per sample, unchanged
    table = run("show", path, "-b", "4").output
    assert "4x32x32x10" in table and f"{macs:,}" in table and "for a batch of 4" in table and "(batch 4," in table
    row = list(csv.reader(io.StringIO(run("show", path, "-b", "4", "-f", "csv").output)))[1]
    assert row[:4] == ["conv1", "conv2d", "4x32x32x10", "760"] and row[6] == str(macs)
    assert f"| 1 | conv1 | conv2d | 4x32x32x10 | 760 | {macs:,} |" in run("show", path, "-b", "4", "-f", "markdown").output
    assert "batch" not in json.loads(run("show", path, "-f", "json").output)


# ---------------------------------------------------------------- --sweep

def test_sweep_gives_one_row_per_value_in_every_format():
    path = str(TWO)
    sizes = [64, 96, 128]
    want = {s: cnncalc.analyse(TWO, {"size": s}) for s in sizes}
    doc = json.loads(run("show", path, "--sweep", "size=64,96,128", "-f", "json").output)
    assert doc["sweep"] == "size" and [r["value"] for r in doc["rows"]] == sizes
    for r in doc["rows"]:
        a = want[r["value"]]
        assert r["totals"] == a.totals and r["outputs"] == [{"name": n, "shape": list(s)} for n, s in a.outputs]
    rows = list(csv.reader(io.StringIO(run("show", path, "--sweep", "size=64,96,128", "-f", "csv").output)))
    assert rows[0] == ["size", "input_shape", "output_shape", "params", "trainable_params", "non_trainable_params",
                       "macs", "flops"]
    assert rows[2] == ["96", "image=96x96x3;mask=96x96x1", "seg=96x96x2;cls=10", "109436", "108892", "544",
                       str(want[96].totals["macs"]), str(want[96].totals["flops"])]
    table = run("show", path, "--sweep", "size=64,96,128").output
    assert f"{want[128].totals['macs']:,}" in table and "seg 64x64x2, cls 10" in table
    md = run("show", path, "--sweep", "size=64,96,128", "-f", "markdown").output
    assert f"| 96 | image 96x96x3, mask 96x96x1 | seg 96x96x2, cls 10 | 109,436 | {want[96].totals['macs']:,}" in md
    batch = json.loads(run("show", path, "--sweep", "size=64", "-b", "2", "-f", "json").output)["rows"][0]["batch"]
    assert batch["macs"] == 2 * want[64].totals["macs"] and batch["output_shape"] == [2, 64, 64, 2]


def test_sweep_errors_say_which_value():
    r = run("show", str(ARCH / "two_heads.yaml"), "--sweep", "size=64,1")
    assert r.exit_code == 1 and r.stdout == ""
    assert "error: with size=1: " in r.stderr and "[kernel-too-large]" in r.stderr
    for args, message in [
        (["--sweep", "size"], "is not NAME=V1,V2,..."),
        (["--sweep", "size=1,,2"], "is not NAME=V1,V2,..."),
        (["--sweep", "size=64", "--set", "size=32"], "size is both swept and set"),
        (["--sweep", "size=64", "--columns", "rf"], "leave out --columns"),
        (["--sweep", "nope=1"], "the spec has no param 'nope'"),
        (["--sweep", "size=" + ",".join(["8"] * 1001)], "at most 1000 values"),
    ]:
        r = run("show", str(TWO), *args)
        assert r.exit_code != 0 and message in r.output, args
        assert "Traceback" not in r.output


def test_sweep_warnings(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("params: {s: 32}\ninput: [$s, $s, 3]\nlayers:\n  - {type: max_pool2d, kernel: 2}\n")
    r = run("show", str(path), "--sweep", "s=32,33,35")
    assert r.exit_code == 0
    lines = [line for line in r.stderr.splitlines() if "stride-not-fitting" in line]
    assert [line.split(": pool1:")[0].split("warning: ")[1] for line in lines] == ["with s=33", "with s=35"]


# ---------------------------------------------------------------- receptive field, memory, lint, diagram

def test_receptive_fields_are_measured_in_each_input():
    doc = json.loads(run("show", str(SINK), "-f", "json").output)
    by = {layer["name"]: layer for layer in doc["layers"]}
    assert by["stem_r"]["receptive_field_input"] == "right" and by["stem"]["receptive_field_input"] == "left"
    assert by["stem_r"]["receptive_field"] == [3, 3]
    assert by["fm"]["receptive_field_kind"] == "none"  # the flat `meta` input has no pixels
    assert by["both"]["receptive_field_kind"] == "global"
    assert doc["memory"]["input_elements"] == 16 * 16 * 3 * 2 + 5


def test_lint_reports_the_new_forms_cleanly():
    assert rules(TWO.read_text()) == set()
    assert rules("input: [3, 64, 64]\nlayers: [relu]\n") == {"channels-first-input"}


def test_the_diagram_draws_every_input():
    mermaid = run("diagram", str(TWO), "-f", "mermaid").output
    assert 'n0["image<br/>128x128x3"]' in mermaid and 'n1["mask<br/>128x128x1"]' in mermaid
    assert "(shared)" in mermaid
    svg = run("diagram", str(TWO)).output
    assert "inputs image 128x128x3, mask 128x128x1" in svg and "<title>mask: 128x128x1</title>" in svg
