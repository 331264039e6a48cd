"""Helpers shared by the subcommands: console setup, error printing, --set parsing."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..errors import SpecError


def console(stderr: bool = False) -> Console:
    """A rich console that respects NO_COLOR and does not wrap tables when piped."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def fail(err: SpecError) -> NoReturn:
    """Print every diagnostic as `file:line:col: error: message [rule]` and exit 1."""
    for d in err.diagnostics:
        click.echo(d.format(), err=True)
    sys.exit(1)


def parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    """`--set k=256` pairs; values are read as YAML scalars (numbers, booleans, strings)."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        import yaml

        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)):
            raise click.BadParameter(f"{item!r}: the value must be a single number, boolean or string",
                                     param_hint="--set")
        out[key.strip()] = value
    return out


def print_warnings(warnings: list) -> None:
    for w in warnings:
        click.echo(w.format(), err=True)


def _check_convention(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    from .. import conventions

    try:
        return conventions.get(value).name
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def convention_option(f: Any) -> Any:
    """`--convention NAME`: which tool's rules turn op counts into the reported MACs and FLOPs."""
    return click.option("--convention", "convention", metavar="NAME", default=None, callback=_check_convention,
                        help="How MACs/FLOPs are counted: cnncalc (default), torchvision, fvcore, thop, torchinfo, "
                             "ptflops or calflops; see `cnncalc conventions`.")(f)
