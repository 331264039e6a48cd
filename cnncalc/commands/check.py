"""`cnncalc check FILE…`: verify the `expect:` assertions of spec files (regression tests)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--quiet", "-q", is_flag=True, help="Print only the mismatches, not one line per passing file.")
def check(files: tuple[str, ...], quiet: bool) -> None:
    """Check the `expect:` values (output_shape, params, macs, ...) of each FILE (directories: *.yaml).

    Prints `file:line:col: error: expected params 760, got 750 [expect-failed]` for every mismatch.
    Exit status: 0 all expectations met, 1 a mismatch or an invalid spec, 2 a file could not be read.
    """
    from .. import analyse, expect
    from ..errors import SpecError, visible
    from ..lint import expand
    from .common import failure_status, print_diagnostics

    status = 0
    problems: list = []
    found = expand(files, problems)
    print_diagnostics(problems)  # a directory that cannot be read, a symlink not followed
    if any(d.rule == "unreadable" for d in problems):
        status = 2
    for f in found:
        try:
            analysis = analyse(f)
        except SpecError as exc:
            print_diagnostics(exc.diagnostics)
            status = max(status, failure_status(exc))
            continue
        problems = expect.check(analysis)
        print_diagnostics(problems)
        n = expect.count(analysis)
        if problems:
            status = max(status, 1)
        elif not quiet:
            click.echo(visible(f"{f}: {n} expectation{'' if n == 1 else 's'} met" if n else f"{f}: no expectations"))
    sys.exit(status)

