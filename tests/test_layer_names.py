"""Layer names: `$param` and `${expression}` inside a name are substituted; what a name may hold."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.expr import ExprError
from cnncalc.spec import _substitute


def names(layers: str) -> list[str]:
    net = cnncalc.loads("input: [8, 8, 3]\nparams: {p: 7, tag: x}\nlayers:\n" + layers, "n.yaml")
    return [layer.name for layer in net.layers]


@pytest.mark.parametrize("name,env,want", [
    ("conv${i + 2}", {"i": 1}, "conv3"),
    ("a$-b${i + 1}$i.x", {"i": 2}, "a$-b32.x"),  # a lone `$` stays
    ("$i$i", {"i": 4}, "44"),
    ("x$", {}, "x$"),
])
def test_substitute(name, env, want):
    assert _substitute(name, env) == want


def test_an_expression_in_a_name_ends_at_the_first_brace():
    with pytest.raises(ExprError, match="^cannot parse expression \"'\"$"):
        _substitute("x${'}'}", {})


def test_computed_names_in_a_repeat():
    assert names("  - {type: relu, name: \"r${i * p}_$tag\", repeat: 3}\n") == ["r0_x", "r7_x", "r14_x"]


@pytest.mark.parametrize("name", ["conv-1.a", "é1", "٣x", "_x", "0", "a_b-c.d"])
def test_valid_names(name):
    assert names(f"  - {{type: relu, name: \"{name}\"}}\n") == [name]


@pytest.mark.parametrize("name", ["-x", ".x", "a b", "a/b", "a:b", "x\u00a0y", "a$", ""])
def test_invalid_names(name):
    with pytest.raises(cnncalc.SpecError) as info:
        names(f"  - {{type: relu, name: \"{name}\"}}\n")
    d = info.value.first
    assert d.rule == "invalid-value" and d.message.startswith("name must be letters, digits") and d.loc.line == 4
