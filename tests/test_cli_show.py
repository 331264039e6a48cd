"""`cnncalc show` output formats and the library API."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARCH, ROOT

import cnncalc
from cnncalc.cli import main

HW = str(ARCH / "hw_conv_760.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_library_does_not_import_rich():
    code = ("import sys, cnncalc; a = cnncalc.analyse(sys.argv[1]); "
            "from cnncalc import render; render.to_json(a); render.to_csv(a); render.to_markdown(a); "
            "print(a.totals['params'], 'rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, HW], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["760", "False"]


def test_json_is_one_object_with_the_documented_keys():
    result = run("show", str(ARCH / "resnet18.yaml"), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {"name", "layout", "input_shape", "output_shape", "layers", "totals", "warnings"} <= set(data)
    assert data["layout"] == "channels_first" and data["input_shape"] == [3, 224, 224]
    layer = data["layers"][0]
    assert set(layer) >= {"name", "type", "inputs", "input_shapes", "output_shape", "params", "trainable_params",
                          "non_trainable_params", "macs", "flops"}
    assert layer["output_shape"] == [64, 112, 112] and layer["inputs"] == ["input"]
    # torchvision resnet18: 11,689,512 trainable; BN running stats 9,600
    assert data["totals"]["trainable_params"] == 11_689_512 and data["totals"]["non_trainable_params"] == 9_600
    assert data["totals"]["params"] == 11_689_512 + 9_600


def test_csv_and_markdown():
    rows = list(csv.reader(io.StringIO(run("show", HW, "-f", "csv").output)))
    assert rows[0][:4] == ["layer", "type", "output_shape", "params"]
    assert rows[1][:4] == ["conv1", "conv2d", "32x32x10", "760"] and rows[-1][0] == "(total)"
    md = run("show", HW, "-f", "markdown").output
    assert "| 1 | conv1 | conv2d | 32x32x10 | 760 | 768,000 | 1,546,240 |" in md


def test_table_lists_layers_and_totals():
    out = run("show", str(ARCH / "alexnet.yaml")).output
    assert "55x55x96" in out and "6x6x256" in out and "62,378,344" in out and "Traceback" not in out
    assert "\x1b[" not in out  # no colour codes when not writing to a terminal


def test_set_overrides_a_param():
    result = run("show", str(ARCH / "alphago_policy.yaml"), "--set", "k=128", "-f", "json")
    data = json.loads(result.output)
    # conv1 128*(5*5*48)+128, 11 x (128*9*128+128), last 128 + 361
    assert data["totals"]["params"] == 153_728 + 11 * 147_584 + 128 + 361
    bad = run("show", str(ARCH / "alphago_policy.yaml"), "--set", "kk=1")
    assert bad.exit_code == 1 and "no param 'kk'" in bad.output and "did you mean 'k'" in bad.output


def test_version_and_help_do_not_import_the_analysis():
    code = ("import sys; from cnncalc.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('cnncalc.analysis', 'yaml', 'rich'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert run("--version").output.strip() == f"cnncalc, version {cnncalc.__version__}"


def test_unwritable_output_is_one_line_exit_1(tmp_path):
    target = str(tmp_path / "missing" / "out.txt")
    for args in (["schema", "-o", target], ["diagram", HW, "-o", target], ["export", HW, "--to", "pytorch", "-o", target]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.output.strip().splitlines()[-1] == f"{target}: error: cannot write: No such file or directory"


def script(*args: str) -> list[str]:
    """The installed `cnncalc` console script, or `python -m cnncalc` (the same click group)."""
    installed = Path(sys.executable).with_name("cnncalc")
    return [str(installed) if installed.exists() else sys.executable, *([] if installed.exists() else
                                                                        ["-m", "cnncalc"]), *args]


@pytest.mark.parametrize("launch", [script, lambda *a: [sys.executable, "-m", "cnncalc", *a]],
                         ids=["script", "python -m"])
def test_exit_status_and_streams(launch):
    r = subprocess.run(launch("show", HW), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "768,000" in r.stdout and r.stderr == ""
    r = subprocess.run(launch("--version"), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == f"cnncalc, version {cnncalc.__version__}\n"
    r = subprocess.run(launch("show", HW, "-f", "xml"), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "Invalid value for '--format'" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_unreadable_file_is_exit_2_and_one_line(tmp_path, fmt):
    missing = tmp_path / "nope.yaml"
    r = subprocess.run(script("show", str(missing), "-f", fmt), cwd=ROOT, capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"{missing}:1:1: error: cannot read file: No such file or directory [unreadable]\n"
    os.symlink(missing, tmp_path / "dangling.yaml")
    r = run("show", str(tmp_path / "dangling.yaml"), "-f", fmt)
    assert r.exit_code == 2 and r.stdout == "" and "cannot read file" in r.stderr


def test_problems_in_the_spec_stay_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 9}\n")
    assert run("show", str(bad)).exit_code == 1
    bad.write_bytes(b"name: caf\xe9\ninput: [8, 8, 3]\nlayers: [relu]\n")  # read, but not UTF-8
    assert run("show", str(bad)).exit_code == 1


@pytest.mark.parametrize("args, first", [
    (["show", "architectures/resnet50.yaml"], "ResNet-50 "), (["show", "{big}", "-f", "csv"], "layer,type"),
    (["lint", "{dir}"], "{dir}")], ids=["table", "csv", "lint"])
def test_a_closed_pipe_ends_quietly(tmp_path, args, first):
    """`cnncalc lint big/ | head`: the reader goes away; no traceback, status 0 (all written) or 1."""
    big = tmp_path / "big.yaml"
    big.write_text("input: [8, 8, 3]\nlayers:\n  - {type: relu, repeat: 10000}\n")
    (tmp_path / "dir").mkdir()
    for i in range(200):
        (tmp_path / "dir" / f"{i}.yaml").write_text("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, kernel: -1}\n")
    args = [a.format(big=big, dir=tmp_path / "dir") for a in args]
    p = subprocess.Popen(script(*args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    assert p.stdout.read(10).decode() == first.format(dir=tmp_path / "dir")[:10]
    p.stdout.close()  # as `| head -c 10` does
    err = p.stderr.read().decode()
    assert p.wait() in (0, 1) and "Traceback" not in err and "Error" not in err, err
