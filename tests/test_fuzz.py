"""Property-based tests: random valid specs obey the slides' formulas; random corruptions of them
never crash cnncalc and every problem is located inside the file; output is deterministic.

CI runs a short campaign (CNNCALC_FUZZ_EXAMPLES, default 60 per property); the long campaign
recorded in the README ran tests/fuzz_campaign.py.
"""

from __future__ import annotations

import json
import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.lint import check_text
from cnncalc.yamlio import decode

EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES < 1000,
                suppress_health_check=list(HealthCheck))


# ---- random valid specs, with the shapes and counts the slides' formulas give ---------------------

def spec_text(layers, inp, style):
    if style == "flow":
        body = "".join(f"  - {json.dumps(layer)}\n" for layer in layers)
        return f"name: fuzz\ninput: {json.dumps(inp)}\nlayers:\n{body}"
    import yaml

    return yaml.safe_dump({"name": "fuzz", "input": inp, "layers": layers}, sort_keys=False)


@st.composite
def valid_specs(draw):
    """(spec text, expected [(output shape, params, MACs)] per layer by the slides' formulas)."""
    h, w, c = draw(st.integers(1, 48)), draw(st.integers(1, 48)), draw(st.integers(1, 8))
    inp = [h, w, c]
    layers, expected = [], []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "bn", "relu", "dropout"]))
        if kind == "conv":
            f, s = draw(st.integers(1, 16)), draw(st.integers(1, 3))
            mode = draw(st.sampled_from(["int", "same", "valid"]))
            p = draw(st.integers(0, 2)) if mode == "int" else 0
            room = min(h, w) + 2 * p  # the kernel must fit the padded input
            k = draw(st.integers(1, min(room, 5))) if mode != "same" else draw(st.integers(1, 5))
            bias = draw(st.booleans())
            layers.append({"type": "conv2d", "filters": f, "kernel": k, "stride": s, "bias": bias,
                           "padding": p if mode == "int" else mode})
            if mode == "same":  # TensorFlow SAME: ⌈I/S⌉
                oh, ow = -(-h // s), -(-w // s)
            else:  # the slides' (N − F + 2P)/S + 1, floored
                oh, ow = (h - k + 2 * p) // s + 1, (w - k + 2 * p) // s + 1
            params = f * (k * k * c + (1 if bias else 0))  # slides: F·(K·K·C + 1)
            macs = oh * ow * f * k * k * c
            h, w, c = oh, ow, f
        elif kind == "pool":
            k = draw(st.integers(1, min(h, w, 4)))
            s = draw(st.integers(1, 3))
            p = draw(st.integers(0, k // 2))  # PyTorch: padding at most half the kernel
            layers.append({"type": draw(st.sampled_from(["max_pool2d", "avg_pool2d"])), "kernel": k,
                           "stride": s, "padding": p})
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            params = macs = 0
        elif kind == "bn":
            layers.append({"type": "batch_norm"})
            params, macs = 4 * c, 0  # gamma, beta + moving mean and variance
        else:
            layers.append({"type": kind})
            params = macs = 0
        expected.append(((h, w, c), params, macs))
    if draw(st.booleans()):
        units = draw(st.integers(1, 20))
        n = h * w * c
        layers += [{"type": "flatten"}, {"type": "dense", "units": units}]
        expected += [((n,), 0, 0), ((units,), units * (n + 1), n * units)]
    return spec_text(layers, inp, draw(st.sampled_from(["flow", "block"]))), expected


@FUZZ
@given(valid_specs())
def test_valid_specs_follow_the_formulas(case):
    check_valid(case)


def check_valid(case) -> None:
    text, expected = case
    a = cnncalc.analyse(cnncalc.loads(text, "fuzz.yaml"))
    got = [(tuple(layer.output_shape), layer.params, layer.macs) for layer in a.layers]
    assert got == expected
    assert a.totals["params"] == sum(p for _, p, _ in expected)
    # no errors, and the only warnings are the documented ones
    assert {d.rule for d in check_text(text, "fuzz.yaml")} <= {"stride-not-fitting"}


# ---- corruptions ---------------------------------------------------------------------------------

JUNK = ["-1", "0", "2.5", "true", "null", "'8'", "[]", "{}", "[1, [2]]", "10000000000000", "1e999", "-.inf",
        ".nan", "$nope", "${1/0}", "${'a' + 1}", "!!python/object:os.system ls", "&a x", "*a", "*undefined",
        "\"\\x00\"", "{type: conv2d}", "conv2d", "same", "9" * 30, "0x" + "f" * 30, "~", "|\n  text", ">-", "?",
        "@", "`", "%YAML 1.1", "---", "...", "\t", "[" * 80, "{a: " * 70, "<<: *a", "2x2x2", "-3x3"]
KEYS = ["type", "name", "inputs", "repeat", "if", "expect", "filters", "kernal", "kernel", "stride", "padding",
        "units", "block", "blocks", "params", "input", "layers", "layout", "output_shape", "params"]


@st.composite
def corruptions(draw):
    text, _ = draw(valid_specs())
    data = text.encode()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert_junk", "insert_bytes", "replace_value", "duplicate_line",
                                   "truncate", "swap_lines", "add_key", "expect"]))
        lines = data.split(b"\n")
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        pos = draw(st.integers(0, len(data)))
        if op == "delete":
            data = data[:pos] + data[pos + draw(st.integers(1, 10)):]
        elif op == "insert_junk":
            data = data[:pos] + draw(st.sampled_from(JUNK)).encode() + data[pos:]
        elif op == "insert_bytes":
            data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
        elif op == "replace_value":
            line = lines[i]
            cut = line.find(b":")
            if cut >= 0:
                lines[i] = line[:cut + 1] + b" " + draw(st.sampled_from(JUNK)).encode()
            data = b"\n".join(lines)
        elif op == "duplicate_line":
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif op == "truncate":
            data = data[:pos]
        elif op == "swap_lines":
            j = draw(st.integers(0, max(len(lines) - 1, 0)))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == "add_key":
            key, value = draw(st.sampled_from(KEYS)), draw(st.sampled_from(JUNK))
            data = data.replace(b"{", f"{{{key}: {value}, ".encode(), 1) if b"{" in data else \
                data + f"\n{key}: {value}\n".encode()
        else:
            value = draw(st.sampled_from(["{params: 7}", "{output_shape: 1x1x1}", "{macs: -1}", "{prams: 1}",
                                          "{flops: 0, output_shape: [1, 2]}", "[1]", "{}"]))
            data = data.replace(b"}", f", expect: {value}}}".encode(), 1) if b"}" in data else \
                data + f"\nexpect: {value}\n".encode()
    return data


def _inside(d, text: str) -> bool:
    lines = text.split("\n")
    return d.loc.file == "c.yaml" and 1 <= d.loc.line <= len(lines) and 1 <= d.loc.col <= len(lines[d.loc.line - 1]) + 2


def _lint_bytes(data: bytes) -> tuple[str, list]:
    try:
        text = decode(data, "c.yaml")
    except cnncalc.SpecError as err:
        return data.decode("utf-8", "replace"), err.diagnostics
    return text, check_text(text, "c.yaml")


@FUZZ
@given(corruptions())
def test_corrupted_specs_never_crash_and_errors_are_located(data):
    check_corrupted(data)


def check_corrupted(data: bytes) -> None:
    text, diags = _lint_bytes(data)  # any exception here fails the test
    for d in diags:
        assert d.severity in ("error", "warning") and d.rule and d.message
        assert "\n" not in d.format()
        if d.rule != "invalid-encoding":  # located in bytes, checked below
            assert _inside(d, text), (d.format(), text)
    again = _lint_bytes(data)[1]
    assert [d.format() for d in again] == [d.format() for d in diags]  # deterministic


@settings(max_examples=max(EXAMPLES // 10, 5), deadline=None, database=None, derandomize=EXAMPLES < 1000,
          suppress_health_check=list(HealthCheck))
@given(corruptions())
def test_cli_never_prints_a_traceback(tmp_path_factory, data):
    from click.testing import CliRunner

    from cnncalc.cli import main

    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_bytes(data)
    for cmd in (["lint", str(path)], ["show", str(path)]):
        result = CliRunner().invoke(main, cmd)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1)


def test_formula_helper_is_not_trivial():
    """The generator's expectations are not all zero (a property over nothing would pass vacuously)."""
    from hypothesis import find

    text, expected = find(valid_specs(), lambda c: any(m > 0 for _, _, m in c[1]))
    assert math.prod(expected[0][0]) > 0 and "conv2d" in text
