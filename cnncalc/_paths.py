"""What `str(pathlib.Path(p))`, `.stem` and a recursive `*.yaml` walk give, without importing pathlib.

File names appear in every message (`file:line:col`), so they must read as they always have;
pathlib (with the `re`, `fnmatch` and `urllib` it imports) costs more at start-up than analysing
a network. tests/test_paths.py checks these against pathlib itself.
"""

from __future__ import annotations

import os

_POSIX = os.name == "posix"


def norm(path: str | os.PathLike[str]) -> str:
    """str(Path(path)): no '.' parts, no repeated or trailing '/'; '' is '.'."""
    if not _POSIX:  # pragma: no cover - Windows paths have drive letters, UNC roots, both slashes
        from pathlib import Path

        return str(Path(path))
    path = os.fspath(path)
    if not path:
        return "."
    # POSIX keeps exactly two leading slashes (implementation-defined root); one or 3+ become one
    root = "//" if path.startswith("//") and not path.startswith("///") else "/" if path.startswith("/") else ""
    parts = [p for p in path.split("/") if p and p != "."]
    if not parts:
        return root or "."
    return root + "/".join(parts)


def stem(path: str) -> str:
    """Path(path).stem: the last part without its last suffix ('.yaml'); hidden names keep theirs."""
    name = norm(path).rpartition("/")[2]
    if name in (".", ".."):
        return "" if name == "." else name
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


def walk(directory: str | os.PathLike[str], suffixes: tuple[str, ...]) -> list[str]:
    """Files below `directory` whose suffix (lower-cased) is in `suffixes`, as str(path / relative) with
    pathlib's spelling; hidden files and directories (a part starting with '.') are skipped and
    symlinked directories are not entered (as Path.rglob on Python 3.11/3.12)."""
    base = norm(directory)
    prefix = "" if base == "." else base if base.endswith("/") else base + "/"
    found = []
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(root, base)
        head = prefix if rel == "." else prefix + rel.replace(os.sep, "/") + "/"
        for name in files:
            if name.startswith("."):
                continue
            i = name.rfind(".")
            if 0 < i < len(name) - 1 and name[i:].lower() in suffixes and os.path.isfile(os.path.join(root, name)):
                found.append(head + name)
    return found
