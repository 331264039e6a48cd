"""Helpers shared by the subcommands: console setup, error printing, --set parsing, calculator options."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import visible

if TYPE_CHECKING:
    from rich.console import Console

    from ..errors import SpecError


def console(stderr: bool = False) -> Console:
    from ..render.table import console as make

    return make(stderr)


def fail(err: SpecError) -> NoReturn:
    """Print every diagnostic as `file:line:col: error: message [rule]` and exit 1."""
    for d in err.diagnostics:
        click.echo(d.format(), err=True)
    sys.exit(1)


def failure_status(err: SpecError) -> int:
    """The exit status of a spec that failed to load: 2 when the file could not be read (as `lint`
    and `check`), 1 for a problem in the spec."""
    return 2 if any(d.rule == "unreadable" for d in err.diagnostics) else 1


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


def print_diagnostics(diagnostics: list) -> None:
    """Each as `file:line:col: error|warning: message [rule]` on stderr."""
    for d in diagnostics:
        click.echo(d.format(), err=True)


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


# ---- calculators (conv, pool, dense, size, solve) -------------------------------------------

CALC_FORMATS = ("text", "json", "markdown")


@dataclass
class CalcOutput:
    """The options every calculator shares; a new shared option is one field here plus one click option
    in `calculator_options` (e.g. --convention: its value reaches every layer calculator already)."""

    fmt: str = "text"
    explain: bool = False
    convention: str | None = None  # counting convention for MACs/FLOPs (None: the default)


def calculator_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --format and --explain to a calculator; the command receives them as `out: CalcOutput`."""

    fields = ("fmt", "explain", "convention")

    @functools.wraps(f)
    def wrapper(**kwargs: Any) -> Any:
        shared = {k: kwargs.pop(k) for k in fields if k in kwargs}
        return f(out=CalcOutput(**shared), **kwargs)

    wrapper = convention_option(wrapper)
    wrapper = click.option("--explain", is_flag=True,
                           help="Derive every number with the values substituted.")(wrapper)
    wrapper = click.option("--format", "-f", "fmt", type=click.Choice(CALC_FORMATS), default="text",
                           show_default=True, help="json: one object, same keys as a `show --format json` layer.")(wrapper)
    return wrapper


def sizes(parts: list[str], value: Any, kind: click.ParamType, param: click.Parameter | None,
          ctx: click.Context | None) -> tuple[int, ...]:
    """The integers of an option value, each at most MAX_DIM (the limit specs have: larger sizes mean
    nothing for a network, and refusing them keeps every number exact and every answer quick)."""
    from ..limits import MAX_DIM

    if any(len(p.lstrip("+-")) > 18 for p in parts) or any(abs(int(p)) > MAX_DIM for p in parts):
        kind.fail(f"{_short(str(value))} is too large (sizes are at most {MAX_DIM:,})", param, ctx)
    return tuple(int(p) for p in parts)


class SizeRange(click.ParamType):
    """An integer from `minimum` to MAX_DIM (a size, stride, padding or dilation of `size`, `solve`)."""

    name = "INTEGER"

    def __init__(self, minimum: int):
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            self.fail(f"{_short(text)} is not an integer", param, ctx)
        from ..limits import MAX_DIM

        if len(text.lstrip("+-")) > 18 or not self.minimum <= int(text) <= MAX_DIM:
            self.fail(f"{_short(text)} is not in the range {self.minimum}<=x<={MAX_DIM}", param, ctx)
        return int(text)


def size_range(minimum: int) -> SizeRange:
    """An integer option or argument from `minimum` to MAX_DIM."""
    return SizeRange(minimum)


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"


class SizeType(click.ParamType):
    """An integer or an HxW pair ('3', '3x5', '3,5'), each at least `minimum`."""

    name = "INT|HxW"

    def __init__(self, minimum: int = 1):
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, tuple)):
            return value
        parts = re.split(r"\s*[xX×,]\s*", str(value).strip())
        if len(parts) not in (1, 2) or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
            self.fail(f"{value!r} is not an integer or an HxW pair like 3x5", param, ctx)
        ints = sizes(parts, value, self, param, ctx)
        if any(v < self.minimum for v in ints):
            self.fail(f"must be ≥ {self.minimum}, got {value}", param, ctx)
        return ints[0] if len(ints) == 1 else ints


class PaddingType(click.ParamType):
    """INT, H,W, top,bottom,left,right, 'same' or 'valid' (as the spec's `padding`)."""

    name = "INT|H,W|same|valid"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, list)):
            return value
        text = str(value).strip().lower()
        if text in ("same", "valid"):
            return text
        parts = re.split(r"\s*[xX×,]\s*", text)
        if len(parts) not in (1, 2, 4) or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
            self.fail(f"{value!r} is not INT, H,W, TOP,BOTTOM,LEFT,RIGHT, same or valid", param, ctx)
        ints = list(sizes(parts, value, self, param, ctx))
        if any(v < 0 for v in ints):
            self.fail(f"padding must be ≥ 0, got {value}", param, ctx)
        return ints[0] if len(ints) == 1 else ints


class ShapeType(click.ParamType):
    """A tensor shape without batch dimension: 32x32x3 (also 32,32,3)."""

    name = "SHAPE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        parts = re.split(r"\s*[xX×,]\s*", str(value).strip())
        if not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
            self.fail(f"{value!r} is not a shape like 32x32x3", param, ctx)
        dims = sizes(parts, value, self, param, ctx)
        if any(d < 1 for d in dims):
            self.fail(f"sizes must be ≥ 1, got {value}", param, ctx)
        return dims


def image_shape(shape: tuple[int, ...], layout: str, hint: str = "--input") -> tuple[int, ...]:
    """Check that a --input shape is an image (3 dims) in `layout` order."""
    if len(shape) != 3:
        want = "HxWxC, e.g. 32x32x3" if layout == "channels_last" else "CxHxW, e.g. 3x32x32"
        raise click.BadParameter(f"{'x'.join(map(str, shape))} has {len(shape)} dims; give {want} ({layout})",
                                 param_hint=hint)
    return shape


def fail_calc(err: SpecError, layer_name: str = "") -> NoReturn:
    """A calculator's layer rule failed (e.g. kernel larger than the input): one line per error, exit 1."""
    for d in err.diagnostics:
        msg = d.message
        if layer_name and msg.startswith(layer_name + ": "):
            msg = msg[len(layer_name) + 2:]
        click.echo(visible(f"error: {msg} [{d.rule}]"), err=True)
    sys.exit(1)


class _OneLineUsageError(click.UsageError):
    def show(self, file: Any = None) -> None:
        name = self.ctx.command_path if self.ctx else "cnncalc"
        click.echo(visible(f"error: {self.format_message()} (see `{name} --help`)"), err=True)


class CalcCommand(click.Command):
    """A command whose usage errors are one line (`error: ...`, exit 2) instead of click's usage block."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _OneLineUsageError(exc.format_message(), exc.ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _OneLineUsageError(exc.format_message(), exc.ctx or ctx) from None


def refuse_overwrite(output: str | None, source: str) -> None:
    """Exit 2, before any work, when `output` is the spec `source` that is read (also through a
    symlink or a hard link): `export a.yaml -o a.yaml` would replace the spec with code."""
    import os

    if not output:
        return
    try:
        same = os.path.samefile(output, source)
    except OSError:  # either does not exist (the spec's own error is reported later)
        return
    if same:
        click.echo(visible(f"{output}: error: this is the spec being read ({source}); write the output to "
                           "another file"), err=True)
        sys.exit(2)


def write_output(text: str, output: str | None) -> None:
    """Write to `output`, or to stdout when None. A regular file is written whole or not at all: the
    text goes to a temporary file in the same directory, which then replaces the target (a full disk
    or an interrupt leaves the old file as it was). A device or pipe (`-o /dev/null`) is written
    directly. One-line error and exit 1 if the file cannot be written."""
    if not output:
        click.echo(text, nl=False)
        return
    import contextlib
    import os
    import stat
    import tempfile

    try:
        target = os.path.realpath(output)  # through a symlink: the link stays, the file it names changes
        try:
            mode: int | None = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                                       dir=os.path.dirname(target))
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                # the permissions the file had, or those a new file gets (mkstemp makes it private)
                os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        click.echo(visible(f"{output}: error: cannot write: {reason}"), err=True)
        sys.exit(1)
    click.echo(visible(f"wrote {output}"), err=True)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
