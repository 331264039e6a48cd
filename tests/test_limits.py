"""Every cost a spec controls is bounded (cnncalc/limits.py): layers, connections and fan-in are
refused past their limit with a located error, and accepted up to it."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.limits import MAX_CONNECTIONS, MAX_FAN_IN, MAX_LAYERS


def first_error(text: str) -> cnncalc.Diagnostic:
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "big.yaml")
    return info.value.first


def test_layers_up_to_the_limit_are_analysed_and_one_more_is_refused():
    ok = f"input: [4, 4, 2]\nlayers:\n  - {{type: relu, repeat: {MAX_LAYERS}}}\n"
    assert len(cnncalc.analyse(cnncalc.loads(ok)).layers) == MAX_LAYERS
    d = first_error(ok.replace(str(MAX_LAYERS), str(MAX_LAYERS + 1)))
    assert (d.rule, d.loc.line) == ("too-large", 3) and f"the {MAX_LAYERS} layers" in d.message


def test_a_merge_reading_more_than_the_fan_in_limit_is_refused_at_its_inputs():
    def spec(n: int) -> str:
        return "input: [4, 4, 2]\nlayers:\n  - {type: relu, name: r}\n  - {type: concat, inputs: [" + \
            ", ".join(["r"] * n) + "]}\n"

    assert cnncalc.analyse(cnncalc.loads(spec(MAX_FAN_IN))).layers[-1].output_shape == (4, 4, 2 * MAX_FAN_IN)
    d = first_error(spec(MAX_FAN_IN + 1))
    assert (d.rule, d.loc.line, d.loc.col) == ("too-large", 4, 28)
    assert f"{MAX_FAN_IN + 1} inputs are more than the {MAX_FAN_IN} one layer may read" in d.message


def test_connections_are_counted_after_blocks_are_expanded():
    """A block of adds that each read every earlier layer, repeated: small to write, quadratic to run."""
    n = 100
    body = "".join(f"      - {{type: add, name: l{i}, inputs: [{', '.join(f'l{j}' for j in range(i))}]}}\n"
                   for i in range(2, n))
    per_block = sum(range(2, n))
    repeats = MAX_CONNECTIONS // per_block + 1
    text = (f"input: [4, 4, 2]\nblocks:\n  b:\n    layers:\n      - {{type: relu, name: l0}}\n"
            f"      - {{type: relu, name: l1}}\n{body}layers:\n  - {{block: b, repeat: {repeats}}}\n")
    d = first_error(text)
    assert d.rule == "too-large" and f"more than {MAX_CONNECTIONS} layer inputs" in d.message
    assert d.loc.line > 6  # at the `inputs` of the add that went over
    fewer = text.replace(f"repeat: {repeats}}}", f"repeat: {repeats - 1}}}")
    assert len(cnncalc.analyse(cnncalc.loads(fewer)).layers) == n * (repeats - 1)


def test_did_you_mean_hints_stop_when_their_comparison_budget_is_spent():
    """A thousand misspelt references among 9,000 layer names: each hint compares every name (~0.15 s),
    so only the first few get one; every reference is still reported."""
    lines = ["input: [4, 4, 2]", "layers:", "  - {type: relu, repeat: 9000, name: block}"]
    lines += [f"  - {{type: add, inputs: [block.{i}, blok.{i}]}}" for i in range(300)]
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads("\n".join(lines) + "\n", "refs.yaml")
    found = [d for d in info.value.diagnostics if d.rule == "unknown-reference"]
    assert len(found) == 300
    assert found[0].message == "add1: unknown layer 'blok.0' in inputs; did you mean 'block.0'?"
    assert found[-1].message == "add300: unknown layer 'blok.299' in inputs"


def test_verify_refuses_a_model_too_big_to_build_before_importing_a_framework():
    from cnncalc.export.verify import verify

    a = cnncalc.analyse(cnncalc.loads("name: big\ninput: 2048x2048x64\nlayers:\n"
                                      "  - {type: conv2d, filters: 64, kernel: 3, padding: 1}\n  - relu\n", "v.yaml"))
    with pytest.raises(cnncalc.SpecError) as info:
        verify(a, "torch")
    d = info.value.first
    assert (d.rule, d.loc.line, d.loc.col) == ("too-large", 2, 8)
    # 3 tensors of 2048·2048·64 float32 values (input, conv, relu) and 36,928 weights
    assert "about 3.2 GB (weights 0.0 GB + activations 3.2 GB" in d.message



def test_layers_made_by_blocks_count_once_and_block_uses_not_at_all():
    block = "input: [4, 4, 2]\nblocks:\n  b: {layers: [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]}\n"
    ok = block + f"layers:\n  - {{block: b, repeat: {MAX_LAYERS // 10}}}\n"
    assert len(cnncalc.analyse(cnncalc.loads(ok)).layers) == MAX_LAYERS
    d = first_error(ok + "  - relu\n")
    assert (d.rule, d.loc.line, d.message) == ("too-large", 6, f"the spec has more than {MAX_LAYERS} layers")
