"""The `cnncalc` console script: the commonest invocations without importing click.

Importing click costs more than analysing a network, and `cnncalc show net.yaml` or
`cnncalc lint specs/` are run dozens of times an hour and in CI over hundreds of files. So the
plain forms of `show`, `lint`, `check` and `--version` are parsed here, by the same option
table the click commands declare, and run through the same click-free actions
(commands/actions.py). Anything else (help, an unknown or repeated option, a bad value, `--`)
goes to click, which parses it, or words the error, exactly as always.
tests/test_launch.py runs every fast form both ways and compares the output.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

# command → (option → (key, allowed values or None for a flag), how many positional arguments)
SHOW_FORMATS = ("table", "json", "markdown", "csv")
LINT_FORMATS = ("text", "json", "github")
_OPTIONS: dict[str, tuple[dict[str, tuple[str, tuple[str, ...] | None]], str]] = {
    "show": ({"--format": ("fmt", SHOW_FORMATS), "-f": ("fmt", SHOW_FORMATS), "--explain": ("explain", None),
              "--convention": ("convention", ())}, "one"),
    "lint": ({"--format": ("fmt", LINT_FORMATS), "-f": ("fmt", LINT_FORMATS), "--strict": ("strict", None),
              "--quiet": ("quiet", None), "-q": ("quiet", None), "--skip-non-specs": ("skip_non_specs", None)},
             "some"),
    "check": ({"--quiet": ("quiet", None), "-q": ("quiet", None)}, "some"),
}


def parse(args: Sequence[str]) -> tuple[str, list[str], dict[str, Any]] | None:
    """(command, positional arguments, options) for a fast form, else None (click decides)."""
    if not args or args[0] not in _OPTIONS:
        return None
    command = args[0]
    table, arity = _OPTIONS[command]
    positional: list[str] = []
    options: dict[str, Any] = {}
    i = 1
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name not in table:
            return None  # --help, an unknown option, -fjson, --: click's parser
        key, allowed = table[name]
        if key in options:
            return None
        if allowed is None:
            if eq:
                return None  # --strict=yes: click's error
            options[key] = True
            continue
        if not eq:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if allowed and value not in allowed:
            return None
        options[key] = value
    if (arity == "one" and len(positional) != 1) or not positional:
        return None
    return command, positional, options


def _show(positional: list[str], options: dict[str, Any]) -> int | None:
    from .commands import actions

    file = positional[0]
    fmt = options.get("fmt", "table")
    if (fmt == "csv" and options.get("explain")) or os.path.isdir(file):
        return None  # usage errors, worded by click
    convention = options.get("convention")
    if convention is not None:
        from . import conventions

        try:
            convention = conventions.get(convention).name
        except ValueError:
            return None
    return actions.show(file, fmt, explain=bool(options.get("explain")), convention=convention)


def _lint(positional: list[str], options: dict[str, Any]) -> int | None:
    from .commands import actions

    return actions.lint(positional, options.get("fmt", "text"), bool(options.get("strict")),
                        bool(options.get("quiet")), bool(options.get("skip_non_specs")))


def _check(positional: list[str], options: dict[str, Any]) -> int | None:
    from .commands import actions

    return actions.check(positional, bool(options.get("quiet")))


_RUN: dict[str, Callable[[list[str], dict[str, Any]], int | None]] = {"show": _show, "lint": _lint, "check": _check}


def fast(args: Sequence[str]) -> int | None:
    """Run a fast form and return its exit status, or None if click must handle `args`."""
    if list(args) == ["--version"]:
        from . import __version__

        sys.stdout.write(f"cnncalc, version {__version__}\n")  # click.version_option's wording
        return 0
    parsed = parse(args)
    if parsed is None:
        return None
    command, positional, options = parsed
    return _RUN[command](positional, options)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `cnncalc` script and of `python -m cnncalc`; exits with the status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if os.environ.get("CNNCALC_NO_FAST_PATH") != "1":
        # A fast command builds no reference cycles (tests/test_no_cycles.py), so the cyclic
        # collector only costs time: its passes over the freshly imported modules and the parsed
        # specs were 12% of `lint`'s time (27% when the files fail) and ~0.6 ms of a `show`.
        import gc

        collecting = gc.isenabled()
        gc.disable()
        try:
            status = fast(args)
            if status is not None:
                sys.stdout.flush()
        except BrokenPipeError:  # `cnncalc lint big/ | head`: stop quietly with status 1, as click does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(1)
        except KeyboardInterrupt:  # as click: a newline, "Aborted!", status 1
            sys.stderr.write("\nAborted!\n")
            sys.exit(1)
        finally:
            if collecting:  # for a caller in the same process, and for click's commands, which run
                gc.enable()  # anything (export builds torch models)
        if status is not None:
            sys.exit(status)
    from .cli import main as click_main

    click_main(args=None if argv is None else args)
