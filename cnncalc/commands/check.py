"""`cnncalc check FILE…`: verify the `expect:` assertions of spec files (regression tests)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..analysis import Analysis


def report_expectations(analysis: Analysis) -> None:
    """Print every unmet `expect:` of an analysis to stderr and exit 1 if there is one (used by `show`)."""
    from ..expect import check

    mismatches = check(analysis)
    for d in mismatches:
        click.echo(d.format(), err=True)
    if mismatches:
        sys.exit(1)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--quiet", "-q", is_flag=True, help="Print only the mismatches, not one line per passing file.")
def check(files: tuple[str, ...], quiet: bool) -> None:
    """Check the `expect:` values (output_shape, params, macs, ...) of each FILE (directories: *.yaml).

    Prints `file:line:col: error: expected params 760, got 750 [expect-failed]` for every mismatch.
    Exit status: 0 all expectations met, 1 a mismatch or an invalid spec, 2 a file could not be read.
    """
    from .. import expect
    from ..errors import SpecError
    from ..lint import expand
    from ..spec import load

    status = 0
    for f in expand(files):
        try:
            analysis = load(f).analyse()
        except SpecError as err:
            for d in err.diagnostics:
                click.echo(d.format(), err=True)
            status = max(status, 2 if any(d.rule == "unreadable" for d in err.diagnostics) else 1)
            continue
        problems = expect.check(analysis)
        for d in problems:
            click.echo(d.format(), err=True)
        n = expect.count(analysis)
        if problems:
            status = max(status, 1)
        elif not quiet:
            click.echo(f"{f}: {n} expectation{'' if n == 1 else 's'} met" if n else f"{f}: no expectations")
    sys.exit(status)
