"""The start-up path avoids `re` and `pathlib`; its hand-written replacements must agree with them.

Each helper is compared with the regular expression or pathlib call it replaced, on generated
strings drawn from the characters that matter (digits, separators, Unicode digits and spaces...).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc import _paths
from cnncalc.layers.base import shape_text

FAST = settings(max_examples=400, deadline=None)

SHAPE_CHARS = st.sampled_from(list("0123456789xX× \t\n,.-+_a٣²") + ["\u00a0", "\u2003"])
PATH_CHARS = st.sampled_from(list("ab./_-") + ["..", "//"])


@FAST
@given(st.text(SHAPE_CHARS, max_size=12))
def test_shape_text_is_the_old_regex(text):
    if re.fullmatch(r"\s*\d+(\s*[xX×]\s*\d+)*\s*", text):
        assert shape_text(text) == [int(p) for p in re.split(r"\s*[xX×]\s*", text.strip())]
    else:
        assert shape_text(text) is None


@FAST
@given(st.lists(PATH_CHARS, max_size=8).map("".join))
def test_norm_and_stem_are_pathlib(text):
    assert _paths.norm(text) == str(Path(text))
    assert _paths.stem(text) == Path(text).stem


def test_walk_is_rglob(tmp_path):
    for rel in ("a.yaml", "b.YML", "c.txt", ".hidden.yaml", "x.", ".yaml", "sub/d.yaml", "sub/.e.yaml",
                ".git/f.yaml", "sub/deeper/g.yml", "sub/deeper/h.yaml.bak", "dir.yaml/i.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    os.symlink(tmp_path / "sub", tmp_path / "link")  # a symlinked directory is not entered
    os.symlink(tmp_path / "a.yaml", tmp_path / "alias.yaml")  # a symlinked file is a file

    def old(path: Path) -> list[str]:
        return sorted(str(f) for f in path.rglob("*")
                      if f.suffix.lower() in (".yaml", ".yml") and f.is_file()
                      and not any(part.startswith(".") for part in f.relative_to(path).parts))

    for spelling in (str(tmp_path), str(tmp_path) + "/", str(tmp_path) + "/./sub//"):
        assert sorted(_paths.walk(spelling, (".yaml", ".yml"))) == old(Path(spelling))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for spelling in (".", "./", "sub", "./sub/"):
            assert sorted(_paths.walk(spelling, (".yaml", ".yml"))) == old(Path(spelling))
    finally:
        os.chdir(cwd)
