"""cnncalc.yamlfast gives exactly the tree of the PyYAML path, or None (then PyYAML decides).

Differential: every text here goes through both; whenever yamlfast returns a tree it must equal
the PyYAML path's node by node (value and its type, position, key positions, key order), and it
must return None for every text the PyYAML path rejects.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import time
from pathlib import Path

import conftest
import pytest

import cnncalc
from cnncalc import yamlfast, yamlio
from cnncalc.yamlio import MAX_DEPTH, Node

ROOT = Path(__file__).resolve().parent.parent
ARCH = sorted((ROOT / "architectures").glob("*.yaml"))
DATA = sorted((ROOT / "tests" / "data").rglob("*.yaml"))


def pyyaml(text: str):
    """What yamlio.load_yaml gave before the fast path: its tree, or the SpecError's message."""
    if not text.strip():
        return "empty"
    try:
        return dump(yamlio._Converter("t.yaml").convert(yamlio._compose(text, "t.yaml")))
    except cnncalc.SpecError as exc:
        return f"error: {exc}"
    except Exception as exc:  # noqa: BLE001 - YAML errors: load_yaml words them
        return f"error: {type(exc).__name__}"


def pure(text: str):
    """The same with PyYAML's pure-Python parser (what yamlio uses without libyaml)."""
    loader = yamlio._loader_classes()[1](text, "t.yaml")
    try:
        return dump(yamlio._Converter("t.yaml").convert(loader.get_single_node()))
    finally:
        loader.dispose()


def dump(node):
    """Everything a Node holds, with types: (type, value, line, col, key_locs)."""
    assert type(node) is Node and type(node.loc) is cnncalc.Loc and node.loc.file == "t.yaml"
    v = node.value
    if isinstance(v, dict):
        assert list(v) == list(node.key_locs)
        keys = [(k, type(k).__name__, node.key_locs[k].file, node.key_locs[k].line, node.key_locs[k].col)
                for k in node.key_locs]
        return "map", [(k, dump(x)) for k, x in v.items()], node.loc.line, node.loc.col, keys
    assert node.key_locs is None
    if isinstance(v, list):
        return "seq", [dump(x) for x in v], node.loc.line, node.loc.col
    return type(v).__name__, v, node.loc.line, node.loc.col


def check(text: str) -> bool:
    """Assert agreement; True if the fast path took the text."""
    fast = yamlfast.parse(text, "t.yaml")
    if fast is None:
        return False
    tree = dump(fast)
    assert tree == pyyaml(text), repr(text)
    assert tree == pure(text), repr(text)
    return True


def snippets() -> list[str]:
    """YAML people write: the docs' examples and every multi-line string in the tests."""
    out = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        parts = md.read_text().split("```")
        out += [p.split("\n", 1)[1] for p in parts[1::2] if p.startswith("yaml")]
    for py in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value \
                    and "\n" in node.value.strip():
                out.append(node.value)
    return out


TRICKY = [
    "a: 1\n",
    "a: 1 # c\nb: x#y\nc: x #y\nd: x  #  y\n",
    "a: 'it''s'\nb: \"dq\"\nc: ''\nd: \"\"\ne: '#x'\nf: \"#x\"\ng: 'x\"y'\nh: \"x'y\"\ni: '''\nj: ''''\n",
    "a: [1, [2, [3, []]], {}]\nb: {}\nc: []\n",
    "a:\n- 1\n- 2\nb: 3\n",
    "a:\n  - x: 1\n    y: 2\n  - z\n",
    "a:\n- b: 1\n  c: 2\n- d\ne: 3\n",
    "a:\n- b:\n  - c\n  d: 1\n",
    "a:\n  - b: 1\n    c:\n      - d\n      - e\n  - f\n",
    "a:\n-\n  b: 1\n-\n  - c\n",
    "a:\n- \n- b\n", "a:\n  -\nb: 1\n", "a:\n  - x\n  -", "a:\n  -   # c\n  - b\n", "- \n", "a:\n-\n",
    "- a\n- b\n",
    "a: b   \n\n\nc: d  \n   \n",
    "my key: 1\nkey.with.dots: 2\nkey-with-dashes: 3\n$key: 4\nk_1: 5\n",
    "1: a\n2.5: b\ntrue: c\nnull: d\n-1: e\n0: f\n",
    "yes: a\nNo: b\n~: c\nNULL: d\n",
    "on: a\ntrue: b\n",
    "a: 1\na: 2\n",
    "a: {b: 1, b: 2}\n",
    "a: [0, -0, +1, 7, 010, 08, 0o7, 0x1F, 0b101, 1_000, 1:30, -1:30, 190:20:30]\n",
    "a: [1.5, -1.5, +1.5, .5, -.5, +.5, 1., -1., 1.e+5, 1e5, 1e-5, 1.0e-5, 1.0e5, 1.0E+5, 1.5e+, 0.0, -0.0, 01.5]\n",
    "a: [.inf, -.inf, +.Inf, .NaN, .nan, ., .., 1.2.3, 1__0, 1_0.5, 6.8523015e+5, 685.230_15e+03]\n",
    "a: [2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5, 2002-1-1, 1234-5, 12-34-56]\n",
    "a: [9223372036854775807, 9223372036854775808, 9223372036854775809, -9223372036854775808, "
    "-9223372036854775809, 99999999999999999999, 1" + "0" * 30 + "]\n",
    "a: [yes, Yes, YES, yEs, no, No, NO, true, True, TRUE, tRue, false, False, FALSE, on, On, ON, "
    "off, Off, OFF, oFF, y, n, Y, N]\n",
    "a: [~, null, Null, NULL, nUll, none, None]\nb:\nc: ~\nd: null # c\n",
    "a: 0\nb: -7\nc: 1.5\nd: 1e5\ne: yes\nf: Off\ng: ~\nh: 0x10\ni: 010\nj: 1:30\nk: .inf\nl: 2001-12-14\n",
    "a: {b: 1,\n    c: 2}\n",
    "layers:\n  - {type: conv2d,\n     filters: 10}   # x\n",
    "layers:\n  - {type: conv2d, filters: 10,   # ten\n\n     # more\n     kernel: 3\n    }\n",
    "a: [1,\n  # comment\n  2]\n",
    "a: [1\n  , 2]\n",
    "a: [a\n  b]\n",
    "a: [1, 2,\n3]\n",
    "a: [1, 2,\n 3]\n",
    "a:\n  - [1,\n    2]\n  - [3,\n  4]\n",
    "a: {b: [1,\n  2], c: 3}\nd: 4\n",
    "a: b\n  c\n",
    "a: b\n  # c\nd: e\n",
    "- a\n  b\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "a: 1\n  b: 2\n",
    "a: {b: }\n", "a: {b}\n", "a: {b, c: 1}\n", "a: [b: c]\n", "a: [b, ]\n", "a: {b: 1,}\n", "a: [, b]\n",
    "a: {b:1}\n", "a: {b :1}\n", "a: {b : 1}\n", "a: {\"b\": 1}\n", "a: {'b': 1}\n", "a: {b: 'c':}\n",
    "a: b: c\n", "a: - b\n", "a: b:\n", "a:b\n", "a :b\n", "a : b\n", "a: &x 1\nb: *x\n", "a: !!str 1\n",
    "a: !x 1\n", "a: |\n  x\n", "a: >\n  x\n", "? a\n: b\n", "---\na: 1\n", "a: 1\n...\n", "a: 1\n---\n",
    "%YAML 1.1\n---\na: 1\n", "a: 1\n--- \n", "...: 1\n", "---: 1\n",
    "a:\tb\n", "a: b\r\n", "a: b\r\nc: d\n", "\ufeffa: 1\n", "a: \ufeffb\n", "a: b\x85c: d\n",
    "a: b\u2028c: d\n", "a: b\u2029c: d\n", "a: b\x00\n", "a: b\x7f\n", "a: \xa0b\n",
    "a: \"x\\ny\"\n", "a: \"x\\\"y\"\n", "a: 'multi\n  line'\n", "a: \"multi\n  line\"\n",
    "a: x\n- b\n", "- a\nb: c\n", "a: 1\n- b\n",
    "a: [1, 2]x\n", "a: [1, 2] # c\n", "a: [1, 2]# c\n", "a: 'x' # c\n", "a: 'x'# c\n", "a: 'x'y\n",
    "a: [1, 2] [3]\n", "a: [1]: 2\n", "[a]: 1\n", "{a: 1}: 2\n", "'a': 1\n", "\"a\": 1\n",
    "a: {b: [1, 2], c: {d: e}}\n",
    "a: {b: c d, e: f  g}\n",
    "a: [ 1 , 2 ]\n", "a: {  b :  1  }\n", "a: [ ]\n", "a: { }\n", "a: [1,2]\n", "a: {b: 1,c: 2}\n",
    "a: [[], {}, [[]], [{}]]\n", "a: [{b: [{c: []}]}]\n",
    "a: $planes\nb: \"${planes * 4}\"\nc: \"${'downsample.1' if down else 'input'}\"\nd: ${i != 0}\n",
    "a: {b: $c, d: \"${e * 2}\", f: ${g}}\n",
    "a: 227x227x3\nb: [13x13x256]\nc: 3x3\n",
    "a: b?\nc: d!\ne: [f?]\ng: [h!]\ni: j ? k\nl: m ! n\n",
    "a: -\n", "a: [-]\n", "a: [-1, - 1]\n", "a: ---\n", "a: ...\n", "a: -x\n", "a: [-x, --]\n",
    "a: :b\n", "a: ?b\n", "a: [:b]\n", "a: [?b]\n", "a: [b:]\n", "a: {b: c:d}\n",
    "a: http://x.y/z\n", "a: [http://x]\n", "a: b:c\n", "a: b::c\n",
    "a: <<\n", "<<: {b: 1}\n", "a: =\n", "=: 1\n", "a: {<<: {b: 1}}\n",
    "a: @b\n", "a: `b\n", "a: %b\n", "a: b@c\n", "a: b%c\n", "a: ,b\n", "a: ]\n", "a: }\n", "a: b,c\n",
    "a: b]c\n", "a: b}c\n", "a: [b]c]\n", "a: b[c\n", "a: b{c: d}\n", "a: b\\c\n", "a: [b\\c]\n",
    "  a: 1\n  b: 2\n",
    "a:\n    b: 1\n    c: 2\n",
    "a: é\nb: [ü, 'x', \"y\"]\n", "ключ: значение\nб: [в, г]\n", "a: 😀\n😀: 1\nb: [😀, {😀: 😀}]\n",
    "a: {b: 1}\n  \n",
    "a:    \n", "a: # c\nb: 1\n", "a:\n# c\nb: 1\n", "a:\n  # c\nb: 1\n",
    "a: 1\n# c\n  # d\nb: 2\n", "# only a comment\n", "", "   \n\n", "a", "a:", "a: 1", "- a", "1", "[1]",
    "k" * 1100 + ": 1\n", "a: {" + "k" * 1100 + ": 1}\n", "a: [" + "v" * 1100 + "]\n",
    "k" * 1000 + ": 1\n", "a: {" + "k" * 1000 + ": 1}\n",
    "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
    "a: " + "[" * (MAX_DEPTH - 4) + "]" * (MAX_DEPTH - 4) + "\n",
    "a: " + "{b: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5) + "\n",
    "".join(" " * i + "k:\n" for i in range(MAX_DEPTH + 5)) + " " * (MAX_DEPTH + 5) + "v\n",
    "".join(" " * i + "k:\n" for i in range(MAX_DEPTH - 4)) + " " * (MAX_DEPTH - 4) + "v\n",
    "".join(" " * (2 * i) + "- \n" for i in range(MAX_DEPTH + 5)) + " " * (2 * MAX_DEPTH + 10) + "v\n",
    "a: [" + ", ".join(["x"] * 100_001) + "]\n",
    "a: 'x'\n" + "".join(f"k{i}: [1, 2]\n" for i in range(34_000)),
]


def test_architectures_take_the_fast_path():
    for path in ARCH + DATA:
        assert check(path.read_text()), path


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky(text):
    check(text)


def test_snippets():
    texts = snippets()
    assert len(texts) > 50
    taken = sum(check(t) for t in texts)
    assert taken > len(texts) // 3  # most specs in the tests and docs take the fast path


def test_common_forms_take_the_fast_path():
    for text in ["a: 1 # c\nb: x#y\n", "a:\n- 1\n- b: 2\n  c: [3, {d: e}]\n", "a: {b: 1,\n    c: 2}\n",
                 "a: [1.5, -2, 0, 1e-5, 1.0e-5, yes, Off, ~, null, 227x227x3, $p, '${p * 4}', \"x\"]\n",
                 "a:\n  b:\n    - c\n  d:\n", "a:\n-\n  b: 1\n"]:
        assert check(text), repr(text)


CHARS = list("[]{}:,-#'\"\n \t&*!|>?%@`~._$\\") + ["ä", "\u2028", "\ufeff", "\r", "x", "1", "0", "e", ": ", ", ", "\n  "]


def mutations(text: str, n: int, rng: random.Random):
    return conftest.mutations(text, n, rng, CHARS)


def test_mutations():
    rng = random.Random(7)
    texts = [p.read_text() for p in ARCH + DATA] + [t for t in TRICKY if len(t) < 2000]
    for text in texts:
        for mutated in mutations(text, 12 if len(text) > 300 else 25, rng):
            check(mutated)


SCALARS = ["0", "7", "-3", "+4", "1.5", "-0.25", ".5", "1.", "1e-5", "1.0e-5", "1.0e+5", "yes", "No",
           "TRUE", "off", "~", "null", "NULL", "nUll", "conv2d", "relu", "227x227x3", "$planes", "a b",
           "a  b", "x.y-z_1", "é", "-", "-x", "'q'", "'it''s'", '"dq"', '"${p * 4}"',
           "\"${'x' if d else 'y'}\"", "''", '""', "'a # b'", "'[x, y]'", '"{a: b}"']
RARE = ["010", "0x1F", "1_000", "1:30", ".inf", "-.nan", "2001-12-14", "9223372036854775808", "a#b",
        "http://x", "a:b", "a?", "!", "&a", "*a", "|", "@", "%", "'", "a,b", "[", "}"]
KEYS = ["type", "name", "filters", "kernel", "my key", "k.1", "k-2", "$k", "1", "true", "yes", "null",
        "~", "a1", "stride", "padding"]


def gen_value(rng: random.Random, depth: int):
    r = rng.random()
    if depth > 3 or r < 0.5:
        return rng.choice(RARE if rng.random() < 0.03 else SCALARS)
    if r < 0.75:
        return [gen_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): gen_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def flow(v, rng: random.Random, indent: int) -> str:
    if not isinstance(v, (list, dict)):
        return v
    sep = rng.choice([", ", ", ", ", ", ",", " , ", ",\n" + " " * (indent + rng.randint(1, 4))])
    if isinstance(v, list):
        return "[" + sep.join(flow(x, rng, indent) for x in v) + "]"
    colon = rng.choice([": ", ": ", ":  ", " : "])
    return "{" + sep.join(k + colon + flow(x, rng, indent) for k, x in v.items()) + "}"


def block(v, rng: random.Random, indent: int, out: list[str], first: str | None = None) -> None:
    """Appends the lines of mapping/sequence `v` at `indent`; `first` replaces the first line's indentation."""
    pad = " " * indent
    items = list(v.items()) if isinstance(v, dict) else [(None, x) for x in v]
    for i, (k, x) in enumerate(items):
        lead = first if (i == 0 and first is not None) else pad
        head = lead + (f"{k}:" if k is not None else "-")
        comment = rng.choice(["", "", "", "  # c", " #c:d"])
        if rng.random() < 0.1:
            out.append(" " * rng.randint(0, 6) + rng.choice(["# note", "#", ""]))
        if isinstance(x, (list, dict)) and x and rng.random() < 0.6:
            if k is None and isinstance(x, dict) and rng.random() < 0.6:
                block(x, rng, indent + 2, out, first=lead + "- ")  # `- key: value` continued below
                continue
            out.append(head + comment)
            inner = indent + rng.choice([1, 2, 4])
            if k is not None and isinstance(x, list) and rng.random() < 0.4:
                inner = indent  # `key:` + `- item` at the key's column
            block(x, rng, inner, out)
        else:
            out.append(head + " " + flow(x, rng, indent) + comment)


def test_random_specs():
    rng = random.Random(2024)
    taken = 0
    for _ in range(300):
        doc = {rng.choice(KEYS) + str(i): gen_value(rng, 0) for i in range(rng.randint(1, 5))}
        lines: list[str] = []
        block(doc, rng, rng.choice([0, 0, 2]), lines)
        taken += check("\n".join(lines) + rng.choice(["\n", "", "\n\n"]))
    assert taken > 150


def generated(lines: int) -> str:
    rows = ["input: [64, 56, 56]", "layers:"]
    rows += ["  - {type: conv2d, filters: 64, kernel: 3, padding: 1}" if i % 2 == 0 else "  - relu"
             for i in range(lines - len(rows))]
    return "\n".join(rows) + "\n"


def test_long_spec():
    check(generated(1000))
    text = generated(10_000)
    start = time.perf_counter()
    assert yamlfast.parse(text, "t.yaml") is not None
    assert time.perf_counter() - start < 3  # ~0.15 s on a slow machine; PyYAML's path takes ~1.5 s


def test_errors_are_still_pyyaml_s():
    # the fast path gives up, so the PyYAML path words and places the error as before
    cases = {"a: b: c\n": "t.yaml:1:5: error: invalid YAML: mapping values are not allowed here [invalid-yaml]",
             "a: 1\na: 2\n": "t.yaml:2:1: error: duplicate key 'a' (first at line 1); keep one [duplicate-key]",
             "a: [1, 2\n": "t.yaml:1:9: error: invalid YAML: expected ',' or ']', but got '<stream end>' [invalid-yaml]",
             "a: 99999999999999999999\n": "t.yaml:1:4: error: number '99999999999999999999' is too large "
                                          "(limit 2**63) [too-large]"}
    for text, message in cases.items():
        with pytest.raises(cnncalc.SpecError) as info:
            yamlio.load_yaml(text, "t.yaml")
        assert str(info.value) == message


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout.strip()


def test_loading_the_architectures_does_not_import_yaml():
    code = ("import sys, glob, cnncalc\n"
            "for p in sorted(glob.glob('architectures/*.yaml')): cnncalc.load(p)\n"
            "cnncalc.loads('input: [8, 8, 3]\\nlayers:\\n  - {type: conv2d, filters: 4, kernel: 3}\\n  - relu\\n')\n"
            "print('yaml' in sys.modules)")
    assert run(code) == "False"


def test_the_readers_import_nothing_heavy():
    code = ("import sys, cnncalc.errors\n"
            "before = set(sys.modules)\n"
            "import cnncalc.yamlfast, cnncalc.yamlio\n"
            "print(sorted(set(sys.modules) - before))")
    assert run(code) == "['cnncalc.yamlfast', 'cnncalc.yamlio']"
