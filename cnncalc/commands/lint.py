"""`cnncalc lint FILE… | DIR…`: check spec files for CI and pre-commit."""

from __future__ import annotations

import sys

import click

FORMATS = ("text", "json", "github")  # = cnncalc.lint.FORMATS, repeated so --help does not import it


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: file:line:col lines; json: one object (docs/lint.md); github: Actions annotations.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only: no warnings, no summary.")
@click.option("--skip-non-specs", is_flag=True,
              help="Silently skip YAML files that are not cnncalc specs (no `input`/`layers`), e.g. in hooks.")
def lint(paths: tuple[str, ...], fmt: str, strict: bool, quiet: bool, skip_non_specs: bool) -> None:
    """Check every FILE (directories: every *.yaml/*.yml below) and report every problem.

    Schema, references, shapes, `expect:` assertions and warnings; one line per problem:
    `path:line:col: error|warning: message [rule-id]`. Rules: docs/lint.md.
    Exit status: 0 clean, 1 problems found, 2 usage error or unreadable input.
    """
    from .. import lint as engine

    report = engine.lint(paths, strict=strict, skip_non_specs=skip_non_specs)
    click.echo(engine.RENDER[fmt](report, quiet), nl=False)
    if not quiet and fmt != "json":
        click.echo(engine.summary(report), err=True)
    sys.exit(report.exit_code)
