"""`cnncalc export` and `cnncalc verify`."""

from __future__ import annotations

import sys

import click

from .common import console, fail, parse_sets, print_diagnostics, refuse_overwrite, write_output

TARGETS = ("pytorch", "torch", "keras")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="Framework to write code for.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write the code to this file instead of standard output.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec param (repeatable).")
def export(file: str, target: str, output: str | None, sets: tuple[str, ...]) -> None:
    """Write FILE as a PyTorch nn.Module or a Keras 3 functional model (see docs/export.md)."""
    refuse_overwrite(output, file)
    from .. import analyse
    from ..errors import SpecError
    from ..export import export as generate
    from ..importers import load_model as load

    try:
        analysis = analyse(load(file, parse_sets(sets)))
        code = generate(analysis, "pytorch" if target == "torch" else target).code  # names the spec as given
    except SpecError as err:
        fail(err)
    print_diagnostics(analysis.warnings)
    write_output(code, output)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--framework", "-f", type=click.Choice(("torch", "keras")), default="torch", show_default=True,
              help="Framework to build the model in (keras runs on KERAS_BACKEND, default torch).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec param (repeatable).")
@click.option("--all/--mismatches", "show_all", default=True, show_default=True,
              help="List every layer, or only those that differ.")
def verify(file: str, framework: str, sets: tuple[str, ...], show_all: bool) -> None:
    """Build FILE in PyTorch or Keras, run zeros through it and compare every layer's output shape and
    parameter counts with cnncalc's. Exit 1 on any difference, 2 if the framework is not installed."""
    from .. import analyse
    from ..errors import SpecError
    from ..export.verify import MissingFramework
    from ..export.verify import verify as run
    from ..importers import load_model as load

    try:
        analysis = analyse(load(file, parse_sets(sets)))
        report = run(analysis, framework)
    except SpecError as err:
        fail(err)
    except MissingFramework as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the framework refused the generated model: report it on one line
        from ..errors import visible

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(visible(f"error: {framework} could not build or run the exported model: {type(exc).__name__}: "
                           f"{first}"), err=True)
        sys.exit(1)
    print_diagnostics(analysis.warnings)
    _print(analysis, report, show_all)
    sys.exit(0 if report.ok else 1)


def _print(analysis, report, show_all: bool) -> None:  # type: ignore[no-untyped-def]
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..errors import visible
    from ..render import shape_text

    out = console()
    fw = {"torch": "PyTorch", "keras": "Keras"}[report.framework]
    # names are Text, never markup: `[link=…]` or `[/bold]` in a spec is shown as written
    table = Table(title=Text(visible(f"{analysis.name}: cnncalc vs {fw} {report.version}")), box=box.SIMPLE_HEAD,
                  title_justify="left")
    table.add_column("", width=1)
    table.add_column("Layer", style="bold")
    table.add_column(f"{fw} name", style="dim")
    table.add_column("Shape (cnncalc)")
    table.add_column(f"Shape ({fw})")
    table.add_column("Params (cnncalc)", justify="right")
    table.add_column(f"Params ({fw})", justify="right")

    def params(t: int, n: int) -> str:
        return f"{t:,}" + (f" + {n:,}" if n else "") if t or n else "-"

    for r in report.rows:
        if not show_all and r.ok:
            continue
        bad = "[red]" if not r.ok else ""
        got_shape = shape_text(r.got_shape) if r.got_shape is not None else "(no output)"
        table.add_row("[green]✓[/green]" if r.ok else "[red]✗[/red]", Text(visible(r.name)), Text(visible(r.target)),
                      shape_text(r.shape), f"{bad}{got_shape}", params(r.trainable, r.non_trainable),
                      f"{bad}{params(r.got_trainable, r.got_non_trainable)}")
    if table.row_count:
        out.print(table)
    rows = report.rows
    tot = report.expected
    got = report.totals or (sum(r.got_trainable for r in rows), sum(r.got_non_trainable for r in rows))
    mismatches = report.mismatches
    out.print(f"Params: cnncalc {tot[0]:,} trainable + {tot[1]:,} non-trainable; {fw} {got[0]:,} + {got[1]:,}",
              highlight=False)
    if mismatches:
        out.print(Text.assemble((f"{len(mismatches)} of {len(rows)} layers differ", "red"),
                                f" (first: {visible(mismatches[0].name)})"), highlight=False)
    elif not report.ok:
        out.print(f"[red]the model's parameter total differs[/red] ({fw} counts each shared weight once)",
                  highlight=False)
    else:
        out.print(f"[green]{len(rows)}/{len(rows)} layers agree[/green] with {fw}", highlight=False)
