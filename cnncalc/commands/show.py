"""`cnncalc show` and `cnncalc types`."""

from __future__ import annotations

import sys

import click

from ..memory import DTYPE_BYTES, OPTIMIZER_STATES, MemoryConfig
from ..render import FORMATS
from .check import report_expectations
from .common import console, convention_option, fail, parse_sets, print_warnings


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
              help="Extra table/csv/markdown columns: rf,jump,start,act,act_mem,param_mem or all (json has all).")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), help="Batch size for memory  [default: 1]")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), help="Element type for memory  [default: float32]")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_STATES)),
              help="Optimizer state in the training-memory estimate  [default: adam]")
@click.option("--explain", is_flag=True, help="Show each layer's numbers derived step by step (not with csv).")
@convention_option
def show(file: str, fmt: str, sets: tuple[str, ...], columns: tuple[str, ...], batch_size: int | None,
         dtype: str | None, optimizer: str | None, explain: bool, convention: str) -> None:
    """Analyse FILE and print each layer's output shape, params, MACs and FLOPs."""
    from .. import load
    from ..errors import SpecError

    if explain and fmt == "csv":
        raise click.BadParameter("--explain works with table, markdown and json output, not csv",
                                 param_hint="--explain")
    try:
        analysis = load(file, parse_sets(sets)).analyse(convention=convention)
    except SpecError as err:
        fail(err)
    mem = MemoryConfig(batch_size or 1, dtype or "float32", optimizer or "adam")
    if fmt == "table":
        from ..render.ansi import table_ansi
        from ..render.plain import plain_stream, table_text

        summary = bool(batch_size or dtype or optimizer)
        # the bytes rich would write, without importing rich: piped (render/plain.py) or to a terminal,
        # escape codes included (render/ansi.py)
        text = None
        if not columns and not summary:
            text = table_text(analysis) if plain_stream(sys.stdout) else table_ansi(analysis, sys.stdout)
        if text is not None:
            sys.stdout.write(text)
        else:
            from ..render.table import print_table

            print_table(analysis, console(), columns, mem, memory_summary=summary)
        if explain:
            from ..render import explain as ex

            click.echo("\n" + ex.to_text(analysis))
        print_warnings(analysis.warnings)
        report_expectations(analysis)
        return
    from .. import render

    text = {"json": render.to_json, "markdown": render.to_markdown, "csv": render.to_csv}[fmt](analysis, columns, mem)
    if explain:
        from ..render import explain as ex

        if fmt == "json":
            import json

            text = json.dumps(ex.add_to_dict(json.loads(text), analysis), indent=2)
        else:
            text = text.rstrip("\n") + "\n\n" + ex.to_markdown(analysis)
    click.echo(text.rstrip("\n"))
    if fmt != "json":
        print_warnings(analysis.warnings)
    report_expectations(analysis)


@click.command()
def types() -> None:
    """List every layer type with its aliases and parameters."""
    from ..layers import REQUIRED, all_types

    for name, cls in all_types().items():
        aliases = f" (aliases: {', '.join(cls.aliases)})" if cls.aliases else ""
        click.echo(f"{name}{aliases}: {cls.doc}")
        for pname, p in cls.params.items():
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            alias = f" [{', '.join(p.aliases)}]" if p.aliases else ""
            click.echo(f"    {pname}{alias}: {default}{' - ' + p.doc if p.doc else ''}")
