"""Below the command line, no module imports the package's façade (`cnncalc/__init__.py`): the
import-linter contract in pyproject.toml orders the submodules, and this closes the one door it
cannot see, `from .. import analyse`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cnncalc"
TOP = {"__init__.py", "__main__.py", "cli.py"}


def test_no_module_below_the_command_line_imports_the_facade():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if str(rel) in TOP or rel.parts[0] == "commands":
            continue
        depth = len(rel.parts)  # `from ..` in cnncalc/a/b.py, `from .` in cnncalc/a.py reach the root
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == depth and node.module is None:
                for alias in node.names:
                    target = PACKAGE / alias.name
                    if not (target.with_suffix(".py").exists() or (target / "__init__.py").exists()):
                        offenders.append(f"{rel}:{node.lineno} imports {alias.name} from the façade")
    assert offenders == []
