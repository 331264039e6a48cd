"""Lint: check spec files fully and report every problem (the engine behind `cnncalc lint`).

One file = read once, parse, analyse, check `expect:`; the result is a list of Diagnostics.
Rule ids are documented in docs/lint.md. Output formats: text (one line per problem, like a
compiler), json (a stable object), github (GitHub Actions workflow commands = annotations).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .analysis import analyse
from .errors import Diagnostic, Loc, SpecError, short_message, visible
from .expect import check as check_expectations
from .importers import load_model
from .spec import loads

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

FORMATS = ("text", "json", "github")
SUFFIXES = (".yaml", ".yml")
JSON_VERSION = 1


def check_text(text: str, file: str) -> list[Diagnostic]:
    """Every problem in spec text (parse, shapes, warnings, expect). Never raises SpecError."""
    try:
        net = loads(text, file)
    except SpecError as err:
        return _with_partial(err)
    return _check_network(net)


def check_file(path: str | os.PathLike[str]) -> list[Diagnostic]:
    """Every problem in one spec file; unreadable files give one `unreadable` diagnostic."""
    try:
        net = load_model(path)
    except SpecError as err:
        return _with_partial(err)
    return _check_network(net)


def _with_partial(err: SpecError) -> list[Diagnostic]:
    """The parse errors, plus the shape errors, warnings and layer `expect:` failures of the layers
    before the first parse error (`SpecError.partial`), which do not depend on it."""
    partial = err.partial
    if partial is None or not partial.layers:
        return list(err.diagnostics)
    # unused-layer would be wrong: the consumers of these layers were cut off
    extra = [d for d in _check_network(partial) if d.rule != "unused-layer"]
    return list(err.diagnostics) + extra


def _check_network(net: Any) -> list[Diagnostic]:
    try:
        analysis = analyse(net)
    except SpecError as err:
        # shape errors stop the analysis; the parser's warnings still hold (an error from the
        # analysis carries them, with its own warnings, already)
        found = list(err.diagnostics)
        carried = {id(d) for d in found}
        return found + [w for w in net.warnings if id(w) not in carried]
    return list(analysis.warnings) + check_expectations(analysis)


def expand(paths: Iterable[str], problems: list[Diagnostic] | None = None) -> list[str]:
    """Files to lint: named files as given, directories walked for *.yaml/*.yml.

    Hidden files and directories (.git, .github, .pre-commit-config.yaml) are skipped while
    walking; a named file is always checked. Missing paths are kept so they are reported. What the
    walk cannot read or will not follow is added to `problems`: a directory that cannot be listed
    (`unreadable`), a symlink to a file outside the directory named (`symlink-outside`).
    """
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(_walk(p, [] if problems is None else problems)))
        else:
            out.append(str(Path(p)))
    return list(dict.fromkeys(out))  # a file named twice is checked once


def _walk(directory: str, problems: list[Diagnostic]) -> list[str]:
    """The *.yaml/*.yml files below `directory`, named as `directory` was given (normalised). Hidden
    directories are not entered (a .git tree can be huge), nor are symlinked ones; a symlinked file
    is read only if it lies inside `directory` (a spec in a pull request must not make CI read
    ~/.ssh/id_rsa and quote it in an error)."""
    def cannot_list(exc: OSError) -> None:
        where = str(Path(exc.filename)) if exc.filename else str(Path(directory))
        problems.append(Diagnostic("error", f"cannot read directory: {exc.strerror or exc}", Loc(where),
                                   "unreadable"))

    found = []
    root_real: str | None = None
    for root, dirs, files in os.walk(Path(directory), onerror=cannot_list):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            if path.is_symlink():
                root_real = root_real or os.path.realpath(directory)
                target = os.path.realpath(path)
                if os.path.commonpath([root_real, target]) != root_real:
                    problems.append(Diagnostic(
                        "warning", f"is a symlink to a file outside {Path(directory)}; not read (name the file to "
                        "lint it)", Loc(str(path)), "symlink-outside"))
                    continue
            found.append(str(path))
    return found


class Report:
    __slots__ = ("files", "diagnostics")

    def __init__(self, files: list[str], diagnostics: list[Diagnostic] | None = None):
        self.files = files
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        """0 clean (warnings allowed), 1 problems found, 2 a file could not be read or a directory
        holds no YAML file."""
        if any(d.rule in ("unreadable", "no-files") for d in self.diagnostics):
            return 2
        return 1 if self.errors else 0


def lint(paths: Iterable[str], strict: bool = False, skip_non_specs: bool = False) -> Report:
    """Lint files and directories; `strict` turns warnings into errors; `skip_non_specs` ignores
    YAML files that are not cnncalc specs (no `input`/`layers`), for hooks that see every *.yaml."""
    diags: list[Diagnostic] = []
    files: list[str] = []
    for p in paths:
        listed = expand([p], diags)
        if not listed and os.path.isdir(p):  # a CI job pointed at the wrong directory must not pass
            diags.append(Diagnostic("error", "no *.yaml or *.yml files in this directory", Loc(p), "no-files"))
        files += listed
    files = list(dict.fromkeys(files))
    checked = []
    for f in files:
        try:
            found = check_file(f)
        except Exception as exc:  # a bug in cnncalc must not hide the other files' results
            found = [Diagnostic("error", f"internal error ({type(exc).__name__}: {exc}); please report it",
                                Loc(f), "internal-error")]
        if skip_non_specs and any(d.rule == "not-a-spec" for d in found):
            continue
        checked.append(f)
        seen = set()
        for d in found:  # a problem inside a repeated block is reported once
            key = (d.loc, d.severity, d.message, d.rule)
            if key not in seen:
                seen.add(key)
                short = short_message(d.message)  # a 1 MB string value quoted in "got '…'"
                diags.append(d if short is d.message else d.replace(message=short))
    if strict:
        diags = [d.replace(severity="error") if d.severity == "warning" else d for d in diags]
    diags.sort(key=lambda d: (d.loc.file, d.loc.line, d.loc.col, d.severity != "error", d.rule, d.message))
    return Report(checked, diags)


# ---- output formats ---------------------------------------------------------------------------

def summary(r: Report) -> str:
    def n(k: int, what: str) -> str:
        return f"{k} {what}{'' if k == 1 else 's'}"

    return f"{n(len(r.files), 'file')} checked: {n(r.errors, 'error')}, {n(r.warnings, 'warning')}"


def to_text(r: Report, quiet: bool = False) -> str:
    return "".join(d.format() + "\n" for d in r.diagnostics if not (quiet and d.severity != "error"))


def to_json(r: Report, quiet: bool = False) -> str:
    import json

    shown = [d for d in r.diagnostics if not (quiet and d.severity != "error")]
    doc = {"version": JSON_VERSION, "files": len(r.files), "errors": r.errors, "warnings": r.warnings,
           "exit_code": r.exit_code, "diagnostics": [d.to_dict() for d in shown]}
    return _json_visible(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def _json_visible(text: str) -> str:
    """JSON text whose strings hold no character a terminal would act on: `json` escapes the C0
    controls, this the rest (DEL, C1 controls such as CSI, bidi overrides, U+2028, ...) as `\\uXXXX`
    escapes, so the decoded values are unchanged. Outside its strings JSON text is printable."""
    import json

    if text.replace("\n", "").isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else json.dumps(ch)[1:-1] for ch in text)


def _gh_data(s: str) -> str:
    """A workflow-command value, made visible: no line break can start a forged `::` command and no
    escape sequence reaches the log. `%` is GitHub's escape character; its other escapes (`%0A`,
    `%0D`) are for line breaks, which visible text no longer has."""
    return visible(s).replace("%", "%25")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def to_github(r: Report, quiet: bool = False) -> str:
    """GitHub Actions annotations: `::error file=…,line=…,col=…,title=…::message`."""
    lines = []
    for d in r.diagnostics:
        if quiet and d.severity != "error":
            continue
        props = f"file={_gh_prop(d.loc.file)},line={d.loc.line},col={d.loc.col},title={_gh_prop('cnncalc ' + d.rule)}"
        lines.append(f"::{d.severity} {props}::{_gh_data(d.message)} [{d.rule}]\n")
    return "".join(lines)


RENDER = {"text": to_text, "json": to_json, "github": to_github}
