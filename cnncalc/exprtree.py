"""The `${expression}` evaluator: Python's own parser, a hand-written walk of the allowed nodes.

Imported with the first `${...}` of a spec (`$name` needs no parser, and setting up the
compiler's node types costs milliseconds at start-up).
"""

from __future__ import annotations

import _ast  # the compiler's own node types, which `ast` re-exports (importing `ast` costs ~10 ms more)
import operator

from .expr import _MAX_ABS, ExprError, _unknown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BIN = {
    _ast.Add: operator.add, _ast.Sub: operator.sub, _ast.Mult: operator.mul,
    _ast.Div: operator.truediv, _ast.FloorDiv: operator.floordiv, _ast.Mod: operator.mod,
}
_CMP = {
    _ast.Eq: operator.eq, _ast.NotEq: operator.ne, _ast.Lt: operator.lt,
    _ast.LtE: operator.le, _ast.Gt: operator.gt, _ast.GtE: operator.ge,
}


def evaluate_source(src: str, scope: dict[str, Any]) -> Any:
    return _eval(_parse(src), scope)


_PARSED: dict[str, Any] = {}


def _parse(src: str) -> Any:
    """Parsed once per distinct text: a repeated block evaluates the same expressions many times."""
    tree = _PARSED.get(src)
    if tree is None:
        try:
            parsed: Any = compile(src, "<expression>", "eval", _ast.PyCF_ONLY_AST)  # = ast.parse(src, mode="eval")
            tree = parsed.body
        except (SyntaxError, ValueError):  # ValueError: a NUL character
            raise ExprError(f"cannot parse expression {src!r}") from None
        if len(_PARSED) >= 1024:
            _PARSED.clear()
        _PARSED[src] = tree
    return tree


def _eval(node: _ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, _ast.Constant) and isinstance(node.value, (int, float, str, bool)) or (
        isinstance(node, _ast.Constant) and node.value is None
    ):
        return node.value
    if isinstance(node, _ast.Name):
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        if node.id not in scope:
            raise ExprError(_unknown(node.id, scope))
        return scope[node.id]
    if isinstance(node, _ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if (isinstance(left, str) or isinstance(right, str)) and not isinstance(node.op, _ast.Add):
            # 'x' * 10**12 or '%999999999d' % 1 would build the huge string before any length check
            raise ExprError("strings can only be joined with +")
        try:
            result = _BIN[type(node.op)](left, right)
        except (TypeError, ArithmeticError) as exc:  # ZeroDivisionError, OverflowError (int / huge int)
            raise ExprError(f"cannot compute expression: {exc}") from None
        if isinstance(result, (int, float)) and abs(result) > _MAX_ABS:
            raise ExprError("expression value is too large")
        if isinstance(result, str) and len(result) > 1000:
            raise ExprError("expression value is too long")
        return result
    if isinstance(node, _ast.UnaryOp):
        v = _eval(node.operand, scope)
        if isinstance(node.op, _ast.Not):
            return not v
        if isinstance(node.op, _ast.USub) and isinstance(v, (int, float)):
            return -v
        if isinstance(node.op, _ast.UAdd) and isinstance(v, (int, float)):
            return v
    if isinstance(node, _ast.BoolOp):
        values = [_eval(v, scope) for v in node.values]
        if isinstance(node.op, _ast.And):
            return all(values)
        return any(values)
    if isinstance(node, _ast.Compare) and all(type(op) in _CMP for op in node.ops):
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
    if isinstance(node, _ast.IfExp):
        return _eval(node.body, scope) if _eval(node.test, scope) else _eval(node.orelse, scope)
    import ast  # the error path only

    raise ExprError(f"unsupported syntax in expression: {ast.unparse(node)!r}")
