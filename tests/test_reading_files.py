"""What `lint`, `check` and `show` read: every unreadable directory is reported (exit 2), nothing
waits on a pipe or a terminal, and a walk never follows a symlink out of the directory it was given."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

SPEC = "input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3}\n"


def run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """cnncalc in a process of its own, killed after 20 s: a command that waits fails the test."""
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, timeout=20,
                          **kwargs)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """a.yaml, and sub/ that cannot be listed (simulated: root reads any directory)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(SPEC)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(SPEC)
    scandir = os.scandir

    def denied(path="."):
        if os.path.basename(os.fspath(path)) == "sub":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    return tmp_path


def test_lint_reports_a_directory_it_cannot_list(tree):
    r = run("lint", ".")
    assert r.exit_code == 2
    assert r.stdout == "sub:1:1: error: cannot read directory: Permission denied [unreadable]\n"
    assert r.stderr == "1 file checked: 1 error, 0 warnings\n"  # a.yaml was still checked


def test_check_reports_a_directory_it_cannot_list(tree):
    r = run("check", ".")
    assert r.exit_code == 2
    assert r.stderr == "sub:1:1: error: cannot read directory: Permission denied [unreadable]\n"
    assert r.stdout == "a.yaml: no expectations\n"


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    for command in ("lint", "show"):
        p = cli(command, str(fifo))
        assert p.returncode == 2
        assert f"{fifo}:1:1: error: is a named pipe, not a spec file; save the spec to a file [unreadable]" in (
            p.stdout + p.stderr)


def test_a_symlink_to_stdin_does_not_wait_for_it(tmp_path):
    if not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin")
    link = tmp_path / "net.yaml"
    os.symlink("/dev/stdin", link)
    reader, writer = os.pipe()  # stdin is a pipe that stays open and empty
    try:
        p = cli("show", str(link), stdin=reader)
    finally:
        os.close(reader)
        os.close(writer)
    assert p.returncode == 2 and "is a named pipe, not a spec file" in p.stderr


def test_a_walk_does_not_follow_symlinks_out_of_the_tree(tmp_path, monkeypatch):
    secret = tmp_path / "home" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("token: hunter2-do-not-print\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.yaml").write_text(SPEC)
    os.symlink(secret, repo / "leak.yaml")
    os.symlink("a.yaml", repo / "alias.yaml")  # inside the tree: read
    monkeypatch.chdir(tmp_path)
    r = run("lint", "repo")
    assert "hunter2" not in r.output
    assert r.stdout == ("repo/leak.yaml:1:1: warning: is a symlink to a file outside repo; not read (name the file "
                        "to lint it) [symlink-outside]\n")
    assert r.exit_code == 0 and r.stderr == "2 files checked: 0 errors, 1 warning\n"
    r = run("lint", "repo/leak.yaml")  # named explicitly: read
    assert r.exit_code == 1 and "[not-a-spec]" in r.stdout
