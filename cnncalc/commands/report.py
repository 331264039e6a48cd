"""`cnncalc report`: one self-contained HTML page (graph, table, charts, explanations), or `--watch`."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from ..memory import DTYPE_BYTES, OPTIMIZER_STATES
from .common import convention_option, failure_status, parse_sets, print_diagnostics

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..memory import MemoryConfig


def default_output(file: str) -> str:
    """`resnet50.yaml` → `resnet50.html` in the current directory."""
    stem = os.path.splitext(os.path.basename(file))[0] or "report"
    return stem + ".html"


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_output(output: str, inputs: list[str]) -> None:
    """Refuse to write the page over a spec it reads (exit 2, nothing written)."""
    for spec in inputs:
        if same_file(output, spec):
            click.echo(f"{output}: error: refusing to overwrite the spec being read; choose another --output", err=True)
            sys.exit(2)


def load(file: str, sets: dict, convention: str | None) -> Analysis:
    """Analyse FILE or exit (1: problems in the spec, 2: unreadable), printing the located errors."""
    from .. import analyse
    from ..errors import SpecError

    try:
        return analyse(file, sets, convention=convention)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(failure_status(exc))


def memory_config(batch_size: int | None, dtype: str | None, optimizer: str | None) -> MemoryConfig:
    from ..memory import MemoryConfig

    return MemoryConfig(batch_size or 1, dtype or "float32", optimizer or "adam")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), metavar="PATH",
              help="The HTML file to write  [default: FILE's name with .html, in the current directory]; "
                   "'-' writes to standard output.")
@click.option("--compare", "compare", type=click.Path(dir_okay=False, path_type=str), metavar="B",
              help="Compare with spec B: both graphs side by side, the changed layers marked (see `cnncalc diff`).")
@click.option("--watch", is_flag=True,
              help="Serve the page on 127.0.0.1 and rewrite it whenever the spec changes; the open page reloads "
                   "itself. Ctrl-C stops.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="--watch: the local port (0: any free port).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec param (repeatable).")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), help="Batch size for memory  [default: 1]")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), help="Element type for memory  [default: float32]")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_STATES)),
              help="Optimizer state in the training-memory estimate  [default: adam]")
@convention_option
def report(file: str, output: str | None, compare: str | None, watch: bool, port: int, sets: tuple[str, ...],
           batch_size: int | None, dtype: str | None, optimizer: str | None, convention: str) -> None:
    """Write FILE as one interactive HTML page that opens offline.

    The page shows the graph (blocks open and close), the full table of `cnncalc show` (sortable,
    filterable), bar charts of params, MACs and activation memory, each layer's --explain derivation
    and spec lines, a switch between MACs/FLOPs conventions, the warnings and `expect:` results, and
    the spec's source. Exit status: 0 written, 1 a problem in the spec, 2 a file cannot be read.
    """
    overrides = parse_sets(sets)
    memory = memory_config(batch_size, dtype, optimizer)
    if output is None:
        output = default_output(file)
    if output != "-":
        check_output(output, [file] + ([compare] if compare else []))
    if watch:
        from ..report.watch import serve

        sys.exit(serve(file, output if output != "-" else None, compare, overrides, convention, memory, port))
    from ..report import read_source, report_html, write_atomic

    a = load(file, overrides, convention)
    other = None
    if compare:
        b = load(compare, overrides, convention)
        other = (b, read_source(compare, b))
    print_diagnostics(a.warnings + (other[0].warnings if other else []))
    text = report_html(a, memory, read_source(file, a), other)
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        click.echo(f"{output}: error: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"wrote {output} ({len(text.encode('utf-8')):,} bytes)", err=True)
