"""The libyaml fast path of yamlio gives the same nodes, tags, values and marks as PyYAML's own loader."""

from __future__ import annotations

import random
from pathlib import Path

import conftest
import pytest
import yaml

import cnncalc
from cnncalc import yamlio

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")

ARCH = sorted((Path(__file__).resolve().parent.parent / "architectures").glob("*.yaml"))
TEXTS = [p.read_text() for p in ARCH] + [
    "a: é\nb: [ü, 'x', \"y\"]\nc: 1\n",
    "a: b\r\nc: d\r\n",
    "x: y\u2028z: w\n",
    "- a\n- b: c\n  d: e\n",
    "a: &x [1]\nb: *x\nc: {<<: {d: 1}, e: 2}\n",
    "a: 'it''s'\nb: |\n  x\n  y\nc: >-\n  z\n",
    "a: 0o17\nb: 0x1F\nc: 1_000\nd: .inf\ne: ~\nf: yes\ng: 2001-12-14\n",
    "layers: [{type: conv2d, kernel: , stride: }, {a:\n  , b: 1}]\n",
]
CHARS = list("[]{}:,-#'\"\n \t&*!|>?%@`") + ["ä", "\u2028", "\ufeff", "x", "1"]


def dump(node):
    """Everything cnncalc reads from a node: kind, tag, value and start line:column."""
    m = node.start_mark
    if isinstance(node, yaml.MappingNode):
        value = [(dump(k), dump(v)) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        value = [dump(v) for v in node.value]
    else:
        value = node.value
    return type(node).__name__, node.tag, m.line, m.column, value


def pure(text: str):
    try:
        return dump(yaml.compose(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError, AttributeError):
        return "error"


def fast(text: str):
    """cnncalc's loader: libyaml's event parser under PyYAML's Python composer (with limits)."""
    try:
        return dump(yamlio._compose(text, "t.yaml"))
    except (yaml.YAMLError, RecursionError, AttributeError, cnncalc.SpecError):
        return "error"


def mutations(text: str, n: int, rng: random.Random):
    yield text
    yield from conftest.mutations(text, n, rng, CHARS)


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_fast_path_matches_pure_python(index):
    rng = random.Random(index)
    for text in mutations(TEXTS[index], 30, rng):
        assert fast(text) == pure(text), repr(text)


def test_fast_path_is_used_for_the_architectures():
    for path in ARCH:
        assert yamlio._compose_fast(path.read_text(), str(path)) is not None, path


def test_empty_flow_value_points_after_the_colon():
    text = "input: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: }\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "x.yaml")
    d = info.value.first
    assert (d.loc.line, d.loc.col) == (3, text.splitlines()[2].index("kernel:") + len("kernel:") + 1)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "a: " + "{b: " * 50_000 + "}" * 50_000])
def test_deep_nesting_is_an_error_not_a_crash(text):
    # libyaml's own composer would overflow the C stack here; the Python composer raises RecursionError
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "deep.yaml")
    assert info.value.first.rule in ("too-large", "not-a-spec", "invalid-yaml")
