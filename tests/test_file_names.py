"""Which files `lint DIR` and `check DIR` read, and how every message spells a file name."""

from __future__ import annotations

import os

from cnncalc.lint import expand

TREE = ("a.yaml", "b.YML", "c.txt", ".hidden.yaml", "x.", ".yaml", "sub/d.yaml", "sub/.e.yaml", ".git/f.yaml",
        "sub/deeper/g.yml", "sub/deeper/h.yaml.bak", "dir.yaml/i.yaml")


def test_directories_give_their_yaml_files_hidden_ones_and_symlinked_directories_skipped(tmp_path, monkeypatch):
    for rel in TREE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    os.symlink(tmp_path / "sub", tmp_path / "link")  # not entered: its files would be linted twice
    os.symlink(tmp_path / "a.yaml", tmp_path / "alias.yaml")  # a symlinked file is a file
    found = ["a.yaml", "alias.yaml", "b.YML", "dir.yaml/i.yaml", "sub/d.yaml", "sub/deeper/g.yml"]
    for spelling in (str(tmp_path), f"{tmp_path}/", f"{tmp_path}/.//"):
        assert expand([spelling]) == [f"{tmp_path}/{f}" for f in found]
    monkeypatch.chdir(tmp_path)
    assert expand(["."]) == found
    assert expand(["./sub/"]) == ["sub/d.yaml", "sub/deeper/g.yml"]


def test_named_files_keep_their_spelling_normalised_and_are_read_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.yaml").write_text("x")
    assert expand(["./n.yaml", "n.yaml", ".hidden.yaml", "missing//m.yaml", "/tmp//./x.yaml"]) == [
        "n.yaml", ".hidden.yaml", "missing/m.yaml", "/tmp/x.yaml"]


def test_names_in_messages_are_spelled_as_pathlib_spells_them(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cnncalc.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "bad.yaml").write_text("input: [4, 4, 3]\nlayers: [{type: conv2d, filters: 1, kernel: 5}]\n")
    r = CliRunner().invoke(main, ["show", ".//sub/../bad.yaml"])  # '..' kept: sub could be a symlink
    assert r.exit_code == 1 and r.stderr.startswith("sub/../bad.yaml:2:45: error: conv1: kernel 5")
    r = CliRunner().invoke(main, ["show", "././bad.yaml"])
    assert r.exit_code == 1 and r.stderr.startswith("bad.yaml:2:45: error: conv1: kernel 5")
