"""`cnncalc solve`: the padding, stride or kernel that turns an input size into an output size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import CalcCommand, CalcOutput, calculator_options, size_range

if TYPE_CHECKING:
    from ..solve import Solved

LETTER = {"padding": "P", "stride": "S", "kernel": "F"}


@click.command(cls=CalcCommand)
@click.option("--input", "-i", "input_", type=size_range(1), required=True, help="Input size N (one side).")
@click.option("--output", "-o", type=size_range(1), required=True, help="Wanted output size.")
@click.option("--kernel", "-k", type=size_range(1), help="Kernel size F (leave out to solve for it).")
@click.option("--stride", "-s", type=size_range(1), help="Stride S (leave out to solve for it; default 1).")
@click.option("--padding", "-p", type=size_range(0),
              help="Padding P per side (leave out to solve for it; default 0).")
@click.option("--dilation", "-d", type=size_range(1), default=1, show_default=True)
@click.option("--for", "unknown", type=click.Choice(("padding", "stride", "kernel")),
              help="What to solve for (default: the one left out; padding if stride and padding are both left out).")
@calculator_options
def solve(out: CalcOutput, input_: int, output: int, kernel: int | None, stride: int | None, padding: int | None,
          dilation: int, unknown: str | None) -> None:
    """Find every padding, stride or kernel size that gives output size OUTPUT.

    Uses the conv/pool rule ⌊(N − F + 2P)/S⌋ + 1 = OUTPUT and lists every integer solution,
    or says that none exists (exit status 1).

    \b
    cnncalc solve --input 32 --kernel 5 --output 32             → padding 2
    cnncalc solve --input 7 --kernel 3 --output 3 --padding 0   → stride 2
    cnncalc solve --input 32 --output 28                        → kernel 5
    """
    from ..solve import SolveError
    from ..solve import solve as do_solve

    try:
        r = do_solve(input_, output, kernel, stride, padding, dilation, unknown)
    except SolveError as exc:
        raise click.UsageError(str(exc)) from None
    if out.fmt == "json":
        _json(r, out.explain)
    elif out.fmt == "markdown":
        _markdown(r, out.explain)
    else:
        _text(r, out.explain)
    if not r.values:
        click.echo(f"error: {_none(r)}" + (f"; {r.hint}" if r.hint else ""), err=True)
        raise SystemExit(1)


def _given(r: Solved) -> str:
    g = r.given
    parts = [f"input {g['input']}"] + [f"{k} {g[k]}" for k in ("kernel", "stride", "padding") if k in g]
    if g["dilation"] != 1:
        parts.append(f"dilation {g['dilation']}")
    return ", ".join(parts)


def _none(r: Solved) -> str:
    return f"no integer {r.unknown} gives output {r.given['output']} from {_given(r)}"


def _lines(r: Solved) -> list[str]:
    """One line per solution (a long range is summarised), each with its forward check."""
    from ..solve import SHOW_MAX

    vals = r.values
    shown = list(vals) if len(vals) <= SHOW_MAX else [vals[0], vals[-1]]
    lines = []
    for v in shown:
        d = r.check(v)
        note = "" if d.exact else (
            "  (stride does not fit: rounded down" + (f"; the last {d.unread} input row{'s are' if d.unread > 1 else ' is'}"
                                                       " never read)" if d.unread else ")"))
        lines.append(f"{r.unknown} = {v}: output = {d.formula}{note}")
    if len(vals) > SHOW_MAX:
        lines.insert(1, f"… every {r.unknown} from {vals[0]:,} to {vals[-1]:,} ({len(vals):,} values) …")
    if r.unbounded:
        lines.append(f"… and every larger {r.unknown}")
    return lines


def _summary(r: Solved) -> str:
    vals = r.values
    if r.unbounded:
        return f"{r.unknown} ≥ {vals[0]}"
    if len(vals) == 1:
        return f"{r.unknown} = {vals[0]}"
    return f"{r.unknown} = {vals[0]} … {vals[-1]} ({len(vals):,} solutions)" if len(vals) > 3 else \
        f"{r.unknown} = {' or '.join(map(str, vals))}"


def _text(r: Solved, explain: bool) -> None:
    from ..explain import INDENT

    if explain:
        click.echo(f"solve for {r.unknown} ({LETTER[r.unknown]}) with {_given(r)}, output {r.given['output']}:")
        for line in r.derivation:
            click.echo(INDENT + line)
    if not r.values:
        return
    click.echo(_summary(r))
    for line in _lines(r):
        click.echo(INDENT + line)


def _markdown(r: Solved, explain: bool) -> None:
    out = [f"Solve for **{r.unknown}** with {_given(r)}, output {r.given['output']}:", ""]
    if explain:
        out += [f"- `{line}`" for line in r.derivation] + [""]
    if r.values:
        out.append(f"**{_summary(r)}**")
        out += [""] + [f"- `{line}`" for line in _lines(r)]
    else:
        out.append(f"**{_none(r)}**" + (f"; {r.hint}" if r.hint else ""))
    click.echo("\n".join(out))


JSON_MAX = 1000  # list at most this many values in JSON; `first`, `last` and `count` are always exact


def _json(r: Solved, explain: bool) -> None:
    import json

    vals = r.values
    doc: dict[str, Any] = {"unknown": r.unknown, "given": r.given, "count": len(vals),
                           "first": vals[0] if vals else None, "last": vals[-1] if vals else None,
                           "unbounded": r.unbounded, "solutions": [], "hint": r.hint}
    for v in list(vals[:JSON_MAX]):
        d = r.check(v)
        doc["solutions"].append({r.unknown: v, "exact": d.exact, "ratio": d.ratio})
    if explain:
        doc["explain"] = r.derivation + _lines(r) if vals else r.derivation
    click.echo(json.dumps(doc, indent=2))
