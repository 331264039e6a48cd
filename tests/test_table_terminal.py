"""The `show` table in a real terminal never hides a number: at any width every layer name and every
count is on the screen whole, no line is longer than the terminal, and left-out columns are named.

Each test runs the installed command (`python -m cnncalc` without one) with stdout on a pseudo-terminal
of a given width, and reads the screen text back; the reference is the command's own JSON output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ARCH, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ARCHS = sorted(ARCH.glob("*.yaml"))
WIDTHS = (60, 80, 100, 120)
# what rich reads from the environment; the terminal pytest runs in must not leak into the child
RICH_ENV = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLORTERM")
SGR = re.compile("\x1b\\[[0-9;]*m")
OPTIONAL = {"#": "#", "Type": "type", "FLOPs": "flops"}  # header word → key of the columns a terminal may leave out


def command(*args: str) -> list[str]:
    installed = Path(sys.executable).with_name("cnncalc")
    return [str(installed), *args] if installed.exists() else [sys.executable, "-m", "cnncalc", *args]


def in_terminal(args: list[str], columns: int, env: dict[str, str] | None = None) -> str:
    """What a terminal `columns` wide receives from `cnncalc ARGS` (escape codes included)."""
    import fcntl
    import pty
    import struct
    import termios
    import tty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    tty.setraw(slave)  # the bytes as written, without the line discipline's \n -> \r\n
    child_env = {k: v for k, v in os.environ.items() if k not in RICH_ENV}
    child_env.update({"TERM": "xterm-256color", **(env or {})})
    with open(os.devnull, "rb") as devnull, tempfile.TemporaryFile() as err:  # a file: stderr never blocks
        proc = subprocess.Popen(command(*args), cwd=ROOT, env=child_env, stdin=devnull, stdout=slave, stderr=err)
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
    assert proc.returncode == 0 and stderr == "", stderr
    return out.decode()


def screen(args: list[str], columns: int) -> str:
    return SGR.sub("", in_terminal(args, columns))


def json_of(path: Path | str) -> dict:
    r = subprocess.run(command("show", str(path), "--format", "json"), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def whole_width(path: Path | str) -> int:
    """The width of the whole table (what is printed when piped): the length of its rule line."""
    r = subprocess.run(command("show", str(path)), cwd=ROOT, capture_output=True, text=True)
    return next(len(line) for line in r.stdout.split("\n") if line.strip().startswith("─"))


def read_table(text: str) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """(header words, one token list per layer with folded names joined, footer tokens, the lines
    under the table). No cell holds a space, so a row splits into one token per column and a line
    of a folded name holds one token."""
    lines = text.split("\n")
    rule = next(i for i, line in enumerate(lines) if line.strip().startswith("─"))
    top = next(i for i in range(rule - 1, -1, -1) if not lines[i].strip())
    header = " ".join(lines[top + 1:rule]).split()  # a header may wrap at its spaces ("Output" / "shape")
    ncols = len(header) - ("Output" in header and "shape" in header)
    end = next(i for i in range(rule + 1, len(lines)) if not lines[i].strip())
    rows: list[list[str]] = []
    name = header.index("Layer") - ("Output" in header[:header.index("Layer")])
    for line in lines[rule + 1:end]:
        tokens = line.split()
        if len(tokens) == ncols:
            rows.append(tokens)
        else:
            assert len(tokens) == 1 and rows, line  # the rest of a folded name, nothing else
            rows[-1][name] += tokens[0]
    return header, rows, lines[end + 1].split(), lines[end + 2:]


def counts(n: int) -> str:
    return f"{n:,}" if n else "-"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.stem)
def test_every_number_and_name_is_on_the_screen_whole(path, width):
    text = screen(["show", str(path)], width)
    doc = json_of(path)
    assert "…" not in text
    assert max(len(line) for line in text.split("\n")) <= width
    header, rows, footer, below = read_table(text)
    shown = {key for word, key in OPTIONAL.items() if word in header}
    expected = []
    by_name = {layer["name"]: layer for layer in doc["layers"]}
    for i, layer in enumerate(doc["layers"], 1):
        row = [str(i)] if "#" in shown else []
        row.append(layer["name"])
        row += [layer["type"]] if "type" in shown else []
        # a layer with shared weights: "shared" where the layer it shares has parameters (counted there)
        shared = "shares" in layer and by_name[layer["shares"]]["params"]
        row += ["x".join(map(str, layer["output_shape"])), "shared" if shared else counts(layer["params"]),
                counts(layer["macs"])]
        row += [counts(layer["flops"])] if "flops" in shown else []
        expected.append(row)
    assert rows == expected
    t = doc["totals"]
    several = len(doc.get("outputs", [])) > 1  # their shapes are on the Outputs line under the table
    assert footer == ["Total", *([] if several else ["x".join(map(str, doc["output_shape"]))]), f"{t['params']:,}",
                      f"{t['macs']:,}",
                      *([f"{t['flops']:,}"] if "flops" in shown else [])]
    words = " ".join(below).split()
    for key in ("params", "trainable_params", "non_trainable_params", "macs", "flops"):
        assert f"{t[key]:,}" in words, key
    hidden = [word for word, key in OPTIONAL.items() if key not in shown]
    hints = [line for line in below if line.startswith("Hidden:")]
    if hidden:  # one line names them and says how to get them back
        keys = ",".join(OPTIONAL[w] for w in hidden if w != "#")
        how = f"--wide or --columns {keys}" if keys else "--wide"
        assert hints == [f"Hidden: {', '.join(hidden)} ({how})"]
    else:
        assert hints == []
    assert not hidden or whole_width(path) > width  # columns go only when the whole table does not fit
    assert " ".join(doc["name"].split()) in " ".join(text.split())  # the title, perhaps wrapped


def test_columns_are_left_out_lowest_priority_first():
    def hidden(width: int) -> str | None:
        below = read_table(screen(["show", "architectures/resnet50.yaml"], width))[3]
        return next((line.split(" (")[0] for line in below if line.startswith("Hidden: ")), None)

    # ResNet-50's whole table is 113 wide, 111 with "Output shape" on two lines; then #, FLOPs and Type
    # go in that order as the room runs out
    assert [hidden(w) for w in (113, 111, 110, 100, 80)] == [
        None, None, "Hidden: #", "Hidden: #, FLOPs", "Hidden: #, Type, FLOPs"]


def test_long_names_fold_inside_their_cell(tmp_path):
    long = "stage4.block3.pointwise_projection.conv"
    spec = tmp_path / "long.yaml"
    spec.write_text(f"""name: long names
input: [224, 224, 3]
layers:
  - {{type: conv2d, name: stem, filters: 32, kernel: 3, stride: 2, padding: 1}}
  - {{type: conv2d, name: {long}, filters: 4096, kernel: 3, padding: 1}}
  - relu
""")
    text = screen(["show", str(spec)], 60)
    assert "…" not in text and max(len(line) for line in text.split("\n")) <= 60
    assert long not in text  # too long for the column: on two lines
    _, rows, _, _ = read_table(text)
    conv = json_of(spec)["layers"][1]
    assert rows[1] == [long, "112x112x4096", f"{conv['params']:,}", f"{conv['macs']:,}"]


@pytest.mark.parametrize("name, width, lines", [
    ("encoder.layers.encoder_layer_0.mlp.0", 35, ["encoder.layers.encoder_layer_0.", "mlp.0"]),  # an index stays
    ("encoder.layers.encoder_layer_0.ln_1", 15, ["encoder.layers.", "encoder_layer_0", ".ln_1"]),  # a dot moves on
    ("features.1.0.block.0.0", 10, ["features.1.0.", "block.0.0"]),  # wider than 10: rich folds that line
    ("stage4.block3.conv", 40, ["stage4.block3.conv"]),
    ("pointwise_projection_conv", 10, ["pointwise_projection_conv"]),  # no dot: rich folds it
])
def test_module_paths_fold_at_their_dots(name, width, lines):
    from cnncalc.render.table import at_dots

    assert at_dots(name, width).split("\n") == lines


def test_a_folded_path_shows_whole_parts_on_screen(tmp_path):
    spec = tmp_path / "paths.yaml"
    spec.write_text("""name: paths
input: [3, 32, 32]
layout: channels_first
layers:
  - {type: conv2d, name: encoder.layers.encoder_layer_0.mlp.0, filters: 4096, kernel: 3, padding: 1}
  - {type: conv2d, name: encoder.layers.encoder_layer_0.self_attention, filters: 8, kernel: 1}
""")
    lines = [line.split()[0] for line in screen(["show", str(spec)], 60).split("\n")
             if line.strip() and line.split()[0].startswith(("encoder", "mlp", ".", "self"))]
    assert lines == ["encoder.layers.", "encoder_layer_0.", "mlp.0", "encoder.layers.", "encoder_layer_0.",
                     "self_attention"]


def test_wide_and_columns_bring_them_back():
    text = screen(["show", "architectures/resnet50.yaml", "--wide"], 60)
    header, rows, _, below = read_table(text)
    assert header[:3] == ["#", "Layer", "Type"] and header[-1] == "FLOPs" and len(rows) == 175
    assert max(len(line) for line in text.split("\n")) == 113  # the whole table, longer than the terminal
    assert "…" not in text and not any(line.startswith("Hidden") for line in below)
    header, _, _, below = read_table(screen(["show", "architectures/resnet50.yaml", "--columns", "flops"], 80))
    assert "FLOPs" in header and "Type" not in header
    assert "Hidden: #, Type (--wide or --columns type)" in below


def test_piped_output_is_the_whole_table():
    for path in ARCHS:
        r = subprocess.run(command("show", str(path)), cwd=ROOT, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k not in RICH_ENV})
        header, rows, _, below = read_table(r.stdout)
        assert header[:3] == ["#", "Layer", "Type"] and header[-1] == "FLOPs", path.stem
        assert [row[1] for row in rows] == [layer["name"] for layer in json_of(path)["layers"]]
        assert "\x1b[" not in r.stdout and "…" not in r.stdout and "Hidden" not in r.stdout


def test_colours_in_a_terminal_none_with_no_color():
    path = "architectures/hw_conv_760.yaml"
    assert "\x1b[36m" in in_terminal(["show", path], 100)  # the layer type in cyan
    plain = in_terminal(["show", path], 100, env={"NO_COLOR": "1"})
    assert "\x1b[36m" not in plain and "\x1b[1m" in plain  # no colour; bold and dim stay
    assert SGR.sub("", plain) == screen(["show", path], 100)


def test_network_name_is_shown_as_written(tmp_path):
    spec = tmp_path / "name.yaml"
    spec.write_text('name: "net [v2] :smile: [bold]x[/bold]"\ninput: [8, 8, 3]\nlayers: [relu]\n')
    for text in (screen(["show", str(spec)], 100),
                 subprocess.run(command("show", str(spec)), cwd=ROOT, capture_output=True, text=True).stdout):
        assert text.startswith("net [v2] :smile: [bold]x[/bold]  input 8x8x3"), text
