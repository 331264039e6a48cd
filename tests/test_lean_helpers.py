"""The start-up path avoids `re` and `pathlib`; its hand-written replacements must agree with them.

Each helper is compared with the regular expression or pathlib call it replaced, on generated
strings drawn from the characters that matter (digits, separators, Unicode digits and spaces...).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc import expr
from cnncalc.layers.params import shape_text
from cnncalc.spec import _substitute, _valid_name

FAST = settings(max_examples=400, deadline=None)

SHAPE_CHARS = st.sampled_from(list("0123456789xX× \t\n,.-+_a٣²") + ["\u00a0", "\u2003"])
NAME_CHARS = st.sampled_from(list("aZ_09.-$ {}é٣²/:") + ["\u00a0"])


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
@given(st.text(st.sampled_from(list("$aZ_9{} \n.é")), max_size=8))
def test_expression_forms_are_the_old_regexes(text):
    scope = {"a": 1, "aZ": 2, "a_9": 3}
    name = re.match(r"^\$([A-Za-z_][A-Za-z0-9_]*)$", text)
    body = re.match(r"^\$\{(.*)\}$", text, re.S)
    try:
        got = ("ok", expr.evaluate(text, scope))
    except expr.ExprError as exc:
        got = ("error", str(exc))
    if name:
        want = ("ok", scope[name.group(1)]) if name.group(1) in scope else ("error", expr._unknown(name.group(1), scope))
        assert got == want
    elif not body:
        assert got[0] == "error" and "is not an expression" in got[1]
    else:
        assert "is not an expression" not in str(got[1])


@FAST
@given(st.text(st.sampled_from(list("0123456789,_ \t٣²a")), max_size=14))
def test_number_text_is_the_old_regex(text):
    from cnncalc.expect import number_text

    if re.fullmatch(r"\d{1,3}([,_ ]\d{3})+|\d+", text):
        assert number_text(text) == int(re.sub(r"[,_ ]", "", text))
    else:
        assert number_text(text) is None
