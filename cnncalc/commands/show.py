"""`cnncalc show` and `cnncalc types`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..memory import DTYPE_BYTES, OPTIMIZER_STATES
from ..render import FORMATS
from .common import convention_option, failure_status, parse_sets, print_diagnostics

if TYPE_CHECKING:
    from ..analysis import Analysis


def _columns(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    from ..render.columns import parse_columns

    try:
        return parse_columns(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format; json is a stable public interface (docs/json.md).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a spec param, e.g. --set k=256 (repeatable).")
@click.option("--columns", callback=_columns, metavar="LIST",
              help="Extra table/csv/markdown columns: rf,jump,start,act,act_mem,param_mem or all (json has all); "
                   "type,flops: kept in a narrow terminal.")
@click.option("--wide", is_flag=True, help="Every table column, however narrow the terminal.")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), help="Batch size for memory  [default: 1]")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), help="Element type for memory  [default: float32]")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_STATES)),
              help="Optimizer state in the training-memory estimate  [default: adam]")
@click.option("--explain", is_flag=True, help="Show each layer's numbers derived step by step (not with csv).")
@convention_option
def show(file: str, fmt: str, sets: tuple[str, ...], columns: tuple[str, ...], wide: bool, batch_size: int | None,
         dtype: str | None, optimizer: str | None, explain: bool, convention: str) -> None:
    """Analyse FILE and print each layer's output shape, params, MACs and FLOPs.

    Exit status: 0 done, 1 a problem in the spec (or an unmet `expect:`), 2 FILE cannot be read.
    """
    if explain and fmt == "csv":
        raise click.BadParameter("--explain works with table, markdown and json output, not csv",
                                 param_hint="--explain")
    from .. import analyse
    from ..errors import SpecError
    from ..importers import load_model

    overrides = parse_sets(sets)
    try:
        analysis = analyse(load_model(file, overrides), convention=convention)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(failure_status(exc))
    from ..render.columns import extra_columns

    extra = extra_columns(columns)
    memory = None
    if batch_size or dtype or optimizer or extra or fmt == "json":
        from ..memory import MemoryConfig

        memory = MemoryConfig(batch_size or 1, dtype or "float32", optimizer or "adam")
    if fmt == "table":
        from ..render.table import console, print_table

        print_table(analysis, console(), extra, memory, memory_summary=bool(batch_size or dtype or optimizer),
                    keep=columns, wide=wide)
        if explain:
            from .. import explain as ex

            click.echo("\n" + ex.to_text(analysis))
    elif fmt == "json":
        import json

        from .. import render

        doc = render.json_doc(analysis, memory)
        if explain:
            from .. import explain as ex

            doc = ex.add_to_dict(doc, analysis)
        click.echo(json.dumps(doc, indent=2))
    else:
        from .. import render

        text = {"markdown": render.to_markdown, "csv": render.to_csv}[fmt](analysis, extra, memory)
        if explain:
            from .. import explain as ex

            text = text.rstrip("\n") + "\n\n" + ex.to_markdown(analysis)
        click.echo(text.rstrip("\n"))
    if fmt != "json":  # json carries them under "warnings"
        print_diagnostics(analysis.warnings)
    sys.exit(unmet(analysis))


def unmet(analysis: Analysis) -> int:
    """Print every unmet `expect:` to stderr; 1 if there is one."""
    from ..expect import check

    mismatches = check(analysis)
    print_diagnostics(mismatches)
    return 1 if mismatches else 0


@click.command()
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "markdown")), default="text", show_default=True,
              help="markdown: the page docs/layers.md.")
def types(fmt: str) -> None:
    """List every layer type with its aliases and parameters."""
    from .. import catalog

    click.echo(catalog.markdown() if fmt == "markdown" else catalog.text(), nl=False)
