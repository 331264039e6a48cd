"""`cnncalc diagram`."""

from __future__ import annotations

import click

from .common import fail, parse_sets, print_diagnostics, refuse_overwrite, write_output


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write to this file instead of standard output.")
@click.option("--format", "-f", "fmt", type=click.Choice(("svg", "mermaid")), default="svg", show_default=True,
              help="svg: a drawing like the slides; mermaid: a flowchart for Markdown.")
@click.option("--width", type=click.IntRange(min=0), default=1800, show_default=True, metavar="PIXELS",
              help="SVG: wrap into a new row past this width (0: one row).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec param (repeatable).")
def diagram(file: str, output: str | None, fmt: str, width: int, sets: tuple[str, ...]) -> None:
    """Draw FILE: each layer a block sized by its H, W and channels, branches side by side."""
    refuse_overwrite(output, file)
    from .. import analyse
    from ..errors import SpecError
    from ..importers import load_model as load

    try:
        analysis = analyse(load(file, parse_sets(sets)))
    except SpecError as err:
        fail(err)
    print_diagnostics(analysis.warnings)
    if fmt == "svg":
        from ..diagram.svg import render

        text = render(analysis, width)
    else:
        from ..diagram.mermaid import render as mermaid

        text = mermaid(analysis)
    write_output(text, output)
