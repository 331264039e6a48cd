"""Parameter, activation and training memory (docs/memory.md), and the `show` options for them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from conftest import ARCH

import cnncalc
from cnncalc.cli import main
from cnncalc.memory import MemoryConfig, memory

SMALL = """
input: [3, 8, 8]
layout: channels_first
layers:
  - {type: conv2d, name: conv, filters: 4, kernel: 3, bias: false}
  - {type: batch_norm, name: bn}
  - {type: relu, name: relu}
  - {type: flatten, name: flat}
  - {type: dense, name: fc, units: 5}
"""


def test_homework_layer_by_hand():
    """Slide 002's 32x32x3 → 10 5x5 filters, pad 2: 760 params, 32x32x10 output."""
    a = cnncalc.analyse(cnncalc.load(str(ARCH / "hw_conv_760.yaml")))
    m = memory(a)
    assert (m["param_bytes"], m["input_elements"], m["activation_elements"]) == (760 * 4, 3072, 10240)
    assert (m["input_bytes"], m["activation_bytes"]) == (3072 * 4, 10240 * 4)
    assert m["forward_bytes"] == 3040 + 12288 + 40960
    t = m["training"]
    assert t == {"param_bytes": 3040, "gradient_bytes": 3040, "optimizer_state_bytes": 2 * 3040,
                 "saved_activation_bytes": (3072 + 10240) * 4,
                 "gradient_workspace_bytes": 10240 * 4,  # no gradient for the network input
                 "total_bytes": 3040 + 3040 + 6080 + 53248 + 40960}
    m = memory(a, MemoryConfig(batch_size=32, dtype="bfloat16", optimizer="sgd"))
    assert m["param_bytes"] == 760 * 2 and m["activation_bytes"] == 10240 * 32 * 2
    assert m["training"]["optimizer_state_bytes"] == 0
    assert m["training"]["saved_activation_bytes"] == (3072 + 10240) * 32 * 2
    assert memory(a, MemoryConfig(dtype="int8"))["param_bytes"] == 760


def test_gradient_workspace_takes_the_largest_layer_with_its_inputs():
    a = cnncalc.analyse(cnncalc.loads("""
input: [4, 4, 2]
layers:
  - {type: conv2d, name: a, filters: 3, kernel: 1}
  - {type: conv2d, name: b, filters: 5, kernel: 1, inputs: [input]}
  - {type: concat, name: cat, inputs: [a, b]}
"""))
    t = memory(a)["training"]
    # cat's backward holds its 4·4·8 output gradient and both input gradients (4·4·3 and 4·4·5)
    assert t["gradient_workspace_bytes"] == (128 + 48 + 80) * 4
    assert t["saved_activation_bytes"] == (32 + 48 + 80 + 128) * 4


def test_vgg16_parameter_bytes():
    """138,357,544 parameters (Simonyan & Zisserman, configuration D; torchvision)."""
    a = cnncalc.analyse(cnncalc.load(str(ARCH / "vgg16.yaml")))
    assert memory(a, MemoryConfig(dtype="float16"))["param_bytes"] == 138_357_544 * 2
    assert memory(a)["param_bytes"] == 138_357_544 * 4


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"batch_size": True}, {"dtype": "float64"},
                                 {"optimizer": "rmsprop"}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        MemoryConfig(**bad)


def test_counts_match_torch():
    """Parameter, gradient, optimizer-state and activation sizes as torch allocates them."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    a = cnncalc.analyse(cnncalc.loads(SMALL))
    outputs = []
    for dtype, torch_dtype in (("float32", torch.float32), ("float16", torch.float16), ("bfloat16", torch.bfloat16)):
        model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                              nn.Linear(4 * 6 * 6, 5)).to(torch_dtype)
        # running mean/var count as (non-trainable) parameters; num_batches_tracked is bookkeeping
        stored = [*model.parameters(), *(b for n, b in model.named_buffers() if "num_batches" not in n)]
        for name, opt in (("adam", torch.optim.Adam(model.parameters())),
                          ("momentum", torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)),
                          ("sgd", torch.optim.SGD(model.parameters(), lr=0.1))):
            x = torch.ones(2, 3, 8, 8, dtype=torch_dtype)
            outputs.clear()
            hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(o)) for m in model]
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
            for h in hooks:
                h.remove()
            state = sum(t.numel() * t.element_size() for s in opt.state.values() for k, t in s.items()
                        if k != "step" and torch.is_tensor(t))
            m = memory(a, MemoryConfig(batch_size=2, dtype=dtype, optimizer=name))
            assert m["param_bytes"] == sum(t.numel() * t.element_size() for t in stored)
            assert m["training"]["gradient_bytes"] == sum(p.grad.numel() * p.grad.element_size()
                                                          for p in model.parameters())
            assert m["training"]["optimizer_state_bytes"] == state
            assert m["activation_bytes"] == sum(o.numel() * o.element_size() for o in outputs)
            assert m["input_bytes"] == x.numel() * x.element_size()


def run(*args):
    result = CliRunner().invoke(main, ["show", *map(str, args)])
    return result


def test_json_keeps_existing_keys_and_adds_fields_and_memory():
    r = run(ARCH / "alexnet.yaml", "-f", "json", "--batch-size", "4", "--dtype", "float16")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    base = cnncalc.analyse(cnncalc.load(str(ARCH / "alexnet.yaml"))).to_dict()
    assert list(d)[:len(base)] == list(base) and d["totals"] == base["totals"]
    conv5 = next(layer for layer in d["layers"] if layer["name"] == "conv5")
    base5 = next(layer for layer in base["layers"] if layer["name"] == "conv5")
    assert {k: conv5[k] for k in base5} == base5
    assert conv5["receptive_field"] == [163, 163] and conv5["jump"] == [16, 16] and conv5["start"] == [17, 17]
    assert conv5["receptive_field_kind"] == "local"
    assert conv5["activation_elements"] == 13 * 13 * 256 and conv5["activation_bytes"] == 13 * 13 * 256 * 4 * 2
    assert conv5["param_bytes"] == 884_992 * 2  # slide 001: 256·(3·3·384) + 256 parameters
    fc6 = next(layer for layer in d["layers"] if layer["name"] == "fc6")
    assert fc6["receptive_field"] == [227, 227] and fc6["jump"] is None and fc6["receptive_field_kind"] == "global"
    m = d["memory"]
    assert (m["batch_size"], m["dtype"], m["bytes_per_element"], m["optimizer"]) == (4, "float16", 2, "adam")
    assert m["param_bytes"] == 62_378_344 * 2  # slide 001's total
    assert m["activation_elements"] == sum(layer["activation_elements"] for layer in d["layers"])


def test_json_start_is_fractional_for_even_windows():
    d = json.loads(run(ARCH / "vgg16.yaml", "-f", "json").output)
    pool5 = next(layer for layer in d["layers"] if layer["name"] == "features.30")
    assert pool5["receptive_field"] == [212, 212] and pool5["start"] == [15.5, 15.5]


def test_default_table_is_unchanged_and_columns_add_to_it():
    plain = run(ARCH / "alexnet.yaml")
    assert plain.exit_code == 0 and "RF" not in plain.output and "Memory" not in plain.output
    r = run(ARCH / "alexnet.yaml", "--columns", "rf,jump,start,act_mem")
    assert r.exit_code == 0, r.output
    header = next(line for line in r.output.splitlines() if "Layer" in line)
    assert header.split()[-5:] == ["RF", "Jump", "Start", "Act.", "bytes"]
    conv5 = next(line for line in r.output.splitlines() if " conv5 " in line).split()
    assert conv5[-4:] == ["163", "16", "17", "173,056"]
    fc6 = next(line for line in r.output.splitlines() if " fc6 " in line).split()
    assert fc6[-4:] == ["global", "-", "-", "16,384"]
    assert "Memory (batch 1, float32)" in r.output
    hw = run(ARCH / "hw_conv_760.yaml", "--optimizer", "adam").output
    assert "params 3,040 B" in hw and "Training (adam): 106,368 B" in hw  # the hand count above
    r = run(ARCH / "alexnet.yaml", "--batch-size", "128")
    assert "Memory (batch 128, float32)" in r.output and "RF" not in r.output


def test_csv_and_markdown_columns():
    r = run(ARCH / "vgg16.yaml", "-f", "csv", "--columns", "rf,start,act,param_mem")
    rows = list(csv.reader(io.StringIO(r.output)))
    assert rows[0][-4:] == ["rf", "start", "act", "param_mem"]
    pool5 = next(row for row in rows if row[0] == "features.30")
    assert pool5[-4:] == ["212", "15.5", str(512 * 7 * 7), "0"]
    assert rows[-1][0] == "(total)" and rows[-1][-1] == str(138_357_544 * 4)
    plain = list(csv.reader(io.StringIO(run(ARCH / "vgg16.yaml", "-f", "csv").output)))
    assert plain[0][-1] == "flops" and len(plain[1]) == 8
    md = run(ARCH / "alexnet.yaml", "-f", "markdown", "--columns", "all").output
    assert "| RF | Jump | Start | Activations | Act. bytes | Param bytes |" in md
    assert "| 163 | 16 | 17 | 43,264 | 173,056 | 3,539,968 |" in md and "Memory (batch 1, float32)" in md


@pytest.mark.parametrize("args,message", [
    (["--columns", "rf,bogus"], "unknown column 'bogus'"),
    (["--batch-size", "0"], "--batch-size"),
    (["--dtype", "float64"], "float64"),
    (["--optimizer", "rmsprop"], "rmsprop"),
])
def test_bad_options_are_usage_errors(args, message):
    r = run(ARCH / "alexnet.yaml", *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
