"""Diagnostics: every problem carries the file, line and column of the YAML node it is about."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loc:
    """A position in a spec file; line and column are 1-based."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Diagnostic:
    severity: str  # "error" | "warning"
    message: str
    loc: Loc
    rule: str
    layer: str | None = None

    def format(self) -> str:
        return f"{self.loc}: {self.severity}: {self.message} [{self.rule}]"

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.loc.file,
            "line": self.loc.line,
            "col": self.loc.col,
            "rule": self.rule,
            "layer": self.layer,
        }


class SpecError(Exception):
    """One or more errors in a spec. `diagnostics` holds them all, in file order."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.loc.file, d.loc.line, d.loc.col))
        super().__init__(self.diagnostics[0].format() if self.diagnostics else "spec error")

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


class LayerError(Exception):
    """Raised by a layer's rules; the analysis attaches the location and layer name.

    `key` names the parameter at fault so the location can point at its value.
    """

    def __init__(self, message: str, rule: str = "shape-mismatch", key: str | None = None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.key = key


@dataclass
class Collector:
    """Collects diagnostics so that one run can report every problem, not just the first."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

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
        if self.errors:
            raise SpecError(self.errors)
