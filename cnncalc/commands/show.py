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


def _sweep(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, list] | None:
    """`size=160,224,320` → ("size", [160, 224, 320]); each value is read as `--set` reads one."""
    if value is None:
        return None
    from ..limits import MAX_SWEEP

    key, sep, raw = value.partition("=")
    items = [v.strip() for v in raw.split(",")]
    if not sep or not key.strip() or not raw.strip() or "" in items:
        raise click.BadParameter(f"{value!r} is not NAME=V1,V2,... (e.g. size=160,224,320)", ctx, param)
    if len(items) > MAX_SWEEP:
        raise click.BadParameter(f"at most {MAX_SWEEP} values, got {len(items)}", ctx, param)
    name = key.strip()
    return name, [parse_sets((f"{name}={v}",))[name] for v in items]


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
@click.option("--batch-size", "-b", type=click.IntRange(min=1),
              help="Put a batch of this size in the shapes, MACs, FLOPs and memory (params do not change).")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), help="Element type for memory  [default: float32]")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_STATES)),
              help="Optimizer state in the training-memory estimate  [default: adam]")
@click.option("--explain", is_flag=True, help="Show each layer's numbers derived step by step (not with csv).")
@click.option("--sweep", metavar="NAME=V1,V2,...", callback=_sweep,
              help="One row per value of a spec param (e.g. the input size: --sweep size=160,224,320): "
                   "shapes, params, MACs and FLOPs of the whole network.")
@convention_option
def show(file: str, fmt: str, sets: tuple[str, ...], columns: tuple[str, ...], wide: bool, batch_size: int | None,
         dtype: str | None, optimizer: str | None, explain: bool, sweep: tuple[str, list] | None,
         convention: str) -> None:
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
    if sweep is not None:
        for option, given in (("--explain", explain), ("--columns", columns), ("--dtype", dtype),
                              ("--optimizer", optimizer), ("--wide", wide)):
            if given:
                raise click.BadParameter(f"--sweep prints one row per value, not the layers: leave out {option}",
                                         param_hint="--sweep")
        if sweep[0] in overrides:
            raise click.BadParameter(f"{sweep[0]} is both swept and set (--set {sweep[0]}=...); give one",
                                     param_hint="--sweep")
        _show_sweep(file, fmt, sweep[0], sweep[1], overrides, convention, batch_size)
        return
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
                    keep=columns, wide=wide, batch=batch_size)
        if explain:
            from .. import explain as ex

            click.echo("\n" + ex.to_text(analysis))
    elif fmt == "json":
        import json

        from .. import render

        doc = render.json_doc(analysis, memory, batch_size)
        if explain:
            from .. import explain as ex

            doc = ex.add_to_dict(doc, analysis)
        click.echo(json.dumps(doc, indent=2))
    else:
        from .. import render

        text = {"markdown": render.to_markdown, "csv": render.to_csv}[fmt](analysis, extra, memory, batch_size)
        if explain:
            from .. import explain as ex

            text = text.rstrip("\n") + "\n\n" + ex.to_markdown(analysis)
        click.echo(text.rstrip("\n"))
    if fmt != "json":  # json carries them under "warnings"
        print_diagnostics(analysis.warnings)
    sys.exit(unmet(analysis))


def _show_sweep(file: str, fmt: str, name: str, values: list, overrides: dict, convention: str,
                batch: int | None) -> None:
    from .. import sweep
    from ..errors import SpecError
    from ..render import sweep as out

    try:
        points = sweep.run(file, name, values, overrides, convention)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(failure_status(exc))
    if fmt == "table":
        from ..render.table import console

        out.print_table(points, name, console(), batch)
    elif fmt == "json":
        click.echo(out.to_json(points, name, batch))
    else:
        click.echo({"markdown": out.to_markdown, "csv": out.to_csv}[fmt](points, name, batch).rstrip("\n"))
    if fmt != "json":  # json carries them in each row
        print_diagnostics(sweep.merge([(p.value, p.analysis.warnings) for p in points], name, len(points)))


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
