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

from cnncalc import _paths, expr
from cnncalc.layers.base import shape_text
from cnncalc.spec import _substitute, _valid_name

FAST = settings(max_examples=400, deadline=None)

SHAPE_CHARS = st.sampled_from(list("0123456789xX× \t\n,.-+_a٣²") + ["\u00a0", "\u2003"])
NAME_CHARS = st.sampled_from(list("aZ_09.-$ {}é٣²/:") + ["\u00a0"])
PATH_CHARS = st.sampled_from(list("ab./_-") + ["..", "//"])


@FAST
@given(st.text(SHAPE_CHARS, max_size=12))
def test_shape_text_is_the_old_regex(text):
    if re.fullmatch(r"\s*\d+(\s*[xX×]\s*\d+)*\s*", text):
        assert shape_text(text) == [int(p) for p in re.split(r"\s*[xX×]\s*", text.strip())]
    else:
        assert shape_text(text) is None


@FAST
@given(st.text(NAME_CHARS, max_size=10))
def test_valid_name_is_the_old_regex(text):
    assert _valid_name(text) == bool(re.fullmatch(r"[\w][\w.\-]*", text))


@FAST
@given(st.text(NAME_CHARS, max_size=12))
def test_substitute_is_the_old_regex(text):
    seen: list[str] = []

    def fake(piece: str, env: dict) -> str:
        seen.append(piece)
        return f"<{len(piece)}>"

    pattern = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
    want = pattern.sub(lambda m: f"<{len(m.group(0))}>", text)
    real = expr.evaluate
    expr.evaluate = fake  # type: ignore[assignment]
    try:
        got = _substitute(text, {})
    finally:
        expr.evaluate = real  # type: ignore[assignment]
    assert got == want
    assert seen == pattern.findall(text)


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


@FAST
@given(st.text(st.sampled_from(list("0123456789,_ \t٣²a")), max_size=14))
def test_number_text_is_the_old_regex(text):
    from cnncalc.expect import number_text

    if re.fullmatch(r"\d{1,3}([,_ ]\d{3})+|\d+", text):
        assert number_text(text) == int(re.sub(r"[,_ ]", "", text))
    else:
        assert number_text(text) is None
