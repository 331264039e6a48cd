"""The terminal `show` table of render/ansi.py is byte for byte what rich writes.

The reference is always rich itself: print_table(a, render.table.console()) with sys.stdout
replaced by a stream that says it is a terminal, under the same environment, or the real command
in a pseudo-terminal.
"""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import cnncalc
from cnncalc.commands import common
from cnncalc.render import ansi
from cnncalc.render.ansi import table_ansi, terminal_mode
from cnncalc.render.plain import _sgr, _summary, layout, table_text
from cnncalc.render.table import print_table

ROOT = Path(__file__).resolve().parent.parent
ARCH = sorted((ROOT / "architectures").glob("*.yaml"))
ENV_VARS = ("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
            "JUPYTER_COLUMNS")


class Stream(io.StringIO):
    def __init__(self, tty: bool = True, encoding: str | None = "utf-8"):
        super().__init__()
        self._tty, self._encoding = tty, encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        return self._encoding


@pytest.fixture(autouse=True)
def terminal(monkeypatch):
    """A clean environment and a fake os.get_terminal_size, shared by rich and ansi, so that the
    terminal pytest may run in does not leak in. Set `sizes[fd] = (columns, lines)` to give fd a size."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    sizes: dict[int, tuple[int, int]] = {}

    def get_terminal_size(fd: int = 1) -> os.terminal_size:
        if fd not in sizes:
            raise OSError(25, "Inappropriate ioctl for device")
        return os.terminal_size(sizes[fd])

    monkeypatch.setattr(os, "get_terminal_size", get_terminal_size)
    return sizes


def rich_bytes(a, tty: bool = True, encoding: str | None = "utf-8") -> str:
    stream = Stream(tty, encoding)
    saved, sys.stdout = sys.stdout, stream
    try:
        print_table(a, common.console())
    finally:
        sys.stdout = saved
    return stream.getvalue()


def ours(a, tty: bool = True, encoding: str | None = "utf-8") -> str | None:
    return table_ansi(a, Stream(tty, encoding))


def _plain(text: str) -> str:
    """`text` without its SGR escape codes."""
    import re

    return re.sub("\x1b\\[[0-9;]*m", "", text)


def total_width(a) -> int:
    L = layout(a, 10**6)
    assert L is not None
    return L.total


def net(name: str = "net", layer: str = "conv1", filters: int = 8, units: int = 10, repeat: int = 1):
    return cnncalc.analyse(cnncalc.loads(f"""name: {name}
input: [8, 8, 3]
blocks:
  b:
    layers:
      - {{type: conv2d, filters: {filters}, kernel: 3, padding: 1}}
      - {{type: relu}}
layers:
  - {{type: conv2d, name: {layer}, filters: {filters}, kernel: 3, padding: 1}}
  - {{block: b, name: stage, repeat: {repeat}}}
  - {{type: batch_norm, affine: false}}
  - {{type: flatten}}
  - {{type: dense, units: {units}}}
"""))


def net80():
    """A table exactly 80 columns wide: it fits a default terminal, with the summary lines wrapped."""
    return net(layer="l" * (80 - total_width(net(layer="l")) + 1))


@pytest.mark.parametrize("path", ARCH, ids=lambda p: p.stem)
def test_architectures_match_rich(archs, monkeypatch, path):
    a = archs[path.stem]
    edge = total_width(a)
    for width in (200, edge):  # roomy; and just fits, the summary lines wrapped
        monkeypatch.setenv("COLUMNS", str(width))
        text = ours(a)
        assert text is not None and "\x1b[36m" in text
        assert text == rich_bytes(a), width
    monkeypatch.setenv("COLUMNS", str(edge - 1))  # a column narrowed (tests/test_narrow_table.py compares those)
    text = ours(a)
    assert text is not None and max(len(_plain(line)) for line in text.splitlines()) == edge - 1


def test_colour_systems_write_the_same_codes(archs, monkeypatch):
    a = archs["cifar_net"]
    monkeypatch.setenv("COLUMNS", "120")
    expected = ours(a)
    for term, colorterm in (("xterm-256color", ""), ("xterm-16color", ""), ("xterm-kitty", ""), ("vt100", ""),
                            ("xterm", "truecolor"), ("", "24bit"), ("", "")):
        monkeypatch.setenv("TERM", term)
        monkeypatch.setenv("COLORTERM", colorterm)
        assert ours(a) == expected == rich_bytes(a), (term, colorterm)


@pytest.mark.parametrize("env, tty, width, styled", [
    ({"NO_COLOR": "1"}, True, 120, "no cyan"),
    ({"TERM": "dumb"}, True, 80, "bare"),  # width 80 whatever COLUMNS says, unless LINES is set too
    ({"TERM": "UNKNOWN", "COLUMNS": "150"}, True, 80, "bare"),
    ({"TERM": "dumb", "COLUMNS": "150", "LINES": "40"}, True, 150, "bare"),
    ({"FORCE_COLOR": "1"}, False, 200, "full"),  # piped but forced: console()'s width 200
    ({"FORCE_COLOR": "1", "TERM": "dumb"}, False, 80, "bare"),  # rich's dumb check beats the explicit width
    ({"FORCE_COLOR": "1", "TERM": "dumb", "LINES": "5"}, False, 200, "bare"),
    ({"TTY_COMPATIBLE": "2", "FORCE_COLOR": "yes"}, False, 200, "full"),  # only 0 and 1 mean anything
    ({"TTY_COMPATIBLE": "", "NO_COLOR": "x"}, True, 120, "no cyan"),
    ({"COLUMNS": "abc"}, True, 80, "full"),
    ({"COLUMNS": "0"}, True, 0, None),  # rich sets width 0 and shrinks everything
    ({"COLUMNS": "95", "LINES": "x"}, True, 95, "full"),
    ({"COLUMNS": "201"}, False, 200, "bare"),  # plain stream: console() fixes the width
])
def test_environment_variants_match_rich(monkeypatch, env, tty, width, styled):
    a = net80()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if "COLUMNS" not in env:
        monkeypatch.setenv("COLUMNS", str(width))
    mode = terminal_mode(Stream(tty))
    assert mode is not None and mode[1] == width
    text = ours(a, tty)
    if styled is None:
        assert text is None
        return
    assert text is not None and text == rich_bytes(a, tty)
    assert ("\x1b[" in text) is (styled != "bare")
    assert ("\x1b[36m" in text) is (styled == "full")


@pytest.mark.parametrize("env", [{"FORCE_COLOR": ""}, {"NO_COLOR": ""}, {"TTY_COMPATIBLE": "0"},
                                 {"TTY_COMPATIBLE": "1"}, {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}])
def test_rules_that_changed_in_rich_14_are_left_to_rich(monkeypatch, env):
    # before rich 14 FORCE_COLOR="" forced colour and NO_COLOR="" removed it; TTY_COMPATIBLE is new
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("COLUMNS", "200")
    assert ours(net(), tty=True) is None and ours(net(), tty=False) is None


def test_width_comes_from_stdin_first_then_stdout_then_stderr(terminal, monkeypatch):
    a = net80()
    fds = ansi._std_fds()
    assert ours(a) is not None and terminal_mode(Stream())[1] == 80  # nothing is a terminal: 80
    terminal[fds[2]] = (90, 20)
    assert terminal_mode(Stream())[1] == 90
    terminal[fds[1]] = (120, 30)
    assert terminal_mode(Stream())[1] == 120
    terminal[fds[0]] = (100, 30)
    assert terminal_mode(Stream())[1] == 100
    assert ours(a) == rich_bytes(a)
    terminal[fds[0]] = (0, 0)  # a pty nobody sized
    assert terminal_mode(Stream())[1] == 80 and ours(a) == rich_bytes(a)
    monkeypatch.setenv("COLUMNS", "110")  # COLUMNS beats the measured size
    assert terminal_mode(Stream())[1] == 110 and ours(a) == rich_bytes(a)


def test_generated_tables_around_their_width(monkeypatch):
    cases = [net(), net(name="x"), net(layer="l" * 60), net(filters=4096, units=100_000),
             net(name="ResNet-50 (v1.5), 224x224 (a long title, wider than short tables)", layer="l" * 40),
             net(name='"trailing spaces   "'), net(repeat=150)]
    for a in cases:
        edge = total_width(a)
        for width in (edge - 1, edge, edge + 1, edge + 17, 131) if len(a.layers) < 100 else (edge,):
            monkeypatch.setenv("COLUMNS", str(width))
            text = ours(a)  # one column narrower than its text at edge - 1; a long title wrapped
            assert text is not None and text == rich_bytes(a), (a.name, width)


def test_summary_lines_wrap_like_rich(monkeypatch):
    a = net(filters=4096, units=100_000)
    edge = total_width(a)
    macs = table_text(a).splitlines()[-1]
    assert edge < len(macs)
    for width in range(edge, len(macs) + 2):
        monkeypatch.setenv("COLUMNS", str(width))
        text = ours(a)
        assert text is not None and text == rich_bytes(a), width


def test_word_wrap_is_riches(monkeypatch):
    """plain._summary against rich's Console.print of text with a [dim] part, on random words."""
    import random

    from rich.console import Console

    rnd = random.Random(7)
    checked = 0
    for _ in range(300):
        words = ["".join(rnd.choice("abc,.()`-x0123456789") for _ in range(rnd.randint(1, 14)))
                 for _ in range(rnd.randint(1, 14))]
        gaps = [" " * rnd.choice((1, 1, 2, 3)) for _ in words]
        text = "".join(w + g for w, g in zip(words, gaps, strict=True)).rstrip(" ")
        cut = rnd.randint(0, len(words))  # the [dim] part starts at a word, or is empty
        dim = len("".join(w + g for w, g in zip(words[:cut], gaps[:cut], strict=True))) if cut < len(words) else len(text)
        width = rnd.randint(5, 60)
        lines = _summary([(text, dim)], width)
        if lines is None:  # a word wider than the line: rich folds it
            assert max(len(w) for w in words) > width
            continue
        buf = io.StringIO()
        Console(file=buf, force_terminal=True, color_system="standard", width=width, highlight=False,
                soft_wrap=False).print(text[:dim] + "[dim]" + text[dim:] + "[/dim]", highlight=False)
        assert "".join(p + _sgr("2", d) + "\n" for p, d in lines) == buf.getvalue(), (text, dim, width)
        checked += 1
    assert checked > 150


def test_title_exactly_as_wide_as_the_table(monkeypatch):
    a = net(layer="l" * 20)
    edge = total_width(a)
    a = net(name="n" * (edge - len("  input 8x8x3 (channels_last)")), layer="l" * 20)
    monkeypatch.setenv("COLUMNS", str(edge + 5))
    text = ours(a)
    assert text is not None and text.splitlines()[0].endswith("(channels_last)\x1b[0m")
    assert text == rich_bytes(a)
    a = net(name="n" * (edge + 1 - len("  input 8x8x3 (channels_last)")), layer="l" * 20)
    text = ours(a)  # one wider: rich wraps the title before its last word
    assert text is not None and text.splitlines()[1].startswith("\x1b[2;3m(channels_last)\x1b[0m")
    assert text == rich_bytes(a)


@pytest.mark.parametrize("name", ["net [v2]", "smile :smile: net", "Größe", "tab\\there"])
def test_markup_emoji_and_unicode_fall_back_to_rich(monkeypatch, name):
    monkeypatch.setenv("COLUMNS", "200")
    assert ours(net(name=f'"{name}"')) is None


def test_unmodelled_environments_fall_back_to_rich(monkeypatch):
    import builtins

    a = net()
    monkeypatch.setenv("COLUMNS", "200")
    assert ours(a) is not None
    assert ours(a, encoding="ascii") is None  # rich draws an ASCII box
    assert ours(a, encoding="latin-1") is None
    assert ours(a, encoding=None) is not None and ours(a, encoding=None) == rich_bytes(a, encoding=None)
    proxied = Stream()
    proxied.rich_proxied_file = Stream()  # type: ignore[attr-defined]
    assert table_ansi(a, proxied) is None
    monkeypatch.setenv("COLUMNS", "²")  # rich raises on it
    assert ours(a) is None
    monkeypatch.setenv("COLUMNS", "200")
    with monkeypatch.context() as m:
        m.setattr(builtins, "get_ipython", lambda: None, raising=False)
        assert ours(a) is None
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", "win32")
        assert ours(a) is None
    with monkeypatch.context() as m:
        idle = type("PseudoInputFile", (), {"__module__": "idlelib.run"})()
        m.setattr(sys, "stdin", idle)
        assert ours(a) is None

    class Closed(Stream):
        def isatty(self) -> bool:
            raise ValueError("I/O operation on closed file")

    assert table_ansi(a, Closed()) is None


def test_module_imports_nothing_heavy():
    """At run time render/ansi.py and render/plain.py import only os, sys and cnncalc modules."""
    for mod in ("ansi", "plain"):
        tree = ast.parse((ROOT / "cnncalc" / "render" / f"{mod}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                assert {n.name for n in node.names} <= {"os", "sys"}, mod
            elif isinstance(node, ast.ImportFrom):
                assert node.level > 0 or node.module == "__future__", (mod, node.module)


# ---- the real command in a pseudo-terminal ------------------------------------------------------

RICH_CHILD = """\
import sys
import cnncalc
from cnncalc.render.table import console
from cnncalc.render.table import print_table
print_table(cnncalc.analyse(sys.argv[1]), console())
"""


def in_pty(args: list[str], columns: int, stdin_tty: bool = True, env: dict[str, str] | None = None,
           ) -> tuple[bytes, str]:
    """(what the terminal receives, stderr) of a child whose stdout is a pty `columns` wide."""
    import fcntl
    import pty
    import struct
    import termios
    import tty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    tty.setraw(slave)  # the bytes as written, without the line discipline's \n -> \r\n
    child_env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "PYTHONPROFILEIMPORTTIME"}
    child_env.update({"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}, **(env or {}))
    with open(os.devnull, "rb") as devnull, tempfile.TemporaryFile() as err:  # a file: stderr never blocks
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=child_env, stdout=slave,
                                stdin=slave if stdin_tty else devnull, stderr=err)
        os.close(slave)
        out = bytearray()
        try:
            while chunk := os.read(master, 65536):
                out += chunk
        except OSError:  # EIO: the child closed the terminal
            pass
        proc.wait(60)
        os.close(master)
        err.seek(0)
        stderr = err.read().decode()
    assert proc.returncode == 0, stderr
    return bytes(out), stderr


def imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


pty_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pty_only
def test_command_in_a_terminal_writes_riches_bytes_without_rich():
    path = "architectures/alexnet.yaml"
    ours_out, stderr = in_pty(["-X", "importtime", "-m", "cnncalc", "show", path], 120)
    assert "rich" not in imported(stderr) and "cnncalc.render.ansi" in imported(stderr)
    assert b"\x1b[1m" in ours_out and b"\x1b[36m" in ours_out
    rich_out, _ = in_pty(["-c", RICH_CHILD, path], 120)
    assert ours_out == rich_out


@pty_only
def test_command_in_a_terminal_asks_stdout_when_stdin_is_not_one():
    path = "architectures/hw_conv_760.yaml"  # 68 wide: fits 80 columns with the summary wrapped
    ours_out, stderr = in_pty(["-X", "importtime", "-m", "cnncalc", "show", path], 80, stdin_tty=False,
                              env={"NO_COLOR": "1"})
    assert "rich" not in imported(stderr)
    assert b"\x1b[36m" not in ours_out and b"\x1b[1m" in ours_out
    assert ours_out == in_pty(["-c", RICH_CHILD, path], 80, stdin_tty=False, env={"NO_COLOR": "1"})[0]


@pty_only
def test_command_in_a_narrow_terminal_writes_riches_bytes_without_rich():
    path = "architectures/alexnet.yaml"  # 98 wide: rich narrows its columns at 80, and so does render/plain.py
    ours_out, stderr = in_pty(["-X", "importtime", "-m", "cnncalc", "show", path], 80)
    assert "rich" not in imported(stderr) and "cnncalc.render.ansi" in imported(stderr)
    assert "…".encode() in ours_out and max(map(len, _plain(ours_out.decode()).splitlines())) == 80
    assert ours_out == in_pty(["-c", RICH_CHILD, path], 80)[0]
