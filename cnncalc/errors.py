"""Diagnostics: every problem carries the file, line and column of the YAML node it is about."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

MAX_MESSAGE = 500  # characters of a message printed: a 1 MB string value quoted in "got '…'" is cut


def short_message(message: str) -> str:
    """`message`, cut to MAX_MESSAGE characters with a note of its full length."""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[:MAX_MESSAGE] + f"… ({len(message)} characters)"


def visible(text: str) -> str:
    """`text` as it should reach a terminal, a log, a CI runner or a file: every character that would
    act rather than be shown is written as its Python escape. Control characters (ESC starts terminal
    sequences, a newline starts a new `::error` line), format characters (bidi overrides, zero-width
    spaces), line and paragraph separators and lone surrogates become `\\x1b`, `\\n`, `\\u202e`, ...;
    all other text, any script, is returned unchanged.

    Applied at every text boundary (diagnostics, tables, markdown, SVG, Mermaid, CI annotations):
    spec names and file names are untrusted. JSON keeps the exact text (`json` escapes it)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class Loc(NamedTuple):
    """A position in a spec file: 1-based line and column."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclasses.dataclass(slots=True)
class Diagnostic:
    """One problem: `file:line:col: severity: message [rule]`; `layer` names the layer it is about."""

    severity: str  # "error" | "warning"
    message: str
    loc: Loc
    rule: str
    layer: str | None = None

    def replace(self, **changes: Any) -> Diagnostic:
        return dataclasses.replace(self, **changes)

    def format(self) -> str:
        """One line, `file:line:col: severity: message [rule]`, with the file name and message made
        visible: a file named `a\\n::error::x.yaml` cannot start a second line."""
        return visible(f"{self.loc}: {self.severity}: {short_message(self.message)} [{self.rule}]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.loc.file,
            "line": self.loc.line,
            "col": self.loc.col,
            "rule": self.rule,
            "layer": self.layer,
        }


def _position(d: Diagnostic) -> tuple[str, int, int]:
    return (d.loc.file, d.loc.line, d.loc.col)


class SpecError(Exception):
    """One or more errors in a spec. `diagnostics` holds them all, in file order, with the warnings
    found before the analysis stopped (a warning upstream often explains the error).

    `partial`: the spec.Network of the layers before the first parse error, if the parser got that
    far, so that `lint` can report their shape errors as well.
    """

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, partial: Any = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=_position)
        self.partial = partial
        super().__init__(self.first.format() if self.diagnostics else "spec error")

    @property
    def first(self) -> Diagnostic:
        """The first error in file order (or the first diagnostic, when all are warnings)."""
        return next((d for d in self.diagnostics if d.severity == "error"), self.diagnostics[0])


class LayerError(Exception):
    """Raised by a layer's rules; the analysis attaches the location and layer name.

    `key` names the parameter at fault so the location can point at its value; `inputs` the
    positions of the inputs that disagree, so that the analysis can name the layers they come from.
    """

    def __init__(self, message: str, rule: str = "shape-mismatch", key: str | None = None,
                 inputs: tuple[int, ...] = ()):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.key = key
        self.inputs = inputs


class Unsupported(Exception):
    """A layer feature a target framework cannot express (raised by a layer's export mapping)."""


class Collector:
    """Collects diagnostics so that one run can report every problem, not just the first."""

    __slots__ = ("diagnostics",)

    def __init__(self, diagnostics: list[Diagnostic] | None = None):
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics

    def error(self, message: str, loc: Loc, rule: str, layer: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("error", message, loc, rule, layer))

    def warning(self, message: str, loc: Loc, rule: str, layer: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", message, loc, rule, layer))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        """Raise SpecError with every diagnostic (the warnings too) if there is an error."""
        if self.errors:
            raise SpecError(self.diagnostics)
