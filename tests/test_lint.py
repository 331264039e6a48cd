"""`cnncalc lint`: every rule (failing and passing example), the three output formats (golden
files), exit codes, --strict/--quiet, directory walking, and the pre-commit hook."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.lint import check_text

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "lint"


def rules(text: str) -> set[str]:
    return {d.rule for d in check_text(text, "t.yaml")}


CONV = "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 5, padding: 2"
HW = CONV + "}\n"  # the slides' homework layer: valid

# rule → (a spec that breaks it, the same spec fixed)
RULES = {
    "invalid-yaml": ("input: [32, 32, 3\nlayers: [relu]\n", "input: [32, 32, 3]\nlayers: [relu]\n"),
    "empty-file": ("\n# nothing\n", HW),
    "not-a-spec": ("on: push\njobs: {}\n", HW),
    "duplicate-key": ("input: [8, 8, 3]\ninput: [8, 8, 3]\nlayers: [relu]\n", "input: [8, 8, 3]\nlayers: [relu]\n"),
    "unknown-key": ("input: [8, 8, 3]\nlayer: [relu]\nlayers: [relu]\n", "input: [8, 8, 3]\nlayers: [relu]\n"),
    "missing-key": ("input: [8, 8, 3]\nname: x\n", "input: [8, 8, 3]\nname: x\nlayers: [relu]\n"),
    "invalid-value": (CONV + ", stride: -1}\n", CONV + ", stride: 1}\n"),
    "bad-expression": ("input: [8, 8, 3]\nparams: {k: 3}\nlayers:\n  - {type: conv2d, filters: 4, kernel: $kk}\n",
                       "input: [8, 8, 3]\nparams: {k: 3}\nlayers:\n  - {type: conv2d, filters: 4, kernel: $k}\n"),
    "unknown-layer": ("input: [8, 8, 3]\nlayers: [relu, rleu]\n", "input: [8, 8, 3]\nlayers: [relu, relu]\n"),
    "unknown-param": (CONV + ", kernal: 3}\n", HW),
    "missing-param": ("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4}\n",
                      "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 1}\n"),
    "unknown-block": ("input: [8, 8, 3]\nblocks: {b: {layers: [relu]}}\nlayers:\n  - {block: c}\n",
                      "input: [8, 8, 3]\nblocks: {b: {layers: [relu]}}\nlayers:\n  - {block: b}\n"),
    "block-recursion": ("input: [8, 8, 3]\nblocks: {b: {layers: [{block: b}]}}\nlayers:\n  - {block: b}\n",
                        "input: [8, 8, 3]\nblocks: {b: {layers: [relu]}}\nlayers:\n  - {block: b}\n"),
    "duplicate-name": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, name: a}\n",
                       "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, name: b}\n"),
    "unknown-reference": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: add, inputs: [a, b]}\n",
                          "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: add, inputs: [a, input]}\n"),
    "cycle": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a, inputs: [b]}\n  - {type: relu, name: b, inputs: [a]}\n",
              "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, name: b, inputs: [a]}\n"),
    "wrong-input-count": ("input: [8, 8, 3]\nlayers: [add]\n",
                          "input: [8, 8, 3]\nlayers:\n  - {type: add, inputs: [input, input]}\n"),
    "shape-mismatch": ("input: [8, 8, 3]\nlayers:\n  - {type: conv2d, name: a, filters: 4, kernel: 1}\n"
                       "  - {type: add, inputs: [a, input]}\n",
                       "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, name: a, filters: 3, kernel: 1}\n"
                       "  - {type: add, inputs: [a, input]}\n"),
    "dense-needs-flat": ("input: [6, 6, 256]\nlayers:\n  - {type: dense, units: 10}\n",
                         "input: [6, 6, 256]\nlayers:\n  - flatten\n  - {type: dense, units: 10}\n"),
    "kernel-too-large": ("input: [4, 4, 3]\nlayers:\n  - {type: conv2d, filters: 1, kernel: 5}\n",
                         "input: [4, 4, 3]\nlayers:\n  - {type: conv2d, filters: 1, kernel: 5, padding: 1}\n"),
    "nonpositive-size": ("input: [0, 32, 3]\nlayers: [relu]\n", "input: [1, 32, 3]\nlayers: [relu]\n"),
    "too-large": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, repeat: 1000000000}\n",
                  "input: [8, 8, 3]\nlayers:\n  - {type: relu, repeat: 10}\n"),
    "too-many-errors": ("input: [8, 8, 3]\nlayers:\n" + "  - foo\n" * 1000, "input: [8, 8, 3]\nlayers:\n" + "  - relu\n" * 1000),
    "expect-failed": (CONV + ", expect: {params: 750}}\n", CONV + ", expect: {params: 760}}\n"),  # slides: 760
    # warnings
    "stride-not-fitting": ("input: [227, 227, 3]\nlayers:\n  - {type: conv2d, filters: 96, kernel: 11, stride: 5}\n",
                           "input: [227, 227, 3]\nlayers:\n  - {type: conv2d, filters: 96, kernel: 11, stride: 4}\n"),
    "unused-layer": ("input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, inputs: [input]}\n",
                     "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a}\n  - {type: relu, inputs: [a]}\n"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_fails_and_passes(rule):
    bad, good = RULES[rule]
    assert rule in rules(bad)
    assert rules(good) == set(), good


def test_invalid_encoding_rule(tmp_path):
    (tmp_path / "a.yaml").write_bytes(b"name: caf\xe9\ninput: [8, 8, 3]\nlayers: [relu]\n")
    (tmp_path / "b.yaml").write_bytes("name: café\ninput: [8, 8, 3]\nlayers: [relu]\n".encode())
    r = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert r.exit_code == 1
    assert r.stdout == f"{tmp_path / 'a.yaml'}:1:10: error: file is not valid UTF-8 text; save it as UTF-8 [invalid-encoding]\n"


def test_every_rule_is_documented():
    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    for rule in [*RULES, "invalid-encoding", "unreadable", "internal-error", "no-files"]:
        assert f"`{rule}`" in doc, rule


# ---- formats (golden files) ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_golden_output(fmt, monkeypatch):
    monkeypatch.chdir(DATA)
    r = CliRunner().invoke(main, ["lint", "--format", fmt, "."])
    assert r.exit_code == 1
    assert r.stdout == (DATA / f"golden.{fmt}").read_text(encoding="utf-8")
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["exit_code"] == 1 and doc["errors"] == 6 and doc["warnings"] == 2 and doc["files"] == 5


def test_output_is_sorted_by_file_and_line(monkeypatch):
    monkeypatch.chdir(DATA)
    r = CliRunner().invoke(main, ["lint", "warn.yaml", "broken.yaml", "mismatch.yaml"])
    keys = [(f, int(line)) for f, line, *_ in (row.split(":", 3) for row in r.stdout.splitlines())]
    assert keys == sorted(keys) and len(keys) == 7


def test_github_escapes_percent_commas_and_colons_and_shows_newlines():
    from cnncalc.errors import Diagnostic, Loc
    from cnncalc.lint import Report, to_github

    d = Diagnostic("error", "50% of a\nb", Loc("dir,x/a:b.yaml", 3, 4), "shape-mismatch")
    assert to_github(Report(["x"], [d])) == (
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=4,title=cnncalc shape-mismatch::50%25 of a\\nb [shape-mismatch]\n")


# ---- exit codes and options --------------------------------------------------------------------------

def lint(*args):
    return CliRunner().invoke(main, ["lint", *map(str, args)])


def test_exit_codes(tmp_path):
    assert lint(DATA / "clean.yaml").exit_code == 0
    assert lint(DATA / "warn.yaml").exit_code == 0  # warnings alone pass
    assert lint(DATA / "broken.yaml").exit_code == 1
    missing = lint(DATA / "clean.yaml", tmp_path / "nope.yaml")
    assert missing.exit_code == 2 and "nope.yaml:1:1: error: cannot read file" in missing.stdout
    assert lint().exit_code == 2  # usage: no file
    (tmp_path / "empty").mkdir()
    r = lint(tmp_path / "empty")
    assert (r.exit_code, r.stdout) == (2, f"{tmp_path / 'empty'}:1:1: error: no *.yaml or *.yml files in this directory "
                                          "[no-files]\n")
    assert lint("--format", "xml", DATA / "clean.yaml").exit_code == 2
    assert CliRunner().invoke(main, ["lint", "--bogus", "x.yaml"]).exit_code == 2


def test_strict_turns_warnings_into_errors():
    r = lint("--strict", DATA / "warn.yaml")
    assert r.exit_code == 1
    assert r.stdout.count(": error: ") == 2 and ": warning: " not in r.stdout


def test_quiet_prints_errors_only(monkeypatch):
    monkeypatch.chdir(DATA)
    r = CliRunner().invoke(main, ["lint", "--quiet", "warn.yaml", "mismatch.yaml"])
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [line for line in (DATA / "golden.text").read_text().splitlines()
                                     if line.startswith("mismatch.yaml")]
    assert r.stderr == ""
    r = CliRunner().invoke(main, ["lint", "-q", "warn.yaml"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")


def test_summary_on_stderr(monkeypatch):
    monkeypatch.chdir(DATA)
    r = CliRunner().invoke(main, ["lint", "."])
    assert r.stderr == "5 files checked: 6 errors, 2 warnings\n"


def test_directories_skip_hidden_and_non_yaml(monkeypatch):
    monkeypatch.chdir(DATA)
    files = {line.split(":")[0] for line in CliRunner().invoke(main, ["lint", "."]).stdout.splitlines()}
    assert files == {"broken.yaml", "mismatch.yaml", "sub/workflow.yml", "warn.yaml"}
    # a hidden file named explicitly is checked (and is a fine spec)
    assert lint(".hidden/ignored.yaml").exit_code == 0


def test_skip_non_specs(monkeypatch):
    monkeypatch.chdir(DATA)
    r = CliRunner().invoke(main, ["lint", "--skip-non-specs", "sub", "clean.yaml"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "1 file checked: 0 errors, 0 warnings\n")


def test_shipped_architectures_are_clean():
    r = lint("--strict", ROOT / "architectures")
    assert (r.exit_code, r.stdout) == (0, "")


def test_a_broken_file_does_not_hide_the_others(tmp_path):
    for name, text in [("a.yaml", "\x00\x01"), ("b.yaml", "[[[[["), ("c.yaml", "- 1\n- 2\n"), ("d.yaml", HW)]:
        (tmp_path / name).write_text(text)
    r = lint(tmp_path)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == [str(tmp_path / f"{n}.yaml") for n in "abc"]


# ---- pre-commit ---------------------------------------------------------------------------------------

def hooks() -> list[dict]:
    import yaml

    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_pre_commit_hook_entry_point(tmp_path, monkeypatch):
    """Run each hook's `entry` the way pre-commit does: the console script with the staged files appended."""
    import yaml

    for hook in hooks():
        assert hook["language"] == "python" and hook["types"] == ["yaml"]
        argv = shlex.split(hook["entry"])
        assert argv[0] == "cnncalc"  # = [project.scripts] cnncalc = "cnncalc.cli:main"
        (tmp_path / "good.yaml").write_text(HW)
        (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": []}))
        (tmp_path / "ci.yml").write_text("on: push\n")
        monkeypatch.chdir(tmp_path)
        files = ["good.yaml", ".pre-commit-config.yaml", "ci.yml"]
        assert CliRunner().invoke(main, argv[1:] + files).exit_code == 0
        (tmp_path / "bad.yaml").write_text(RULES["shape-mismatch"][0])
        r = CliRunner().invoke(main, argv[1:] + files + ["bad.yaml"])
        assert r.exit_code == 1 and "bad.yaml:4:25: error: " in r.stdout and "[shape-mismatch]" in r.stdout


@pytest.mark.skipif(shutil.which("pre-commit") is None or not os.environ.get("CNNCALC_TEST_PRE_COMMIT"),
                    reason="set CNNCALC_TEST_PRE_COMMIT=1 with pre-commit installed (builds a venv: ~2 min)")
def test_pre_commit_try_repo(tmp_path):
    repo = tmp_path / "user"
    repo.mkdir()
    (repo / "good.yaml").write_text(HW)
    (repo / "bad.yaml").write_text(RULES["kernel-too-large"][0])
    (repo / "ci.yml").write_text("on: push\n")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    r = subprocess.run(["pre-commit", "try-repo", str(ROOT), "cnncalc-lint", "--all-files"], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "bad.yaml:3:40: error:" in r.stdout and "[kernel-too-large]" in r.stdout
    assert "good.yaml" not in r.stdout.replace("2 files checked", "") and "ci.yml" not in r.stdout


def test_deep_nesting_cannot_crash_the_interpreter(tmp_path):
    """libyaml's C composer segfaults on ~100,000 nested brackets; run in a child process so a crash
    shows up as a failure instead of killing the test run."""
    path = tmp_path / "deep.yaml"
    path.write_text("input: " + "[" * 200_000 + "]" * 200_000 + "\nlayers: [relu]\n")
    r = subprocess.run([sys.executable, "-m", "cnncalc", "lint", str(path)], capture_output=True, text=True,
                       timeout=60, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith(f"{path}:1:") and r.stdout.endswith(": error: YAML nested too deeply (more than 64 levels) [too-large]\n")


def test_parse_errors_and_shape_errors_of_intact_layers_together():
    text = """input: [8, 8, 3]
layers:
  - {type: conv2d, name: a, filters: 4, kernel: 1}
  - {type: add, name: s, inputs: [a, input]}
  - {type: conv2d, name: c, filters: 4, kernal: 1}
  - {type: dense, units: 3}
"""
    got = sorted((d.loc.line, d.rule) for d in check_text(text, "t.yaml"))
    # line 4: a real shape error before the typo; line 6 (dense after a spatial tensor) is not reported,
    # because what it reads depends on the broken line 5
    assert got == [(4, "shape-mismatch"), (5, "unknown-param")]
    # a layer whose input reference is broken is not analysed, nor anything after it
    text = "input: [8, 8, 3]\nlayers:\n  - {type: relu, name: a, inputs: [zz]}\n  - {type: dense, units: 3}\n"
    assert [d.rule for d in check_text(text, "t.yaml")] == ["unknown-reference"]
