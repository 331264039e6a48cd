"""A table wider than the console is narrowed by render/plain.py byte for byte as rich narrows it.

The reference is always rich itself: render.table.print_table through render.table.console() on a
stream that says it is a terminal, with COLUMNS giving the width (TERM=dumb for the plain text of
the same layout), exactly as tests/test_ansi_table.py does.

Rich lays out ~2 ms a row here, so a full comparison of every architecture at every width takes
minutes. The fast tests compare every architecture's full table at 80 columns (the default
terminal) and at a few other widths, and, at every width from its natural width down to 50, a
one-row table of the architecture's longest name, type and shape (same title, footer and summary,
so the same column widths but for the # column); CNNCALC_EXHAUSTIVE=1 adds
the full tables at every width down to where render/plain.py declines.
"""

from __future__ import annotations

import io
import os
import random
import re
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.commands import common
from cnncalc.render.ansi import table_ansi
from cnncalc.render.plain import WIDTH, _cell, column_widths, layout, table_text
from cnncalc.render.table import print_table

ROOT = Path(__file__).resolve().parent.parent
ARCH = sorted((ROOT / "architectures").glob("*.yaml"))
ENV_VARS = ("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
            "JUPYTER_COLUMNS")
FLOOR = 29  # the narrowest console render/plain.py draws the 7 columns on: 3 characters each, edges, dividers


class Stream(io.StringIO):
    def isatty(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No size from the terminal pytest runs in: the width is COLUMNS (with LINES, also for TERM=dumb)."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LINES", "40")

    def no_terminal(fd: int = 1) -> os.terminal_size:
        raise OSError(25, "Inappropriate ioctl for device")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)


def rich_bytes(a) -> str:
    stream = Stream()
    saved, sys.stdout = sys.stdout, stream
    try:
        print_table(a, common.console())
    finally:
        sys.stdout = saved
    return stream.getvalue()


def compare(a, width: int, monkeypatch, colour: bool = True) -> str | None:
    """Ours against rich's at `width` in a colour terminal (or TERM=dumb: plain text); ours, or None."""
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("TERM", "xterm" if colour else "dumb")
    text = table_ansi(a, Stream())
    if text is not None:
        assert ("\x1b[" in text) is colour
        assert text == rich_bytes(a), (a.name, width, colour)
    return text


def natural(a) -> int:
    L = layout(a, 10**6)
    assert L is not None
    return L.total


class Layer:
    """What print_table reads of a layer, for texts a spec cannot hold (spaces in a name, any type)."""

    def __init__(self, name: str, type: str, output_shape: tuple[int, ...], params: int, macs: int, flops: int):
        self.name, self.type, self.output_shape = name, type, output_shape
        self.params, self.macs, self.flops = params, macs, flops


class Table:
    """What print_table reads of an analysis; `totals` may be another network's (see longest_cells)."""

    def __init__(self, name: str, layers: list, totals: dict[str, int] | None = None, input_shape=(8, 8, 3),
                 layout: str = "channels_last", convention: str = "cnncalc", output_shape=None):
        self.name, self.layers, self.input_shape, self.layout, self.convention = name, layers, input_shape, layout, convention
        self.output_shape = output_shape or (layers[-1].output_shape if layers else input_shape)
        p = sum(x.params for x in layers)
        self.totals = totals or {"params": p, "trainable_params": p, "non_trainable_params": 0,
                                 "macs": sum(x.macs for x in layers), "flops": sum(x.flops for x in layers)}


def longest_cells(a) -> Table:
    """The architecture's table in one row: its longest name, type and shape side by side (the
    footer's totals are the longest numbers), under the same title, footer and summary."""
    L = layout(a, 10**6)
    assert L is not None
    name, type, shape = (max(range(len(L.rows)), key=lambda i: len(L.rows[i][c])) for c in (1, 2, 3))
    layers = a.layers
    row = Layer(layers[name].name, layers[type].type, layers[shape].output_shape, layers[name].params,
                layers[type].macs, layers[shape].flops)
    return Table(a.name, [row], dict(a.totals), a.input_shape, a.layout, a.convention, a.output_shape)


# ---- every architecture ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ARCH, ids=lambda p: p.stem)
def test_architectures_at_every_width(archs, monkeypatch, path):
    a = archs[path.stem]
    t = longest_cells(a)
    edge = natural(t)
    assert layout(t, 10**6).widths[1:] == layout(a, 10**6).widths[1:]  # the same widths but for #
    for width in range(edge, 49, -1):
        text = compare(t, width, monkeypatch, colour=width % 4 != 0)  # a quarter of them as plain text
        assert text is not None, width
        assert max(len(re.sub("\x1b\\[[0-9;]*m", "", line)) for line in text.splitlines()) == width


def test_full_architectures_at_80_columns(archs, monkeypatch):
    """The default terminal: every shipped table but two is wider, so narrowed, and none declined."""
    wider = [name for name, a in archs.items() if natural(a) > 80]
    assert len(wider) == len(archs) - 2
    for name in wider:
        assert compare(archs[name], 80, monkeypatch) is not None, name


def test_full_architectures_at_other_widths(archs, monkeypatch):
    cases = [("alexnet", 97, True), ("alexnet", 50, False), ("vgg16", 60, True), ("alphago_policy", 91, False),
             ("cifar_net", 76, True), ("cifar_net", FLOOR, True), ("hw_conv_760", 67, False),
             ("hw_conv_760", 40, True), ("alexnet_torchvision", 72, False), ("resnet18", 100, True)]
    for name, width, colour in cases:
        assert compare(archs[name], width, monkeypatch, colour) is not None, (name, width)


# ---- generated tables --------------------------------------------------------------------------

def net(name: str = "net", layer: str = "conv1", filters: int = 8, units: int = 10, input: str = "[8, 8, 3]",
        layout: str = "channels_last"):
    return cnncalc.analyse(cnncalc.loads(f"""name: {name}
input: {input}
layout: {layout}
layers:
  - {{type: conv2d, name: {layer}, filters: {filters}, kernel: 3, padding: 1}}
  - {{type: local_response_norm, size: 5}}
  - {{type: global_avg_pool2d}}
  - {{type: dense, name: {layer}_head, units: {units}}}
  - {{type: softmax}}
"""))


GENERATED = {
    "long layer name": net(layer="l" * 90),
    "huge numbers": net(filters=65536, units=10**6, input="[512, 512, 3]"),
    "long title": net(name="'ResNet-50 (v1.5), ImageNet 224x224, torchvision weights, counted as cnncalc counts'"),
    "long title words": net(name="'" + "w" * (FLOOR - 1) + "  and more'", layer="x"),  # never folded
    "channels first": net(layout="channels_first", input="[3, 1024, 1024]", filters=4096),
}


@pytest.mark.parametrize("case", GENERATED, ids=str)
def test_generated_tables_at_many_widths(monkeypatch, case):
    a = GENERATED[case]
    edge = natural(a)
    for i, width in enumerate([edge + 3, edge - 1, *range(edge - 4, FLOOR - 1, -11), FLOOR]):
        if width < FLOOR:
            continue
        text = compare(a, width, monkeypatch, colour=i % 3 != 1)
        assert text is not None, (case, width)


def test_words_wrap_in_cells_and_title(monkeypatch):
    """Texts no spec can hold, with the spaces rich wraps at: in names and types, leading, trailing
    and doubled; a blank name; cells cut with an ellipsis; the header and footer rows."""
    layers = [Layer("conv one   two", "conv 2d (grouped)", (32, 32, 64), 1792, 1_769_472, 3_538_944),
              Layer("  leading", "relu", (32, 32, 64), 0, 0, 65536),
              Layer("trailing  ", "a b c d e f g h", (1,), 10**15, 10**18, 2 * 10**18),
              Layer("   ", "x", (7, 7), 5, 6, 7),
              Layer("averyveryverylongname with tail", "t", (1, 2, 3, 4), 0, 1, 0)]
    a = Table("my net  (two  spaces)", layers)
    edge = natural(a)
    shown = 0
    for width in range(edge, FLOOR - 1, -4):
        text = compare(a, width, monkeypatch, colour=width % 2 == 0)
        assert text is not None, width
        shown += "…" in text
    assert shown > 8


def test_random_tables(monkeypatch):
    rnd = random.Random(20261201)

    def text() -> str:
        words = ["".join(rnd.choice("abcxyz_.-()0123456789") for _ in range(rnd.choice((1, 2, 4, 7, 12, 20))))
                 for _ in range(rnd.choice((1, 1, 2, 3)))]
        return "".join(w + " " * rnd.choice((1, 1, 2)) for w in words)[:-1]

    def number() -> int:
        return rnd.choice((0, rnd.randint(1, 999), rnd.randint(1, 10**9), rnd.randint(1, 10**19)))

    drawn = 0
    for _ in range(30):
        layers = [Layer(text(), text(), tuple(rnd.randint(1, 10**rnd.randint(1, 5)) for _ in range(rnd.randint(1, 4))),
                        number(), number(), number()) for _ in range(rnd.randint(1, 4))]
        a = Table(text(), layers, convention=rnd.choice(("cnncalc", "torchinfo", "fvcore")))
        drawn += compare(a, rnd.randint(FLOOR, natural(a) + 5), monkeypatch, colour=rnd.random() < 0.7) is not None
    assert drawn >= 25  # only a title or summary word wider than the table may decline


# ---- the pieces, against rich's own functions --------------------------------------------------

def test_column_widths_are_riches():
    """column_widths against rich's Table._calculate_column_widths on columns of given widths; None
    exactly when rich leaves a column less than 3 wide (padding and 1 character)."""
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(file=io.StringIO(), width=500)
    rnd = random.Random(3)
    declined = 0
    for _ in range(150):
        natural_widths = [rnd.choice((1, 2, 3, 5, 8, 12, 13, 19, 21, 40, 90)) for _ in range(7)]
        width = rnd.randint(10, sum(natural_widths) + 30)
        table = RichTable()
        for _ in natural_widths:
            table.add_column()
        table.add_row(*("x" * n for n in natural_widths))
        theirs = table._calculate_column_widths(console, console.options.update_width(width - 8))
        ours = column_widths(natural_widths, width)
        if ours is None:
            declined += 1
            assert min(theirs) < 3 or width < 29, (natural_widths, width, theirs)
        else:
            assert [w + 2 for w in ours] == theirs, (natural_widths, width)
    assert 5 < declined < 75


def test_cells_wrap_like_riches_text():
    """_cell against rich's Text.wrap at the column's width, justify left or right, overflow ellipsis."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=io.StringIO(), width=200)
    rnd = random.Random(5)
    for _ in range(500):
        text = "".join(rnd.choice("ab c  d-,.") for _ in range(rnd.randint(0, 30)))
        width = rnd.randint(1, 20)
        right = rnd.random() < 0.5
        lines = Text(text).wrap(console, width, justify="right" if right else "left", overflow="ellipsis")
        assert _cell(text, width, right) == [line.plain for line in lines], (text, width, right)


# ---- where it still declines -------------------------------------------------------------------

def test_declines_where_rich_is_degenerate_or_version_dependent(archs, monkeypatch):
    a = archs["alexnet"]
    assert compare(a, FLOOR, monkeypatch) is not None
    for width in (FLOOR - 1, 20, 1):  # a column without room for a character
        monkeypatch.setenv("COLUMNS", str(width))
        assert layout(a, width) is None and table_ansi(a, Stream()) is None
    # a title word wider than the table: rich folds it, and rich 12 folds differently from 13+
    long_word = net(name="N" * 85, layer="l" * 40)
    assert natural(long_word) > 85 and layout(long_word, 200) is not None and layout(long_word, 80) is None
    assert compare(net(name="N" * 75 + " x", layer="l" * 40), 80, monkeypatch) is not None


def test_piped_tables_wider_than_200_columns():
    """Piped, console() gives rich 200 columns: wider tables are narrowed the same way."""
    from rich.console import Console

    for a in (net(layer="l" * 190), net(layer="l" * 150, filters=65536, units=10**6, input="[512, 512, 3]")):
        assert natural(a) > WIDTH
        buf = io.StringIO()
        print_table(a, Console(file=buf, width=WIDTH, highlight=False, soft_wrap=False))
        text = table_text(a)
        assert text is not None and "…" in text and text == buf.getvalue()


@pytest.mark.skipif(not os.environ.get("CNNCALC_EXHAUSTIVE"), reason="minutes: set CNNCALC_EXHAUSTIVE=1")
@pytest.mark.parametrize("path", ARCH, ids=lambda p: p.stem)
def test_exhaustive_full_tables_at_every_width(archs, monkeypatch, path):
    a = archs[path.stem]
    for width in range(natural(a) + 1, FLOOR - 3, -1):
        for colour in (True, False):
            text = compare(a, width, monkeypatch, colour)
            assert (text is None) is (width < FLOOR), (width, colour)
