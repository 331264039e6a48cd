"""The console script's fast path (cnncalc/launch.py) answers exactly as the click commands do.

Every fast form runs both ways, in-process: through `launch.fast` and through click's CliRunner
on the same arguments; stdout, stderr and exit status must be identical. Forms that are not
fast must be left to click (`fast` returns None), and the fast path must not import click.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import ARCH, ROOT

from cnncalc import launch
from cnncalc.cli import main

BAD = "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 9}\n"
EXPECT = "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 5, padding: 2, expect: {params: 750}}\n"
WARN = "input: [7, 7, 3]\nlayers:\n  - {type: conv2d, filters: 2, kernel: 3, stride: 3}\n"


@pytest.fixture
def files(tmp_path):
    for name, text in (("bad.yaml", BAD), ("expect.yaml", EXPECT), ("warn.yaml", WARN)):
        (tmp_path / name).write_text(text)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.yaml").write_text(WARN)
    return tmp_path


def both(args: list[str], capsys) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    capsys.readouterr()
    status = launch.fast(args)
    out, err = capsys.readouterr()
    assert status is not None, f"{args} did not take the fast path"
    r = CliRunner().invoke(main, args)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return (status, out, err), (r.exit_code, r.stdout, r.stderr)


FAST_FORMS = [
    ["show", "{arch}/alexnet.yaml"],
    ["show", "{arch}/resnet50.yaml"],
    ["show", "{arch}/googlenet.yaml", "-f", "json"],
    ["show", "--format=markdown", "{arch}/vgg16.yaml"],
    ["show", "{arch}/mobilenet_v2.yaml", "--format", "csv"],
    ["show", "{arch}/alexnet.yaml", "--explain"],
    ["show", "{arch}/hw_conv_760.yaml", "--explain", "-f", "json"],
    ["show", "{arch}/hw_conv_760.yaml", "--convention", "fvcore"],
    ["show", "{arch}/resnet18.yaml", "--convention=TorchInfo", "-f", "json"],
    ["show", "{tmp}/bad.yaml"],
    ["show", "{tmp}/expect.yaml"],
    ["show", "{tmp}/warn.yaml", "-f", "markdown"],
    ["show", "{tmp}/missing.yaml"],
    ["lint", "{arch}"],
    ["lint", "{tmp}"],
    ["lint", "{tmp}/bad.yaml", "{tmp}/warn.yaml", "--strict"],
    ["lint", "-f", "json", "{tmp}"],
    ["lint", "--format=github", "-q", "{tmp}"],
    ["lint", "{tmp}/dir", "--skip-non-specs", "--quiet"],
    ["lint", "{tmp}/nothing-here"],
    ["check", "{arch}"],
    ["check", "-q", "{tmp}/expect.yaml", "{tmp}/bad.yaml"],
    ["--version"],
]


@pytest.mark.parametrize("form", FAST_FORMS, ids=lambda f: " ".join(f).replace("{arch}/", "").replace("{tmp}/", ""))
def test_fast_path_equals_click(form, files, capsys):
    args = [a.format(arch=ARCH, tmp=files) for a in form]
    fast, slow = both(args, capsys)
    assert fast == slow


@pytest.mark.parametrize("args", [
    [], ["--help"], ["show"], ["show", "--help"], ["show", "a.yaml", "b.yaml"], ["show", "a.yaml", "-f"],
    ["show", "a.yaml", "-f", "xml"], ["show", "a.yaml", "-fjson"], ["show", "a.yaml", "-f", "json", "-f", "csv"],
    ["show", "a.yaml", "--set", "k=2"], ["show", "a.yaml", "--columns", "rf"], ["show", "a.yaml", "-b", "8"],
    ["show", "--", "a.yaml"], ["show", "a.yaml", "--explain=yes"], ["show", "a.yaml", "--convention", "nope"],
    ["show", "a.yaml", "--explain", "-f", "csv"], ["show", str(ARCH)], ["lint"], ["lint", "--strict"],
    ["check"], ["types"], ["conv", "--input", "32x32x3"], ["--version", "show"], ["-h"],
])
def test_other_forms_are_left_to_click(args):
    assert launch.fast(args) is None


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    code = "import sys; from cnncalc.launch import main; sys.argv[0] = 'cnncalc'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def imported(*args: str) -> set[str]:
    code = ("import sys, atexit; atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sys.modules)));"
            "from cnncalc.launch import main; main()")
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    return set(r.stderr.rsplit("MODULES ", 1)[1].split())


def test_fast_path_imports_no_click_or_rich():
    baseline = imported("--version")
    for args in (["show", "architectures/resnet50.yaml"], ["lint", "architectures"]):
        extra = imported(*args) - baseline
        assert not extra & {"click", "rich", "pathlib", "difflib", "json"}, extra
    assert not baseline & {"click", "rich", "cnncalc.spec", "cnncalc.analysis"} - imported("-c", "pass")


def test_script_exit_status_and_streams():
    r = run_script("show", "architectures/hw_conv_760.yaml")
    assert r.returncode == 0 and "760" in r.stdout and r.stderr == ""
    r = run_script("show", "nope.yaml")
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("nope.yaml:1:1: error: cannot read file")
    r = run_script("show", "architectures/hw_conv_760.yaml", "-f", "xml")  # click's usage error, status 2
    assert r.returncode == 2 and "Invalid value for '--format'" in r.stderr


def test_click_path_can_be_forced():
    r = run_script("--version", env={"CNNCALC_NO_FAST_PATH": "1"})
    assert r.returncode == 0 and r.stdout == "cnncalc, version 0.1.0\n"


def test_broken_pipe_is_quiet():
    code = "import sys; from cnncalc.launch import main; main()"
    p = subprocess.Popen([sys.executable, "-c", code, "show", "architectures/resnet50.yaml"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.read(10)
    p.stdout.close()  # the reader goes away, as `| head -1` does
    err = p.stderr.read().decode()
    assert p.wait() in (0, 1) and "Traceback" not in err and "BrokenPipe" not in err
