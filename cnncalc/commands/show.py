"""`cnncalc show` and `cnncalc types`."""

from __future__ import annotations

import sys

import click

from ..render import FORMATS
from .common import console, fail, parse_sets, print_warnings


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format; json is a stable public interface (docs/json.md).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a spec param, e.g. --set k=256 (repeatable).")
def show(file: str, fmt: str, sets: tuple[str, ...]) -> None:
    """Analyse FILE and print each layer's output shape, params, MACs and FLOPs."""
    from .. import load
    from ..errors import SpecError

    try:
        analysis = load(file, parse_sets(sets)).analyse()
    except SpecError as err:
        fail(err)
    if fmt == "table":
        from ..render.plain import plain_stream, table_text

        # piped output: the same characters rich would print, without importing rich (render/plain.py)
        text = table_text(analysis) if plain_stream(sys.stdout) else None
        if text is not None:
            sys.stdout.write(text)
        else:
            from ..render.table import print_table

            print_table(analysis, console())
        print_warnings(analysis.warnings)
        return
    from .. import render

    text = {"json": render.to_json, "markdown": render.to_markdown, "csv": render.to_csv}[fmt](analysis)
    click.echo(text.rstrip("\n"))
    if fmt != "json":
        print_warnings(analysis.warnings)


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
