"""`$name` and `${expression}` values in specs: a tiny, safe expression language.

Only literals, names, arithmetic, comparisons, boolean logic and `x if c else y` are
allowed; the AST is walked by hand, nothing is passed to `eval`.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from typing import Any

_NAME = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_EXPR = re.compile(r"^\$\{(.*)\}$", re.S)

_BIN = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_CMP = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_MAX_ABS = 10**15  # keeps `${10**...}`-style blow-ups out; there is no power operator anyway


class ExprError(Exception):
    pass


def is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def evaluate(text: str, scope: dict[str, Any]) -> Any:
    """Evaluate `$name` or `${expr}` against `scope`."""
    m = _NAME.match(text)
    if m:
        name = m.group(1)
        if name not in scope:
            raise ExprError(_unknown(name, scope))
        return scope[name]
    m = _EXPR.match(text)
    if not m:
        raise ExprError(f"{text!r} is not an expression; write $name or ${{expression}}")
    src = m.group(1).strip()
    if len(src) > 500:
        raise ExprError("expression is too long (500 characters at most)")
    return _eval(_parse(src), scope)


@functools.lru_cache(maxsize=1024)
def _parse(src: str) -> ast.AST:
    """Parsed once per distinct text: a repeated block evaluates the same expressions many times."""
    try:
        return ast.parse(src, mode="eval").body
    except SyntaxError:
        raise ExprError(f"cannot parse expression {src!r}") from None


def _unknown(name: str, scope: dict[str, Any]) -> str:
    known = ", ".join(sorted(scope)) or "none"
    return f"unknown parameter ${name} (known here: {known})"


def _eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) or (
        isinstance(node, ast.Constant) and node.value is None
    ):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        if node.id not in scope:
            raise ExprError(_unknown(node.id, scope))
        return scope[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if (isinstance(left, str) or isinstance(right, str)) and not isinstance(node.op, ast.Add):
            # 'x' * 10**12 or '%999999999d' % 1 would build the huge string before any length check
            raise ExprError("strings can only be joined with +")
        try:
            result = _BIN[type(node.op)](left, right)
        except (TypeError, ZeroDivisionError) as exc:
            raise ExprError(f"cannot compute expression: {exc}") from None
        if isinstance(result, (int, float)) and abs(result) > _MAX_ABS:
            raise ExprError("expression value is too large")
        if isinstance(result, str) and len(result) > 1000:
            raise ExprError("expression value is too long")
        return result
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not v
        if isinstance(node.op, ast.USub) and isinstance(v, (int, float)):
            return -v
        if isinstance(node.op, ast.UAdd) and isinstance(v, (int, float)):
            return v
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, scope) for v in node.values]
        if isinstance(node.op, ast.And):
            return all(values)
        return any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        left = _eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, scope)
            try:
                ok = _CMP[type(op)](left, right)
            except TypeError as exc:
                raise ExprError(f"cannot compare: {exc}") from None
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, scope) if _eval(node.test, scope) else _eval(node.orelse, scope)
    raise ExprError(f"unsupported syntax in expression: {ast.unparse(node)!r}")
