"""Files cnncalc writes (`export -o`, `diagram -o`, `schema -o`): the spec being read is never
overwritten, and a file is replaced whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.commands.common import write_output

SPEC = "input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3}\n"


def run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


@pytest.mark.parametrize("command", [["export", "--to", "pytorch"], ["diagram"]])
def test_the_spec_being_read_is_never_the_output(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(SPEC)
    os.symlink("a.yaml", tmp_path / "link.yaml")
    os.link(tmp_path / "a.yaml", tmp_path / "hard.yaml")
    for out in ("a.yaml", "./a.yaml", "link.yaml", "hard.yaml"):
        r = run(command[0], "a.yaml", *command[1:], "-o", out)
        assert r.exit_code == 2, r.output
        assert r.stderr == f"{out}: error: this is the spec being read (a.yaml); write the output to another file\n"
        assert (tmp_path / "a.yaml").read_text() == SPEC
    r = run(command[0], "a.yaml", *command[1:], "-o", "out.txt")  # any other file is written
    assert r.exit_code == 0 and r.stderr == "wrote out.txt\n" and (tmp_path / "out.txt").stat().st_size > 100


def test_a_failed_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "net.svg"
    target.write_text("old drawing")
    with pytest.raises(SystemExit) as info:
        write_output("new text that cannot be encoded: \ud800", str(target))  # fails after opening
    assert info.value.code == 1
    assert target.read_text() == "old drawing"
    assert os.listdir(tmp_path) == ["net.svg"]  # no temporary file left behind


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "net.py"
    target.write_text("old code")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_output("new code", str(target))
    assert target.read_text() == "old code" and os.listdir(tmp_path) == ["net.py"]


def test_permissions_symlinks_and_devices(tmp_path, capsys):
    old = tmp_path / "old.txt"
    old.write_text("x")
    os.chmod(old, 0o640)
    write_output("new", str(old))
    assert old.read_text() == "new" and stat.S_IMODE(old.stat().st_mode) == 0o640  # kept
    mask = os.umask(0o022)
    try:
        write_output("fresh", str(tmp_path / "new.txt"))
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644  # as open() would make it
    os.symlink("old.txt", tmp_path / "link.txt")
    write_output("through the link", str(tmp_path / "link.txt"))
    assert os.path.islink(tmp_path / "link.txt") and old.read_text() == "through the link"
    if os.path.exists("/dev/null"):
        write_output("discarded", "/dev/null")  # a device is written to, never replaced
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert capsys.readouterr().err.count("wrote ") == 4
