"""`cnncalc conventions`: what each named MACs/FLOPs convention counts."""

from __future__ import annotations

import click


@click.command()
@click.argument("name", required=False)
def conventions(name: str | None) -> None:
    """List the counting conventions, or show NAME's rule for every layer family."""
    from .. import conventions as conv

    if name is None:
        for c in conv.CONVENTIONS.values():
            mark = " (default)" if c.name == conv.DEFAULT else ""
            click.echo(f"{c.name}{mark}: {c.summary}")
        click.echo("\n`cnncalc conventions NAME` shows the rules; docs/flops.md explains them.")
        return
    try:
        c = conv.get(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo("\n".join(conv.describe(c)))
