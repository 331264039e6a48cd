"""`cnncalc show` and `cnncalc types`."""

from __future__ import annotations

import sys

import click

from ..memory import DTYPE_BYTES, OPTIMIZER_STATES
from ..render import FORMATS
from . import actions
from .common import convention_option, parse_sets


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
    if explain and fmt == "csv":
        raise click.BadParameter("--explain works with table, markdown and json output, not csv",
                                 param_hint="--explain")
    status = actions.show(file, fmt, parse_sets(sets), columns, batch_size, dtype, optimizer, explain, convention)
    if status:
        sys.exit(status)


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
