"""Diagnostics: every problem carries the file, line and column of the YAML node it is about.

Plain classes rather than dataclasses: this module is on every command's start-up path, and
`dataclasses` (with the `inspect`, `re` and `typing` it pulls in) costs more to import than the
whole analysis of a small network.
"""

from __future__ import annotations

try:
    from _collections import _tuplegetter  # what namedtuple's fields are made of
except ImportError:  # pragma: no cover - another Python
    from operator import itemgetter

    def _tuplegetter(index: int, doc: str) -> property:  # type: ignore[no-redef]
        return property(itemgetter(index), doc=doc)


TYPE_CHECKING = False
if TYPE_CHECKING:
    from .spec import Network


class Loc(tuple):
    """A position in a spec file: (file, line, col), line and column 1-based; immutable, hashable.

    A tuple, so that the YAML reader can make one for every value in C (`new_loc`), without the
    Python call an __init__ costs; compared, hashed and sorted as the tuple."""

    __slots__ = ()

    file: str = _tuplegetter(0, "the file name as given")  # type: ignore[assignment]
    line: int = _tuplegetter(1, "1-based line")  # type: ignore[assignment]
    col: int = _tuplegetter(2, "1-based column")  # type: ignore[assignment]

    def __new__(cls, file: str, line: int = 1, col: int = 1) -> Loc:
        return tuple.__new__(cls, (file, line, col))

    def __getnewargs__(self) -> tuple[str, int, int]:  # pickling and copying
        return tuple(self)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Loc(file={self.file!r}, line={self.line}, col={self.col})"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"



class Diagnostic:
    __slots__ = ("severity", "message", "loc", "rule", "layer")

    def __init__(self, severity: str, message: str, loc: Loc, rule: str, layer: str | None = None):
        self.severity = severity  # "error" | "warning"
        self.message = message
        self.loc = loc
        self.rule = rule
        self.layer = layer

    def _key(self) -> tuple:
        return (self.severity, self.message, self.loc, self.rule, self.layer)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return (f"Diagnostic(severity={self.severity!r}, message={self.message!r}, loc={self.loc!r}, "
                f"rule={self.rule!r}, layer={self.layer!r})")

    def replace(self, **changes: object) -> Diagnostic:
        """A copy with some fields changed (as dataclasses.replace)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Diagnostic(**fields)  # type: ignore[arg-type]

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


def _position(d: Diagnostic) -> tuple[str, int, int]:
    return (d.loc.file, d.loc.line, d.loc.col)


class SpecError(Exception):
    """One or more errors in a spec. `diagnostics` holds them all, in file order.

    `partial`: the network of the layers before the first parse error, if the parser got that far,
    so that `lint` can report their shape errors as well.
    """

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, partial: Network | None = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=_position)
        self.partial = partial
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
        if self.errors:
            raise SpecError(self.errors)
