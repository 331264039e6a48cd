"""`$name` and `${expression}` values in specs: a tiny, safe expression language.

Only literals, names, arithmetic, comparisons, boolean logic and `x if c else y` are
allowed; the AST is walked by hand, nothing is passed to `eval` (cnncalc/exprtree.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ExprError(Exception):
    pass


def is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def evaluate(text: str, scope: dict[str, Any]) -> Any:
    """Evaluate `$name` or `${expr}` against `scope`."""
    name = text[1:-1] if text.endswith("\n") else text[1:]  # a regex `$` would also allow one final newline
    if name.isidentifier() and name.isascii() and text.startswith("$"):  # $[A-Za-z_][A-Za-z0-9_]*
        if name not in scope:
            raise ExprError(_unknown(name, scope))
        return scope[name]
    if not text.startswith("${") or not (text.endswith("}") or text.endswith("}\n")) or len(text) < 3:
        raise ExprError(f"{text!r} is not an expression; write $name or ${{expression}}")
    src = (text[2:-1] if text.endswith("}") else text[2:-2]).strip()
    if len(src) > 500:
        raise ExprError("expression is too long (500 characters at most)")
    from .exprtree import evaluate_source

    return evaluate_source(src, scope)


def _unknown(name: str, scope: dict[str, Any]) -> str:
    known = ", ".join(sorted(scope)) or "none"
    return f"unknown parameter ${name} (known here: {known})"
