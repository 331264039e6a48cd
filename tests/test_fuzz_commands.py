"""Property-based tests over every command and output format: random valid, corrupted and hostile
specs (hostile network names, layer types and file names) through show (table, json, markdown, csv,
--explain), lint (text, json, github), check, diagram (SVG, Mermaid), export (PyTorch, Keras) and
verify, and random calculator arguments and worked examples. Every run must end without a traceback,
within 2 s of CPU, with output that is only visible text and well-formed in its format (JSON parses,
SVG is XML, generated code parses and holds spec text only inside string literals).

CI runs a short campaign (CNNCALC_FUZZ_EXAMPLES); the long one is `tests/fuzz_campaign.py commands`.
"""

from __future__ import annotations

import ast
import atexit
import csv
import io
import json
import os
import re
import shutil
import signal
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ, corruptions, valid_specs

CPU_LIMIT = 2.0  # seconds of CPU per command (verify: after PyTorch is imported)
HANG = 30  # seconds of wall time after which a command counts as hung (the machine may be loaded)

# characters that act somewhere when printed raw, and ordinary ones
ACTING = list("\x1b\n\r\t\x00\x07\x08\x7f\x85\x9b\u2028\u2029\u202e\u2066\u200b\ufeff[]<>|`*_&\"'%:,#{}$\\/")
TEXT = st.text(st.sampled_from(ACTING) | st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)


try:
    import importlib.util

    HAVE_TORCH = importlib.util.find_spec("torch") is not None
except ValueError:  # pragma: no cover
    HAVE_TORCH = False


@dataclass
class Case:
    args: list[str]  # the command line, with {f} for the spec file
    fmt: str  # what the output must parse as
    text: bytes | None = None  # the spec file's content
    file: str = "c.yaml"  # its name
    name: str = ""  # a hostile network name written into the spec, if any
    input: str | None = None  # standard input


SPEC_COMMANDS = [  # (arguments, output format)
    (["show", "{f}"], "table"), (["show", "{f}", "-f", "json"], "json"), (["show", "{f}", "-f", "markdown"], "markdown"),
    (["show", "{f}", "-f", "csv"], "csv"), (["show", "{f}", "--explain"], "table"),
    (["show", "{f}", "-f", "json", "--explain"], "json"), (["show", "{f}", "-f", "markdown", "--explain"], "markdown"),
    (["show", "{f}", "--columns", "all", "-b", "8"], "table"), (["lint", "{f}"], "lint"),
    (["lint", "--format", "json", "{f}"], "json"), (["lint", "--format", "github", "{f}"], "github"),
    (["lint", "--strict", "{f}"], "lint"), (["check", "{f}"], "check"), (["diagram", "{f}"], "svg"),
    (["diagram", "{f}", "--width", "0"], "svg"), (["diagram", "{f}", "-f", "mermaid"], "mermaid"),
    (["export", "{f}", "--to", "pytorch"], "python"), (["export", "{f}", "--to", "keras"], "python"),
    (["show", "{f}", "--convention", "fvcore", "-f", "json"], "json"),
]


def _yaml_string(draw, text: str) -> str:
    return json.dumps(text, ensure_ascii=draw(st.booleans()))  # escapes, or the characters themselves


@st.composite
def hostile_specs(draw) -> tuple[bytes, str]:
    """A valid spec with a hostile network name, and sometimes a hostile layer type or key."""
    text, _ = draw(valid_specs())
    name = draw(TEXT)
    text = text.replace("name: fuzz", f"name: {_yaml_string(draw, name)}", 1)
    if draw(st.booleans()):
        junk = _yaml_string(draw, draw(TEXT))
        text = draw(st.sampled_from([text.replace("type: relu", f"type: {junk}", 1),
                                     text.replace("type: conv2d", f"{junk}: 1, type: conv2d", 1),
                                     text + f"description: {junk}\n"]))
    return text.encode("utf-8", "surrogatepass"), name


FILE_NAMES = st.one_of(st.just("c.yaml"), TEXT.map(lambda t: t.replace("/", "").replace("\x00", "")[:60] + ".yaml"))


@st.composite
def spec_cases(draw) -> Case:
    which = draw(st.sampled_from(["valid", "corrupt", "hostile"]))
    name = ""
    if which == "valid":
        data = draw(valid_specs())[0].encode()
    elif which == "corrupt":
        data = draw(corruptions())
    else:
        data, name = draw(hostile_specs())
    args, fmt = draw(st.sampled_from(SPEC_COMMANDS))
    if which != "corrupt" and HAVE_TORCH and draw(st.integers(0, 24)) == 0:  # the real framework agrees
        args, fmt = ["verify", "{f}"], "verify-valid" if which == "valid" else "verify"
    return Case(list(args), fmt, data, draw(FILE_NAMES), name)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, percent: int = 85) -> st.SearchStrategy:
    """`good` most of the time, `bad` otherwise (so that most cases get past the argument checks)."""
    return st.integers(0, 99).flatmap(lambda n: good if n < percent else bad)


BAD_NUMBER = st.one_of(st.integers(-3, 0).map(str), st.integers(0, 2**70).map(str), st.sampled_from(
    ["1e3", "2.5", "x", "", "9" * 30, "9" * 5000, "16777216", "16777217", "3x3", "3,5", "nan", "-0", "+2"]))
NUMBER = mostly(st.integers(1, 12).map(str), BAD_NUMBER)
SHAPE = mostly(st.lists(st.integers(1, 40), min_size=3, max_size=3).map(lambda d: "x".join(map(str, d))),
               st.lists(NUMBER, min_size=1, max_size=4).map("x".join))
PADDING = mostly(st.integers(0, 3).map(str), st.one_of(BAD_NUMBER, st.sampled_from(
    ["same", "valid", "1,2", "0,1,2,3", "2000", "SAME", "1x1x1"])), 70)
VALUE = mostly(st.integers(-9, 9).map(str), st.sampled_from(["0.5", "-2.25", "1e15", "1e16", "1e308", "x", "nan",
                                                             "inf", "9" * 50, "-0", "1_000"]), 95)


@st.composite
def matrices(draw, rows: int | None = None, cols: int | None = None, channels: int | None = None) -> str:
    rows, cols = rows or draw(st.integers(1, 9)), cols or draw(st.integers(1, 9))
    channels = channels or draw(mostly(st.just(1), st.integers(2, 3), 80))
    text = " | ".join("; ".join(" ".join(draw(VALUE) for _ in range(cols)) for _ in range(rows))
                      for _ in range(channels))
    return draw(mostly(st.just(text), st.sampled_from(["[[1, 2], [3, 4]]", "1 2; 3", "", "# a comment", "1 2\n\n3 4"]),
                       90))


@st.composite
def calculator_cases(draw) -> Case:
    fmt = draw(st.sampled_from(["text", "json", "markdown"]))
    tail = ["-f", fmt] + (["--explain"] if draw(st.booleans()) else [])
    kind = draw(st.sampled_from(["conv", "pool", "dense", "size", "solve", "conv-values", "pool-values"]))
    opt = lambda flag, strategy: [flag, draw(strategy)] if draw(st.booleans()) else []  # noqa: E731
    if kind == "conv":
        args = ["conv", "-i", draw(SHAPE), "-n", draw(NUMBER), "-k", draw(NUMBER), *opt("-s", NUMBER),
                *opt("-p", PADDING), *opt("-d", NUMBER), *opt("-g", NUMBER),
                *opt("--layout", st.sampled_from(["channels_first", "channels_last"]))]
    elif kind == "pool":
        args = ["pool", "-i", draw(SHAPE), "-k", draw(NUMBER), *opt("-s", NUMBER), *opt("-p", PADDING),
                *opt("--type", st.sampled_from(["max", "avg"])), *(["--ceil-mode"] if draw(st.booleans()) else [])]
    elif kind == "dense":
        args = ["dense", "--in", draw(NUMBER), "--out", draw(NUMBER)]
    elif kind == "size":
        args = ["size", *draw(st.lists(NUMBER, min_size=2, max_size=4))]
    elif kind == "solve":
        args = ["solve", "--input", draw(NUMBER), "--output", draw(NUMBER), *opt("--kernel", NUMBER),
                *opt("--stride", NUMBER), *opt("--padding", NUMBER), *opt("--dilation", NUMBER)]
    elif kind == "conv-values":
        channels = draw(st.integers(1, 2))
        args = ["conv", "--values", draw(matrices(channels=channels)), "--kernel-values",
                draw(matrices(draw(st.integers(1, 4)), draw(st.integers(1, 4)), channels)), *opt("-s", NUMBER),
                *opt("-p", PADDING), *opt("-d", NUMBER)]
    else:
        args = ["pool", "--values", draw(matrices()), "-k", draw(mostly(st.integers(1, 4).map(str), NUMBER)),
                *opt("-s", NUMBER), *opt("-p", PADDING),
                *opt("--type", st.sampled_from(["max", "avg"])), *(["--ceil-mode"] if draw(st.booleans()) else [])]
    return Case(args + tail, {"text": "calc", "json": "json", "markdown": "calc"}[fmt])


def command_cases() -> st.SearchStrategy[Case]:
    return st.one_of(spec_cases(), spec_cases(), calculator_cases())


# ---- the checks -------------------------------------------------------------------------------------

DIAGNOSTIC = re.compile(r"^.+:\d+:\d+: (error|warning): .+ \[[a-z-]+\]$")


def visible_only(text: str, what: str) -> None:
    bad = {ch for ch in text if not ch.isprintable() and ch != "\n"}
    assert not bad, f"{what} holds {sorted(map(repr, bad))}: {text[:300]!r}"


def _emptied(code: str) -> str:
    """The code Python would run: every string constant emptied."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.unparse(tree)


def check_format(case: Case, out: str, status: int) -> None:
    fmt = case.fmt
    if fmt == "json" and (status == 0 or case.args[0] == "lint"):
        json.loads(out)
    elif fmt == "lint":
        assert all(DIAGNOSTIC.match(line) for line in out.splitlines()), out
    elif fmt == "github":
        assert all(re.match(r"^::(error|warning) file=[^\n]*,line=\d+,col=\d+,title=cnncalc [a-z-]+::.+ \[[a-z-]+\]$",
                            line) for line in out.splitlines()), out
    elif fmt == "svg" and status == 0:
        ET.fromstring(out)
    elif fmt == "mermaid" and status == 0:
        for line in out.splitlines():
            assert re.fullmatch(r'flowchart LR|    n\d+\["[^"\n]*"\]|    n\d+ --> n\d+', line), line
    elif fmt == "csv" and status == 0:
        rows = list(csv.reader(io.StringIO(out)))
        assert len({len(row) for row in rows}) == 1, out
    elif fmt == "markdown" and status == 0:
        heading = out.split("\n", 1)[0]
        assert heading.startswith("### ") and not re.search(r"<[a-zA-Z!/]|(?<!\\)[|`]", heading[4:]), heading
    elif fmt == "python" and status == 0:
        tree = ast.parse(out)
        assert isinstance(tree.body[0], ast.Expr)  # the docstring comes first
        runnable = _emptied(out)
        assert runnable.isascii() or case.name == ""  # identifiers are ASCII
        if len(case.name) >= 3 and not case.name.isidentifier():
            assert case.name not in runnable
    elif fmt == "table" and status == 0:
        assert "Total" in out or not out
    elif fmt == "verify-valid":  # a spec the slides' formulas describe: PyTorch agrees layer by layer
        assert status == 0 and "layers agree" in out, out


class Hang(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only when a command hangs
    raise Hang(f"no answer within {HANG} s")


def run_case(case: Case, directory: str) -> tuple[int, float]:
    """Run one case; returns its exit status and the CPU seconds it took. Raises AssertionError on
    any failed property."""
    from click.testing import CliRunner

    from cnncalc.cli import main

    path = None
    args = case.args
    if case.text is not None:
        path = os.path.join(directory, case.file)
        with open(path, "wb") as f:
            f.write(case.text)
        args = [a.replace("{f}", path) for a in args]
    if args[0] == "verify":
        import torch  # noqa: F401  (imported once, before the clock starts)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG)
    start = time.process_time()
    try:
        r = CliRunner().invoke(main, args, input=case.input)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        if path:
            os.unlink(path)
    cpu = time.process_time() - start
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback

        raise AssertionError(f"{args}: {''.join(traceback.format_exception(r.exception))}")
    assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.output)
    assert "Traceback" not in r.output, r.output
    visible_only(r.stdout, "stdout")
    visible_only(r.stderr, "stderr")
    check_format(case, r.stdout, r.exit_code)
    assert cpu < CPU_LIMIT, f"{args}: {cpu:.2f} s of CPU"
    return r.exit_code, cpu


_DIR = tempfile.mkdtemp(prefix="cnncalc-fuzz-")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


@FUZZ
@given(command_cases())
def test_every_command_and_format_answers_visibly_and_well_formed(case):
    run_case(case, _DIR)


def test_the_generators_reach_every_command_and_hostile_text():
    """Not vacuous: the strategies produce hostile names, every spec command and every calculator."""
    from hypothesis import find

    assert any(ch in find(hostile_specs(), lambda c: "\x1b" in c[1])[1] for ch in "\x1b")
    for args, _ in SPEC_COMMANDS[:3]:
        assert find(spec_cases(), lambda c, a=args: c.args == a).args == args
    for kind in ("conv", "pool", "dense", "size", "solve"):
        assert find(calculator_cases(), lambda c, k=kind: c.args[0] == k).args[0] == kind
