"""`cnncalc diff A B`: layers added, removed and changed, and the totals, between two specs."""

from __future__ import annotations

import json
import sys

import click

from ..memory import DTYPE_BYTES
from .common import convention_option, parse_sets, print_diagnostics
from .report import load


def _thresholds(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    from ..diff import Threshold

    out = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                try:
                    out.append(Threshold.parse(part))
                except ValueError as exc:
                    raise click.BadParameter(str(exc), ctx, param) from None
    return out


@click.command()
@click.argument("a", type=click.Path(dir_okay=False, path_type=str))
@click.argument("b", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "-f", "fmt", type=click.Choice(("table", "json", "markdown")), default="table",
              show_default=True, help="markdown: for a pull-request comment; json: every layer pair.")
@click.option("--all", "all_layers", is_flag=True, help="Also list the layers that did not change.")
@click.option("--fail-on", "fail_on", multiple=True, callback=_thresholds, metavar="RULE",
              help="Exit 1 when a total changes past RULE, e.g. 'params>+5%', 'macs>0', 'flops<-10%' "
                   "(repeatable or comma-separated; metrics: params, trainable_params, non_trainable_params, "
                   "macs, flops, activation_elements).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a param of both specs (repeatable).")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), help="Element type for memory  [default: float32]")
@convention_option
def diff(a: str, b: str, fmt: str, all_layers: bool, fail_on: list, sets: tuple[str, ...], dtype: str | None,
         convention: str) -> None:
    """Compare spec A with spec B: layers added, removed and changed (shape, params, MACs, FLOPs,
    receptive field), matched by name and else by position in the graph, and the totals.

    Exit status: 0 (differences are not errors), 1 a --fail-on rule is crossed or a spec has a problem,
    2 a file cannot be read.
    """
    from .. import diff as d
    from .report import memory_config

    overrides = parse_sets(sets)
    analysis_a = load(a, overrides, convention)
    analysis_b = load(b, overrides, convention)
    doc = d.diff(analysis_a, analysis_b, convention, memory_config(None, dtype, None))
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    elif fmt == "markdown":
        click.echo(d.to_markdown(doc, all_layers), nl=False)
    else:
        from .common import console

        d.to_table(doc, console(), all_layers)
    failures = d.check(doc, fail_on, analysis_a, analysis_b)
    print_diagnostics(failures)
    sys.exit(1 if failures else 0)
