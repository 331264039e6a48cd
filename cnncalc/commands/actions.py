"""What `show`, `lint` and `check` do, without click: shared by their click commands and by the
launcher's fast path (cnncalc/launch.py), so that the commonest invocations never import click.

Each action prints to sys.stdout / sys.stderr and returns the exit status; usage errors are
the click commands' business and never reach here.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..errors import Diagnostic, SpecError
    from ..memory import MemoryConfig


def out(text: str, nl: bool = True) -> None:
    sys.stdout.write(text + "\n" if nl else text)


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        err(d.format())


def _unmet(analysis: Analysis) -> int:
    """Print every unmet `expect:` to stderr; 1 if there is one."""
    net = analysis.network
    if net.expect is None and not net.block_expects and all(layer.spec.expect is None for layer in analysis.layers):
        return 0  # nothing to check: spare the import
    from ..expect import check

    mismatches = check(analysis)
    print_diagnostics(mismatches)
    return 1 if mismatches else 0


def show(file: str, fmt: str = "table", overrides: dict | None = None, columns: tuple[str, ...] = (),
         batch_size: int | None = None, dtype: str | None = None, optimizer: str | None = None,
         explain: bool = False, convention: str | None = None) -> int:
    """`cnncalc show`: the analysis of FILE in `fmt` (table, json, markdown, csv)."""
    from .. import analyse, load
    from ..errors import SpecError

    try:
        analysis = analyse(load(file, overrides), convention=convention)
    except SpecError as exc:
        return _failed(exc)
    summary = bool(batch_size or dtype or optimizer)
    if fmt == "table":
        from ..render.plain import plain_stream, table_text

        # the bytes rich would write, without importing rich: piped (render/plain.py) or to a terminal,
        # escape codes included (render/ansi.py)
        text = None
        if not columns and not summary:
            if plain_stream(sys.stdout):
                text = table_text(analysis)
            else:
                from ..render.ansi import table_ansi

                text = table_ansi(analysis, sys.stdout)
        if text is not None:
            out(text, nl=False)
        else:
            from ..render.table import console, print_table

            print_table(analysis, console(), columns, _memory(batch_size, dtype, optimizer), memory_summary=summary)
        if explain:
            from .. import explain as ex

            out("\n" + ex.to_text(analysis))
        print_diagnostics(analysis.warnings)
        return _unmet(analysis)
    from .. import render

    mem = _memory(batch_size, dtype, optimizer) if fmt == "json" or columns else None
    if fmt == "json":
        from ..render.jsontext import dumps

        doc = render.json_doc(analysis, mem)
        if explain:
            from .. import explain as ex

            doc = ex.add_to_dict(doc, analysis)
        text = dumps(doc)
    else:
        text = {"markdown": render.to_markdown, "csv": render.to_csv}[fmt](analysis, columns, mem)
        if explain:
            from .. import explain as ex

            text = text.rstrip("\n") + "\n\n" + ex.to_markdown(analysis)
    out(text.rstrip("\n"))
    if fmt != "json":
        print_diagnostics(analysis.warnings)
    return _unmet(analysis)


def _memory(batch_size: int | None, dtype: str | None, optimizer: str | None) -> MemoryConfig:
    from ..memory import MemoryConfig

    return MemoryConfig(batch_size or 1, dtype or "float32", optimizer or "adam")


def _failed(exc: SpecError) -> int:
    print_diagnostics(exc.diagnostics)
    return 1


def lint(paths: tuple[str, ...] | list[str], fmt: str = "text", strict: bool = False, quiet: bool = False,
         skip_non_specs: bool = False) -> int:
    """`cnncalc lint`: every problem of every file; 0 clean, 1 problems, 2 unreadable input."""
    from .. import lint as engine

    report = engine.lint(paths, strict=strict, skip_non_specs=skip_non_specs)
    out(engine.RENDER[fmt](report, quiet), nl=False)
    if not quiet and fmt != "json":
        err(engine.summary(report))
    return report.exit_code


def check(files: tuple[str, ...] | list[str], quiet: bool = False) -> int:
    """`cnncalc check`: the `expect:` values of each file; 0 met, 1 mismatch or invalid, 2 unreadable."""
    from .. import expect
    from ..analysis import analyse
    from ..errors import SpecError
    from ..lint import expand
    from ..spec import load

    status = 0
    for f in expand(files):
        try:
            analysis = analyse(load(f))
        except SpecError as exc:
            print_diagnostics(exc.diagnostics)
            status = max(status, 2 if any(d.rule == "unreadable" for d in exc.diagnostics) else 1)
            continue
        problems = expect.check(analysis)
        print_diagnostics(problems)
        n = expect.count(analysis)
        if problems:
            status = max(status, 1)
        elif not quiet:
            out(f"{f}: {n} expectation{'' if n == 1 else 's'} met" if n else f"{f}: no expectations")
    return status
