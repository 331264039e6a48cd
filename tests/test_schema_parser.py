"""The JSON Schema accepts exactly what the parser accepts: every type name spelling `lookup` reads,
every parameter alias, every value form, layout, name, input and graph form — each case is given
to both, and both must agree. And every example in the docs validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import cnncalc
from cnncalc.layers import all_types
from cnncalc.schema import build
from cnncalc.spec import LAYOUT_ALIASES

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parent.parent
VALUE = {"count": 2, "nonneg": 1, "int": 1, "size": 1, "size0": 1, "padding": 0, "tpadding": 0, "bias": True,
         "bool": True, "float": 0.5, "rate": 0.5, "name": "x", "shape": [2]}


@pytest.fixture(scope="module")
def validator():
    schema = build()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def parser_accepts(text: str) -> bool:
    try:
        cnncalc.loads(text, "t.yaml")
    except cnncalc.SpecError:
        return False
    return True


def agree(validator, text: str) -> tuple[bool, bool]:
    """(parser accepts, schema accepts) for one spec text."""
    return parser_accepts(text), validator.is_valid(yaml.safe_load(text))


def spec(entry: str, head: str = "input: [8, 8, 4]\n") -> str:
    return f"{head}layers:\n  - {entry}\n"


def required(cls) -> str:
    """The entry's required parameters, each with a valid value."""
    items = [f"{name}: {yaml.safe_dump(p.choices[0] if p.kind == 'choice' else VALUE[p.kind], default_flow_style=True).strip().removesuffix('...').strip()}"
             for name, p in cls.params.items() if p.required]
    return "".join(f", {item}" for item in items)


def spellings(name: str) -> list[str]:
    """Ways people write one type name that `layers.lookup` reads as it."""
    camel = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    out = [name, name.upper(), camel, name.replace("_", "-"), f"nn.{camel}", f"torch.nn.{camel}",
           f"keras.layers.{camel}", f"layers.{camel}", f"tf.keras.layers.{camel}", f"  {name} ", f"_{name}_",
           "-".join(name.replace("_", ""))]
    if "k" in name.lower():
        out.append(name.replace("k", "\u212a"))  # KELVIN SIGN: lowercases to k
    return out


CASES = [(cls, spelling) for cls in all_types().values() for n in (cls.name, *cls.aliases) for spelling in spellings(n)]


@pytest.mark.parametrize("cls, spelling", CASES, ids=lambda x: getattr(x, "name", None) or repr(x))
def test_every_type_spelling_is_accepted_by_both(validator, cls, spelling):
    text = spec(f"{{type: {yaml.safe_dump(spelling, default_style=chr(34)).strip()}{required(cls)}}}")
    assert agree(validator, text) == (True, True)
    if not any(p.required for p in cls.params.values()):  # a bare type name
        assert agree(validator, spec(yaml.safe_dump(spelling, default_style=chr(34)).strip())) == (True, True)


@pytest.mark.parametrize("spelling", ["nn.nn.Conv2d", "conv2d.", "conv 2d", "conv2dd", "torch.Conv2d", "nn_.conv2d",
                                      "keras.Conv2D", "nn.", "", "2dconv", "conv2d\u0131"])
def test_misspelt_types_are_refused_by_both(validator, spelling):
    text = spec(f"{{type: {yaml.safe_dump(spelling, default_style=chr(34)).strip()}, filters: 2, kernel: 1}}")
    assert agree(validator, text) == (False, False)


PARAMS = [(cls, pname, key) for cls in all_types().values() for pname, p in cls.params.items()
          for key in (pname, *p.aliases)]


@pytest.mark.parametrize("cls, pname, key", PARAMS, ids=lambda x: getattr(x, "name", None) or str(x))
def test_every_parameter_alias_is_accepted_by_both(validator, cls, pname, key):
    p = cls.params[pname]
    value = p.choices[0] if p.kind == "choice" else VALUE[p.kind]
    rest = "".join(f", {k}: {v}" for k, v in re.findall(r", (\w+): ([^,]+)", required(cls)) if k != pname)
    text = spec(f"{{type: {cls.name}, {key}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}{rest}}}")
    assert agree(validator, text) == (True, True)
    if key != pname:  # the parameter and its alias together: "the same parameter; give it once"
        both = text.replace(f"{key}:", f"{pname}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}, {key}:", 1)
        assert agree(validator, both) == (False, False)


VALUES = [  # (layer type and other parameters, parameter, values to try)
    ("conv2d, filters: 2", "kernel", ["3", "[3]", "[3, 1]", "[3, 1, 1]", "'3x1'", "'3x1x1'", "'0x3'", "0", "true",
                                      "'3'", "-1", "'same'", "[0, 1]", "'$k'"]),
    ("conv2d, filters: 2, kernel: 1", "padding", ["'same'", "'SAME'", "'Valid'", "'same\\n'", "[1]", "[1, 2]",
                                                  "[1, 2, 3]", "[1, 2, 3, 4]", "-1", "'1x1'", "0", "'full'",
                                                  "[0, 0, 0, 0, 0]"]),
    ("conv2d, kernel: 1", "filters", ["1", "0", "true", "'2'", "2.5", "'$k'", "'${k + 1}'"]),
    ("conv2d, filters: 2, kernel: 1", "bias", ["true", "false", "per_position", "per-position", "Per_Position", "1"]),
    ("conv2d, filters: 2, kernel: 1", "dilation", ["1", "[2, 1]", "0"]),
    ("conv1d, filters: 2", "kernel", ["3", "[3]", "[3, 1]", "'3'", "'3x1'"]),
    ("dropout", "rate", ["0", "0.5", "1", "-0.1", "'0.5'", "true"]),
    ("batch_norm", "eps", ["0.001", "1", "'x'", "true"]),
    ("reshape", "shape", ["[2, -1]", "[-1, -1]", "[0, 2]", "[]", "[2]", "2", "[-2]"]),
    ("concat", "axis", ["-1", "1", "1.5", "'1'"]),
]


# Where JSON Schema draft-07 cannot say what the parser checks, the schema is looser (cnncalc lint
# reports these): it cannot count how many items of a list are -1.
LOOSER = {("reshape", "shape", "[-1, -1]")}


@pytest.mark.parametrize("entry, key, value", [(e, k, v) for e, k, vs in VALUES for v in vs],
                         ids=lambda x: str(x))
def test_values_are_judged_alike(validator, entry, key, value):
    head = "params: {k: 2}\ninput: [8, 8, 4]\n"
    parsed, schema = agree(validator, spec(f"{{type: {entry}, {key}: {value}}}", head))
    if (entry, key, value) in LOOSER:
        assert (parsed, schema) == (False, True)
    else:
        assert parsed == schema, (entry, key, value, parsed)


@pytest.mark.parametrize("layout", [*LAYOUT_ALIASES, *(a.upper() for a in LAYOUT_ALIASES), "Channels_First", " NCHW ",
                                    "NCWH", "channels first", "first", "nchw\nx", "", "channelsfirst"])
def test_layouts_are_judged_alike(validator, layout):
    text = f"input: [8, 8, 4]\nlayout: {yaml.safe_dump(layout, default_style=chr(34)).strip()}\nlayers: [relu]\n"
    parsed, schema = agree(validator, text)
    assert parsed == schema == (layout.strip().lower() in LAYOUT_ALIASES)


@pytest.mark.parametrize("name", ["conv1", "'0'", "0", "a.b-c", "é", "'conv${1 + 1}'", "input", "'.a'", "'-a'",
                                  "'a b'", "\"a\\n\"", "1.5", "true", "-1", "'conv1 '", "_x"])
def test_names_are_judged_alike(validator, name):
    parsed, schema = agree(validator, spec(f"{{type: relu, name: {name}}}"))
    assert parsed == schema, name


@pytest.mark.parametrize("head", [
    "input: [8, 8, 3]", "input: 8x8x3", "input: ' 8 x 8 X 3 '", "input: [8]", "input: [8, 8, 8, 8]",
    "input: [0, 8, 8]", "input: 0x8x8", "input: [true, 8]", "input: []", "input: 8", "input: '8x8x'",
    "params: {s: 8}\ninput: [$s, $s, 3]", "params: {s: 8}\ninput: ${s}x${s}x3", "params: {s: 8}\ninput: '$s'",
    "inputs: {a: 8x8x3, b: [8, 8, 1]}", "inputs: {a: 8x8x3}", "inputs: {}", "inputs: [8, 8, 3]",
    "inputs: {.a: 8x8x3}", "inputs: {a: [0, 1, 1]}", "input: 8x8x3\ninputs: {a: 8x8x3}",
    "input: 8x8x3\nlayout: NCHW", "input: 8x8x3\ndescription: 3", "input: 8x8x3\ndescription: a network",
])
def test_inputs_are_judged_alike(validator, head):
    text = f"{head}\nlayers:\n  - {{type: relu, inputs: [{'a' if 'inputs:' in head else 'input'}]}}\n"
    parsed, schema = agree(validator, text)
    if head.endswith("'$s'"):  # an expression: what it gives is known once evaluated (here 8: not a shape)
        assert (parsed, schema) == (False, True)
    else:
        assert parsed == schema, head


GRAPH = """\
inputs: {a: 8x8x3, b: 8x8x3}
blocks:
  two:
    inputs: [p, q]
    params: {k: [1, 1]}
    layers:
      - {type: add, name: s, inputs: [p, q]}
      - {type: conv2d, name: c, filters: 3, kernel: $k}
layers:
  - {type: conv2d, name: conv, inputs: [a], filters: 3, kernel: 1}
  - {block: two, name: t, inputs: [conv, b]}
"""


@pytest.mark.parametrize("extra", [
    "  - {share: conv, name: again, inputs: [b]}",
    "  - {share: t, name: t2, inputs: [b, conv]}",
    "  - {share: conv, repeat: 2, if: true}",
    "  - {share: conv, type: conv2d}",
    "  - {share: conv, filters: 3}",
    "  - {share: conv, block: two}",
    "  - {block: two, inputs: [a, b], k: [3, 3]}",
    "  - {type: relu, if: 'false'}",
    "  - {type: relu, if: 1.5}",
    "  - {type: relu, if: null}",
    "  - {type: relu, if: 1}",
    "  - {type: relu, repeat: 0}",
    "  - {type: relu, repeat: 10001}",
    "  - {type: relu, inputs: []}",
    "  - {type: relu, inputs: b}",
    "outputs: [t, conv]",
    "outputs: t",
    "outputs: []",
    "outputs: [1]",
])
def test_graph_forms_are_judged_alike(validator, extra):
    text = GRAPH + extra + "\n" if extra.startswith("  -") else extra + "\n" + GRAPH
    parsed, schema = agree(validator, text)
    assert parsed == schema, extra


def doc_examples() -> list[tuple[str, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for m in re.finditer(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            data = yaml.safe_load(m.group(1))
            if isinstance(data, dict) and "layers" in data:
                out.append((f"{path.name}:{path.read_text(encoding='utf-8')[:m.start()].count(chr(10)) + 2}", m.group(1)))
    return out


@pytest.mark.parametrize("where, text", doc_examples(), ids=lambda x: x if ":" in str(x)[:40] else "")
def test_every_example_in_the_docs_is_valid(validator, where, text):
    """A fragment (no input) is completed with one; it must then validate, and whatever the parser
    accepts the schema accepts."""
    data = yaml.safe_load(text)
    if "input" not in data and "inputs" not in data:
        data["input"] = [32, 32, 3]
    errors = [e.message[:200] for e in validator.iter_errors(data)]
    assert errors == [], where
    if parser_accepts(text):
        assert validator.is_valid(yaml.safe_load(text))


def test_the_docs_hold_the_graph_examples():
    texts = "\n".join(text for _, text in doc_examples())
    assert "inputs: {image:" in texts and "share: enc1" in texts and "inputs: [x, skip]" in texts
