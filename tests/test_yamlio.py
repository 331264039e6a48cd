"""Reading a spec's YAML: every value and key keeps its line:column, limits hold, and YAML mistakes
get a located one-line error a newcomer can act on; with libyaml's parser and with PyYAML's own."""

from __future__ import annotations

import pytest
import yaml

import cnncalc
from cnncalc import yamlio
from cnncalc.yamlio import MAX_DEPTH, Node, load_yaml


@pytest.fixture(params=["libyaml", "pure"], autouse=True)
def parser(request, monkeypatch):
    """Run each test with libyaml's event parser and with PyYAML's pure-Python one."""
    if request.param == "libyaml" and not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    if request.param == "pure":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    yamlio._loader.cache_clear()
    yield request.param
    yamlio._loader.cache_clear()


def error(text: str) -> cnncalc.Diagnostic:
    with pytest.raises(cnncalc.SpecError) as info:
        load_yaml(text, "t.yaml")
    assert len(info.value.diagnostics) == 1
    return info.value.first


def where(d: cnncalc.Diagnostic) -> tuple[int, int]:
    return d.loc.line, d.loc.col


def at(text: str, line: int, needle: str) -> tuple[int, int]:
    """The 1-based (line, column) of `needle` on `line` of `text`."""
    return line, text.splitlines()[line - 1].index(needle) + 1


def test_every_value_and_key_has_its_position():
    text = "name: net\ninput: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4}\n  - type: relu\n    name: r\n"
    root = load_yaml(text, "t.yaml")
    assert type(root) is Node and root.loc == cnncalc.Loc("t.yaml", 1, 1)
    assert list(root.value) == ["name", "input", "layers"]
    assert root.key_locs == {"name": ("t.yaml", 1, 1), "input": ("t.yaml", 2, 1), "layers": ("t.yaml", 3, 1)}
    assert (root.value["name"].value, root.value["name"].loc) == ("net", ("t.yaml", 1, 7))
    shape = root.value["input"]
    assert shape.loc == ("t.yaml", 2, 8) and [(v.value, v.loc.col) for v in shape.value] == [(8, 9), (8, 12), (3, 15)]
    conv, relu = root.value["layers"].value
    assert conv.loc == ("t.yaml", 4, 5) and conv.key_locs == {"type": ("t.yaml", 4, 6), "filters": ("t.yaml", 4, 20)}
    assert conv.value["filters"].value == 4 and conv.value["filters"].loc == ("t.yaml", 4, 29)
    assert relu.loc == ("t.yaml", 5, 5) and relu.value["name"].loc == ("t.yaml", 6, 11)
    assert root.plain() == {"name": "net", "input": [8, 8, 3],
                            "layers": [{"type": "conv2d", "filters": 4}, {"type": "relu", "name": "r"}]}


def test_scalars_read_as_yaml_1_1_and_keys_as_strings():
    root = load_yaml("a: [1, -2, 1.5, 1e-5, 1.0e-5, yes, Off, ~, 227x227x3, '7', $p]\n1: x\nyes: y\nnull: z\n", "t.yaml")
    assert root.plain() == {"a": [1, -2, 1.5, "1e-5", 1e-5, True, False, None, "227x227x3", "7", "$p"],
                            "1": "x", "true": "y", "None": "z"}


def test_merge_keys_and_aliases():
    root = load_yaml("base: &b {kernel: 3, stride: 1}\nconv: {<<: *b, padding: 1}\ncopy: *b\n", "t.yaml")
    assert root.plain()["conv"] == {"kernel": 3, "stride": 1, "padding": 1}
    assert root.plain()["copy"] == {"kernel": 3, "stride": 1}


@pytest.mark.parametrize("text,message", [
    ("a: 1\na: 2\n", "t.yaml:2:1: error: duplicate key 'a' (first at line 1); keep one [duplicate-key]"),
    ("a: 99999999999999999999\n", "t.yaml:1:4: error: number '99999999999999999999' is too large (limit 2**63) "
                                   "[too-large]"),
    ("a: !!binary aGk=\n", "t.yaml:1:4: error: YAML tag 'tag:yaml.org,2002:binary' is not allowed in a spec; remove it "
                           "[invalid-yaml]"),
    ("a: *x\n", "t.yaml:1:4: error: invalid YAML: found undefined alias 'x' [invalid-yaml]"),
    ("", "t.yaml:1:1: error: file is empty; a spec needs at least `input` and `layers` [empty-file]"),
])
def test_errors(text, message):
    assert error(text).format() == message


@pytest.mark.parametrize("text", [
    "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
    "a: " + "{b: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5) + "\n",
    "".join(" " * i + "k:\n" for i in range(MAX_DEPTH + 5)) + " " * (MAX_DEPTH + 5) + "v\n",
    "[" * 100_000 + "]" * 100_000,  # libyaml's own composer would overflow the C stack here
    "a: " + "{b: " * 50_000 + "}" * 50_000,
])
def test_deep_nesting_is_refused(text):
    d = error(text)
    assert d.rule == "too-large" and d.message == f"YAML nested too deeply (more than {MAX_DEPTH} levels)"
    assert d.loc.line <= text.count("\n") + 1


def test_nesting_up_to_the_limit_is_read():
    depth = MAX_DEPTH - 2
    node = load_yaml("a: " + "[" * depth + "]" * depth + "\n", "t.yaml").value["a"]
    for _ in range(depth - 1):
        node = node.value[0]
    assert node.value == []


def test_an_error_at_the_end_of_the_file_is_located_on_its_last_line():
    text = "input: [8, 8, 3]\nlayers: [relu\n"
    d = error(text)
    assert where(d) == (2, len("layers: [relu") + 1)
    assert d.message.startswith("the `[` at line 2, column 9 is not closed: a `,` or `]` is missing before this point")


@pytest.mark.parametrize("text,line,col", [
    ("input: [8, 8, 3]\nlayers:\n\t- relu\n", 3, 1),
    ("input: [8, 8, 3]\n\tlayers: [relu]\n", 2, 1),
    ("input: [8, 8, 3]\nlayers:\n  - type: relu\n  \tname: x\n", 4, 3),
    ("input: [8, 8, 3]\nlayers:\n  - type: relu\n\t  name: x\n", 4, 1),
    ("input: [8, 8, 3]\nlayers:\n  -\trelu\n", 3, 4),
    ("input: [8, 8, 3]\nlayers:\n  - relu\n\t- relu\n", 4, 1),
])
def test_a_tab_used_for_indentation_is_named_at_the_tab(text, line, col):
    d = error(text)
    assert d.format() == f"t.yaml:{line}:{col}: error: YAML indents with spaces, not tabs; replace the tab [invalid-yaml]"
    assert text.splitlines()[line - 1][col - 1] == "\t"


INDENT = ("this line is not indented like the lines above it: entries of one mapping or list need the same number "
          "of leading spaces, and what belongs under a `key:` needs more than the key (YAML: ")
MIXED = ("`- item` entries and `key: value` entries cannot share one indentation; put a list under its `key:`, "
         "indented more than the key (YAML: ")
KEY_HERE = ("a `key: value` cannot start here: give each `key: value` its own line, indented like its neighbours, "
            "and quote a value that contains ': ' (YAML: mapping values are not allowed ")


@pytest.mark.parametrize("text,line,col,message", [
    ("input: [8, 8, 3]\n layers: [relu]\n", 2, 2, INDENT),
    ("input: [8, 8, 3]\nlayers:\n  - relu\n - relu\n", 4, 2, INDENT),
    ("input: [8, 8, 3]\nlayers:\n  - type: conv2d\n   filters: 4\n", 4, 4, INDENT),
    ("  input: [8, 8, 3]\nlayers: [relu]\n", 2, 1, INDENT),
    ("input: [8, 8, 3]\n- relu\n", 2, 1, MIXED),
    ("input: [8, 8, 3]\nlayers:\n  - relu\n  type: x\n", 4, 3, MIXED),
    ("input: [8, 8, 3]\nlayers: [relu]]\n", 2, 15, "this `]` closes nothing; remove it"),
    ("input: [8, 8, 3]\nname: @home\n", 2, 7, "a value cannot start with '@' in YAML; put the value in quotes"),
    ("input: [8, 8, 3]\nlayers:\n  - type: conv2d\n     filters: 4\n", 4, 13, KEY_HERE),  # read as `conv2d filters`
    ("input: [8, 8, 3]\nlayers:\n  - type: conv2d filters: 4\n", 3, 25, KEY_HERE),
    ("input: [8, 8, 3]\nname: b\n  c: 1\n", 3, 4, KEY_HERE),
    ("input: [8, 8, 3]\nlayers\n  - relu\nname: x\n", 2, 1, "this key needs a `:` after it, as in `key: value`"),
    ("input: [8, 8, 3\nlayers: [relu]\n", 2, 7, "the `[` at line 1, column 8 is not closed"),
    ("input: [8, 8, 3]\nlayers: [{type: relu]\n", 2, 21, "the `{` at line 2, column 10 is not closed"),
    ("input: [8, 8, 3]\nname: 'abc\n", 2, 7, "the quoted string at line 2, column 7 is never closed; end it with "
                                         "the same quote"),
])
def test_bad_layout_is_explained_where_it_is(text, line, col, message):
    d = error(text)
    assert d.rule == "invalid-yaml" and d.message.startswith(message), d.message
    assert where(d) == (line, col)


def test_a_lone_surrogate_escape_is_refused_at_its_string(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text('input: [8, 8, 3]\nname: "a\\ud800b"\nlayers: [relu]\n')
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.load(path)
    d = info.value.first
    assert (d.loc.file, d.loc.line, d.loc.col, d.rule) == (str(path), 2, 7, "invalid-yaml")
    assert d.message.startswith("a \\u or \\U escape here is not a character")


@pytest.mark.parametrize("text", ['"k\\udc00": 1\n', 'a: ["\\ud83d\\ude00"]\n', 'a: "\\U00110000"\n'])
def test_escapes_that_are_no_character_are_refused(text):
    d = error(text)
    assert d.loc.line == 1 and d.message.startswith("a \\u or \\U escape here is not a character")


def test_text_with_a_lone_surrogate_is_refused_where_it_is():
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads("input: [8, 8, 3]\nname: a\ud800b\nlayers: [relu]\n", "t.yaml")
    assert info.value.first.format() == (
        "t.yaml:2:8: error: the text holds a lone surrogate '\\ud800' (half of a UTF-16 pair), which no output can "
        "encode; write the whole character [invalid-yaml]")


def test_a_control_character_is_refused_where_it_is():
    assert error("a: 1\nb: x\x01y\n").format() == \
        "t.yaml:2:5: error: control character U+0001 is not allowed in YAML; remove it [invalid-yaml]"


@pytest.mark.parametrize("value", [{"input": [8, 8, 3], "layers": ["relu"]}, b"input: [8, 8, 3]\n", None])
def test_loads_wants_text(value):
    with pytest.raises(TypeError) as info:
        cnncalc.loads(value)
    assert str(info.value) == (f"a spec is read from YAML text (a str), not from a {type(value).__name__}; "
                               "pass the text, or give a file's path to cnncalc.load()")


def test_an_empty_flow_value_is_located_on_its_line():
    text = "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: }\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "x.yaml")
    d = info.value.first
    colon = text.splitlines()[2].index("kernel:") + len("kernel:")
    assert d.loc.line == 3 and colon + 1 <= d.loc.col <= colon + 2 and "kernel" in d.message


def test_a_long_spec_keeps_every_position():
    rows = ["input: [64, 56, 56]", "layers:"] + [
        "  - {type: conv2d, filters: 64, kernel: 3, padding: 1}" if i % 2 == 0 else "  - relu" for i in range(2_000)]
    layers = load_yaml("\n".join(rows) + "\n", "t.yaml").value["layers"].value
    assert len(layers) == 2_000 and [x.loc.line for x in layers] == list(range(3, 2_003))
    assert layers[-2].value["padding"].loc == ("t.yaml", 2_001, rows[-2].index("1}") + 1)
