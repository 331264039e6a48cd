"""Spec text can never become code in `export`/`verify`: names only reach the generated source as
string constants or as identifiers made by one sanitizer (issue: spec files are untrusted input)."""

from __future__ import annotations

import ast
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.export import export
from cnncalc.export.structure import RESERVED, ident

PAYLOAD = "Net\"\"\";__import__('os').system('touch pwned');\"\"\""
TARGETS = ("pytorch", "keras")


def _spec(name: str, layer_names: list[str]) -> str:
    layers = [{"type": "conv2d", "name": n, "filters": 4, "kernel": 3} if i == 0 else {"type": "relu", "name": n}
              for i, n in enumerate(layer_names)]
    return json.dumps({"name": name, "input": "8x8x3", "layers": layers})


def _code_outside_strings(code: str) -> str:
    """The generated source with every string constant emptied: what Python would run."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.unparse(tree)


def _identifiers(code: str) -> set[str]:
    tree = ast.parse(code)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_the_docstring_payload_stays_a_string(target):
    a = cnncalc.analyse(cnncalc.loads(_spec(PAYLOAD, ["c1"]), "pwned.yaml"))
    code = export(a, target, "pwned.yaml").code
    runnable = _code_outside_strings(code)
    assert "__import__" not in runnable and "system" not in runnable
    assert ast.parse(code).body[0].value.value.startswith(PAYLOAD + ":")  # the text itself, escaped


@pytest.mark.parametrize("target", TARGETS)
def test_a_hostile_source_path_stays_a_string(target):
    a = cnncalc.analyse(cnncalc.loads(_spec("n", ["c1"]), "x.yaml"))
    code = export(a, target, 'a"""\nimport os\n#.yaml').code
    assert "import os" not in _code_outside_strings(code)


def test_identifiers_are_ascii_unique_and_never_reserved():
    assert ident("ｘ") != "x" and ident("ｘ").isascii()  # NFKC would read 'ｘ' as 'x'
    for word in ("forward", "training", "to", "float", "cuda", "self", "torch", "nn", "eval", "class", "print",
                 "x", "__init__", "_modules"):
        made = ident(word)
        assert made.isidentifier() and made not in RESERVED and not made.startswith("_"), word
    assert ident("0") == "layer_0" and ident("conv-1") == "conv_1"


def test_a_fullwidth_name_does_not_rewire_the_torch_model():
    torch = pytest.importorskip("torch")
    from cnncalc.export.verify import verify

    text = json.dumps({"name": "n", "input": "8x8x3", "layers": [
        {"type": "conv2d", "name": "ｘ", "filters": 4, "kernel": 3},
        {"type": "conv2d", "name": "b", "filters": 6, "kernel": 3, "inputs": ["input"]},
        {"type": "conv2d", "name": "c", "filters": 5, "kernel": 1, "inputs": ["ｘ"]},
        {"type": "flatten", "name": "f1", "inputs": ["c"]},
        {"type": "flatten", "name": "f2", "inputs": ["b"]},
        {"type": "concat", "name": "out", "inputs": ["f1", "f2"]}]})
    a = cnncalc.analyse(cnncalc.loads(text, "t.yaml"))
    assert torch is not None and verify(a, "torch").ok
    assert all(i.isascii() for i in _identifiers(export(a, "pytorch").code))


HOSTILE = ['"', "'", '"""', "'''", "\\", "\n", "\r", "\u2028", "\u2029", "\x1b[31m", "{", "}", "{name}", "#",
           "0", "ｘ", "𝐱", "class", "import", "forward", "self", "__", "\t", "%s", "\x00", "\ud800"]
NAME_CHARS = st.sampled_from(["a", "_", "0", "ｘ", "é", "ß", "가", "ı", "K"])  # what a spec's \w names allow


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE) | st.text(max_size=6), min_size=1, max_size=6).map("".join),
       st.lists(st.lists(NAME_CHARS, min_size=1, max_size=4).map("".join), min_size=1, max_size=4, unique=True))
def test_hostile_names_only_ever_appear_inside_string_constants(net_name, layer_names):
    try:
        a = cnncalc.analyse(cnncalc.loads(_spec(net_name, layer_names), "h.yaml"))
    except cnncalc.SpecError:
        return  # e.g. a layer name the spec format refuses
    for target in TARGETS:
        try:
            code = export(a, target, "h.yaml").code
        except cnncalc.SpecError as exc:  # two names that Keras would spell alike: refused, named
            assert target == "keras" and "rename one of them" in exc.first.message
            continue
        tree = ast.parse(code)  # no name can break the syntax
        assert tree.body[0].value.value.startswith(a.name + ": ")  # the name is the docstring's text
        assert all(i.isascii() for i in _identifiers(code))
        assert not (_identifiers(code) & {"__import__", "exec", "eval", "system"})
