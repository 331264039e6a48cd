"""The plain-text `show` table (used when stdout is not a terminal) is exactly what rich prints."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.render.plain import WIDTH, plain_stream, table_text
from cnncalc.render.table import print_table

ARCH = sorted((Path(__file__).resolve().parent.parent / "architectures").glob("*.yaml"))


def rich_text(a) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_table(a, Console(file=buf, width=WIDTH, highlight=False, soft_wrap=False))
    return buf.getvalue()


def net(name: str = "net", layer: str = "conv1", filters: int = 8) -> cnncalc.analysis.Analysis:
    return cnncalc.analyse(cnncalc.loads(f"""name: {name}
input: [8, 8, 3]
layers:
  - {{type: conv2d, name: {layer}, filters: {filters}, kernel: 3, padding: 1}}
  - {{type: relu}}
  - {{type: batch_norm, affine: false}}
  - {{type: global_avg_pool2d}}
  - {{type: dense, units: 10}}
"""))


@pytest.mark.parametrize("path", ARCH, ids=lambda p: p.stem)
def test_architectures_match_rich(path):
    a = cnncalc.analyse(path)
    text = table_text(a)
    assert text is not None
    assert text == rich_text(a)


def _edge() -> int:
    """The layer-name length at which the test table is exactly WIDTH columns wide."""
    a = net(layer="l")
    base = len(table_text(a).splitlines()[0])
    col = max(len(x) for x in ["Layer", "Total", *(layer.name for layer in a.layers)])
    return WIDTH - base + col


@pytest.mark.parametrize("offset", [-60, -1, 0])
def test_layer_name_widths_up_to_the_console_width(offset):
    a = net(layer="l" * (_edge() + offset))
    text = table_text(a)
    assert text is not None
    assert max(len(line) for line in text.splitlines()) == WIDTH + offset
    assert text == rich_text(a)


def test_too_wide_is_narrowed_as_rich_narrows_it():
    a = net(layer="l" * (_edge() + 1))
    text = table_text(a)
    assert text is not None and max(len(line) for line in text.splitlines()) == WIDTH
    assert text == rich_text(a)


@pytest.mark.parametrize("name", ["a" * 80, "x", "ResNet-50 (v1.5), 224x224", "'" + "a long title, wrapped, " * 4 + "'"])
def test_titles(name):
    a = net(name=name)
    text = table_text(a)
    table = len(table_text(net(name="x")).splitlines()[1])  # the top edge: as wide as the table
    if max(map(len, name.split())) > table:  # rich folds the word (rich 12 unlike rich 13+): left to rich
        assert text is None
    else:
        assert text is not None and text == rich_text(a)


@pytest.mark.parametrize("name", ["net [v2]", "smile :smile: net", "Größe", "tab\\there"])
def test_markup_emoji_and_unicode_fall_back_to_rich(name):
    a = net(name=f'"{name}"')
    assert table_text(a) is None


def test_zero_and_huge_numbers():
    a = net(filters=4096)
    assert table_text(a) == rich_text(a)


def test_cli_output_is_rich_output():
    path = str(ARCH[0])
    result = CliRunner().invoke(main, ["show", path])
    assert result.exit_code == 0
    assert result.output == rich_text(cnncalc.analyse(path))


class _Stream(io.StringIO):
    def __init__(self, tty: bool, encoding: str = "utf-8"):
        super().__init__()
        self._tty, self._encoding = tty, encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


@pytest.mark.parametrize("env, tty, encoding, plain", [
    ({}, False, "utf-8", True),
    ({}, True, "utf-8", False),
    ({}, False, "ascii", False),  # rich switches to ASCII box characters
    ({"FORCE_COLOR": "1"}, False, "utf-8", False),
    ({"FORCE_COLOR": ""}, False, "utf-8", True),
    ({"TTY_COMPATIBLE": "1"}, False, "utf-8", False),
    ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, False, "utf-8", True),
])
def test_plain_stream_follows_rich(monkeypatch, env, tty, encoding, plain):
    from rich.console import Console

    for var in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    stream = _Stream(tty, encoding)
    assert plain_stream(stream) is plain
    if not tty:  # what rich itself decides for the same stream
        console = Console(file=stream, width=WIDTH)
        assert (not console.is_terminal and console.encoding.startswith("utf")) is plain
