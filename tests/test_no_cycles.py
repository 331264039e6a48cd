"""The fast commands build no reference cycles, so the console script may run them with the cyclic
collector off (launch.main). A cycle would otherwise be kept until exit: one exception held in a
local of the frame it was raised from kept each failing file's whole parse alive, and `lint` of
1,000 failing files grew from 19 to 108 MB.

Each case runs once to warm up (first imports leave module-level garbage of their own), then again
with the collector off; `gc.collect()` must then find nothing unreachable.
"""

from __future__ import annotations

import gc
import random

import pytest
from conftest import ARCH, mutations
from test_launch import BAD, EXPECT, WARN

from cnncalc import launch, lint

ARCHS = sorted(ARCH.glob("*.yaml"))

BAD_FILES = {
    "shape.yaml": BAD,
    "parse.yaml": "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: x, kernel: -1}\n  - {type: nope}\n",
    "yaml.yaml": "input: [8, 8, 3]\nlayers: [\n",
    "warn.yaml": WARN,
    "expect.yaml": EXPECT,
    "not_a_spec.yaml": "just: some yaml\n",
}


def unreachable_after(run) -> int:
    run()
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        run()
        return gc.collect()
    finally:
        if collecting:
            gc.enable()


@pytest.mark.parametrize("args", [[], ["-f", "json"], ["-f", "markdown"], ["-f", "csv"], ["--explain"],
                                  ["--convention", "fvcore"]], ids=lambda a: " ".join(a) or "table")
def test_show_every_architecture(args, capsys):
    def run():
        for path in ARCHS:
            assert launch.fast(["show", str(path), *args]) == 0
        capsys.readouterr()

    assert unreachable_after(run) == 0


def test_lint_and_check_of_failing_files(tmp_path, capsys):
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.yaml").write_bytes(b"\x00\xff\xfe layers")
    missing = str(tmp_path / "missing.yaml")

    def run():
        for fmt in ("text", "json", "github"):
            assert launch.fast(["lint", "-f", fmt, str(tmp_path), missing, *map(str, ARCHS)]) != 0
        assert launch.fast(["check", str(tmp_path)]) != 0
        assert launch.fast(["show", str(tmp_path / "shape.yaml")]) != 0
        assert launch.fast(["show", str(tmp_path / "parse.yaml")]) != 0
        capsys.readouterr()

    assert unreachable_after(run) == 0


def test_lint_of_mutated_architectures():
    rng = random.Random(7)
    texts = [p.read_text() for p in ARCHS]
    cases = [m for t in texts for m in mutations(t, 40, rng, "x-:[]{}#&*!|>'\"%@`,? 0123456789\n\t$")]

    def run():
        for text in cases:
            lint.check_text(text, "m.yaml")

    assert unreachable_after(run) == 0


@pytest.mark.parametrize("argv", [["--version"], ["show", str(ARCHS[0])], ["show", "missing.yaml"], ["--help"]])
def test_main_gives_the_collector_back(argv, capsys):
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        launch.main(argv)
    capsys.readouterr()
    assert gc.isenabled()
