"""Spec text and file names reach every output as text to look at, never as something that acts: no
terminal escape, no forged CI command, no markup, no HTML, no broken XML or Mermaid. One hostile
corpus, one test per output format (issue: no spec file can run code, forge output or exhaust the
machine)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.errors import visible

# Each string would act somewhere if written raw: in a terminal, a GitHub Actions log, rich markup,
# HTML or markdown, XML, Mermaid. Spec strings hold them through YAML escapes ("\e", "\u2028").
HOSTILE = {
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "csi": "\x1b[2J\x1b[1;31mred\x9b31m",
    "ci-commands": "net\n::error file=x.yaml,line=1::forged\n::stop-commands::token",
    "carriage-return": "net\r::warning::cr",
    "separators": "a\u2028b\u2029c\x85d",
    "bidi": "\u202eevil\u202c \u2066x\u2069 zero\u200bwidth",
    "rich-markup": "[link=https://evil.example]x[/link] [/bold] [bold red]y",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "markdown": "| a | b | `code` **bold** _it_ ![i](http://e.example/x.png) [l](http://e.example)",
    "quotes": "\"double\" 'single' & &amp; ]]> <!-- -->",
    "controls": "\x00\x07\x08\x7f",
}
NAMES = sorted(HOSTILE)


def spec(name: str) -> str:
    """A network called `name` whose conv warns (the stride does not fit), so warnings are printed too."""
    return json.dumps({"name": name, "input": "7x7x3",
                       "layers": [{"type": "conv2d", "filters": 2, "kernel": 3, "stride": 3}, "relu"]})


def file_name(key: str) -> str:
    """The corpus entry as a file name (no NUL or '/', which no file name holds)."""
    return HOSTILE[key].replace("\x00", "").replace("/", "") + ".yaml"


def clean(text: str) -> None:
    """Every character is shown as itself: no control, format or separator character but newlines."""
    bad = sorted({repr(ch) for ch in text if not ch.isprintable() and ch != "\n"})
    assert not bad, f"{bad} in {text!r}"


def run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


@pytest.fixture
def hostile_file(tmp_path, request):
    """(path of a spec whose network name is the corpus entry, in a file named after it too)."""
    key = request.param
    path = tmp_path / file_name(key)
    path.write_text(spec(HOSTILE[key]), encoding="utf-8")
    return key, str(path)


def hostile(fixture_name: str = "hostile_file"):
    return pytest.mark.parametrize(fixture_name, NAMES, indirect=True)


def test_visible_escapes_what_acts_and_keeps_every_script():
    assert visible("a\x1b[31m\n\t\u2028\u202e\ud800\x9b") == "a\\x1b[31m\\n\\t\\u2028\\u202e\\ud800\\x9b"
    assert visible("ResNet-50 → 中文 é ∑ [x] <y>") == "ResNet-50 → 中文 é ∑ [x] <y>"


# ---- lint: text (pre-commit, CI logs), github annotations, json -----------------------------------

LINE = re.compile(r"^(?P<file>.*):(\d+):(\d+): (error|warning): .* \[[a-z-]+\]$")


@hostile()
def test_lint_text_is_one_line_per_problem(hostile_file):
    key, path = hostile_file
    r = run("lint", path)
    clean(r.stdout)
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and not lines[0].startswith("::")  # the stride warning, on one line
    m = LINE.match(lines[0])
    assert m and m["file"] == visible(path), lines


@hostile()
def test_lint_github_annotations_cannot_be_forged(hostile_file):
    key, path = hostile_file
    r = run("lint", "--format", "github", path)
    clean(r.stdout)
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("::warning file="), lines
    props, message = lines[0][len("::warning "):].split("::", 1)
    assert message.endswith("[stride-not-fitting]") and "::" not in message
    file = props.split(",line=")[0][len("file="):]
    assert file.replace("%3A", ":").replace("%2C", ",").replace("%25", "%") == visible(path)


@hostile()
def test_lint_json_keeps_the_exact_name_and_prints_it_visibly(hostile_file):
    key, path = hostile_file
    r = run("lint", "--format", "json", path)
    clean(r.stdout)
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert d["file"] == path and d["rule"] == "stride-not-fitting"  # the data is exact


def test_lint_of_a_directory_with_hostile_and_undecodable_file_names(tmp_path):
    for key in NAMES:
        (tmp_path / file_name(key)).write_text(spec("n"), encoding="utf-8")
    os.close(os.open(os.path.join(os.fsencode(tmp_path), b"bad\xff.yaml"), os.O_CREAT | os.O_WRONLY))
    for fmt in ("text", "github", "json"):
        r = run("lint", "--format", fmt, str(tmp_path))
        clean(r.stdout + r.stderr)
        assert r.exit_code == 1
        if fmt != "json":
            assert len(r.stdout.splitlines()) == len(NAMES) + 1  # a warning each, the empty file's error


# ---- show: rich table, markdown, csv, json, --explain, messages on stderr ------------------------------

@hostile()
def test_show_table_prints_markup_as_text(hostile_file):
    key, path = hostile_file
    r = run("show", path)
    clean(r.stdout + r.stderr)
    assert visible(HOSTILE[key]) in r.stdout.replace("\n", "") or len(HOSTILE[key]) > 40  # title wraps
    if key == "rich-markup":
        assert "[link=https://evil.example]x[/link] [/bold]" in r.stdout
    assert len(r.stderr.splitlines()) == 1


@hostile()
def test_show_table_in_a_colour_terminal_has_only_colour_codes(hostile_file):
    from rich.console import Console

    from cnncalc import analyse
    from cnncalc.render.table import print_table

    key, path = hostile_file
    buf = io.StringIO()
    print_table(analyse(path), Console(file=buf, force_terminal=True, color_system="truecolor", width=300))
    out = buf.getvalue()
    assert "\x1b]" not in out  # no OSC (hyperlinks, window titles)
    clean(re.sub(r"\x1b\[[0-9;]*m", "", out))  # what remains after the colours is text
    assert "link=" not in out or "[link=https://evil.example]x[/link]" in out


MARKDOWN_ACTIVE = re.compile(r"<[a-z!/]|(?<!\\)[|`*_\[\]~]")  # a tag, or markdown syntax not escaped


@hostile()
def test_show_markdown_escapes_html_and_markdown(hostile_file):
    key, path = hostile_file
    r = run("show", "--format", "markdown", path)
    clean(r.stdout)
    heading = r.stdout.splitlines()[0]
    assert heading.startswith("### ") and not MARKDOWN_ACTIVE.search(heading[4:]), heading
    warning = next(line for line in r.stdout.splitlines() if line.startswith("> warning: "))
    assert not MARKDOWN_ACTIVE.search(warning[len("> warning: "):].replace("\\[stride-not-fitting\\]", "")), warning


@hostile()
def test_show_csv_and_json(hostile_file):
    key, path = hostile_file
    r = run("show", "--format", "csv", path)
    clean(r.stdout)
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert [len(row) for row in rows] == [8] * 4
    r = run("show", "--format", "json", path)
    clean(r.stdout)
    assert json.loads(r.stdout)["name"] == HOSTILE[key]  # exact, escaped by json


@hostile()
def test_show_explain_and_check_and_errors(hostile_file):
    key, path = hostile_file
    r = run("show", "--explain", path)
    clean(r.stdout + r.stderr)
    r = run("check", path)
    clean(r.stdout)
    assert r.stdout == f"{visible(path)}: no expectations\n"
    broken = path.replace(".yaml", ".broken.yaml")
    with open(broken, "w", encoding="utf-8") as f:
        f.write("input: 4x4x3\nlayers: [{type: conv2d, filters: 1, kernel: 5}]\n")
    r = run("show", broken)
    clean(r.stderr)
    assert r.exit_code == 1 and r.stderr.startswith(visible(broken) + ":2:") and len(r.stderr.splitlines()) == 1


# ---- diagrams -------------------------------------------------------------------------------------

@hostile()
def test_diagram_svg_is_well_formed_xml(hostile_file):
    key, path = hostile_file
    r = run("diagram", path)
    clean(r.stdout)
    root = ET.fromstring(r.stdout)  # ill-formed XML raises
    title = root.find("{http://www.w3.org/2000/svg}text")
    assert title is not None and title.text == visible(HOSTILE[key])


@hostile()
def test_diagram_mermaid_is_one_statement_per_line(hostile_file):
    key, path = hostile_file
    r = run("diagram", "--format", "mermaid", path)
    clean(r.stdout)
    for line in r.stdout.splitlines():
        assert re.fullmatch(r'flowchart LR|    n\d+\["[^"]*"\]|    n\d+ --> n\d+', line), line


def test_mermaid_labels_escape_quotes_and_tags():
    from cnncalc.diagram.mermaid import _label

    assert _label('a"b<i>\n') == "a#quot;b&lt;i&gt;\\n"


# ---- export, verify, calculators, written files --------------------------------------------------------

@hostile()
def test_export_header_keeps_the_file_name_inside_the_docstring(hostile_file):
    import ast

    key, path = hostile_file
    for target in ("pytorch", "keras"):
        r = run("export", path, "--to", target)
        tree = ast.parse(r.stdout)
        doc = ast.get_docstring(tree, clean=False)
        assert doc is not None and path in doc and HOSTILE[key] in doc
        assert isinstance(tree.body[0], ast.Expr)
        clean(r.stderr)


@hostile()
def test_written_file_names_are_reported_visibly(hostile_file, tmp_path):
    key, path = hostile_file
    out = str(tmp_path / ("out" + file_name(key) + ".svg"))
    r = run("diagram", path, "-o", out)
    clean(r.stderr)
    assert r.stderr.splitlines()[-1] == f"wrote {visible(out)}"


@hostile()
def test_calculator_errors_name_files_visibly(hostile_file, tmp_path):
    key, path = hostile_file
    values = tmp_path / ("v" + file_name(key))
    values.write_bytes(b"1 2\xff")
    r = run("conv", "--values", str(values), "--kernel-values", "1")
    clean(r.stderr)
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1 and visible(str(values)) in r.stderr


def test_verify_table_prints_names_as_text(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "v.yaml"
    path.write_text(spec(HOSTILE["rich-markup"] + HOSTILE["osc8-link"]), encoding="utf-8")
    r = run("verify", str(path))
    assert r.exit_code == 0, r.output
    clean(r.stdout)
    assert "[link=https://evil.example]x[/link] [/bold]" in r.stdout
