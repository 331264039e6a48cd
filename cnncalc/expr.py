"""`$name` and `${expression}` values in specs: a tiny, safe expression language.

`$name` is a param's value. `${expression}` computes one from params and the repeat index `i`:
literals (numbers, strings, true/false, None), names, `+ - * / // %`, unary `-`/`+`,
comparisons, `and`/`or`/`not`, `x if c else y` and parentheses. Python's own parser reads the
expression and only those nodes are evaluated; nothing is passed to `eval`. Numbers stay exact
(ints are Python ints) and are bounded in size, strings in length.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
import warnings
from typing import Any

MAX_LENGTH = 500  # characters of an expression
_MAX_ABS = 10**15  # keeps `${10**...}`-style blow-ups out; there is no power operator anyway
_MAX_TEXT = 1000  # characters of a string value

_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\n?")
_BRACED = re.compile(r"\$\{(.*)\}\n?", re.S)

_BIN = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_CMP = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False}


class ExprError(Exception):
    pass


def is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def evaluate(text: str, scope: dict[str, Any]) -> Any:
    """Evaluate `$name` or `${expr}` against `scope`."""
    name = _NAME.fullmatch(text)
    if name:
        if name[1] not in scope:
            raise ExprError(_unknown(name[1], scope))
        return scope[name[1]]
    braced = _BRACED.fullmatch(text)
    if not braced:
        raise ExprError(f"{text!r} is not an expression; write $name or ${{expression}}")
    src = braced[1].strip()
    if len(src) > MAX_LENGTH:
        raise ExprError(f"expression is too long ({MAX_LENGTH} characters at most)")
    return _eval(_parse(src), scope)


def _unknown(name: str, scope: dict[str, Any]) -> str:
    known = ", ".join(sorted(scope)) or "none"
    return f"unknown parameter ${name} (known here: {known})"


@functools.lru_cache(maxsize=1024)  # a repeated block evaluates the same expressions many times
def _parse(src: str) -> ast.expr:
    try:
        with warnings.catch_warnings():
            # `1if x else 2` parses, with a SyntaxWarning that would be printed to stderr
            warnings.simplefilter("ignore")
            return ast.parse(src, mode="eval").body
    except (SyntaxError, ValueError):  # ValueError: a NUL character, in older Pythons
        raise ExprError(f"cannot parse expression {src!r}") from None


def _number(value: Any) -> Any:
    """`value`, or ExprError if it is a number too large to mean anything in a spec (or inf)."""
    if isinstance(value, (int, float)) and abs(value) > _MAX_ABS:
        raise ExprError("expression value is too large")
    return value


def _eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, float, str))):
        return _number(node.value)
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
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
        except (TypeError, ArithmeticError) as exc:  # ZeroDivisionError, OverflowError (int / huge int)
            raise ExprError(f"cannot compute expression: {exc}") from None
        if isinstance(result, str) and len(result) > _MAX_TEXT:
            raise ExprError("expression value is too long")
        return _number(result)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not v
        if isinstance(node.op, ast.USub) and isinstance(v, (int, float)):
            return _number(-v)
        if isinstance(node.op, ast.UAdd) and isinstance(v, (int, float)):
            return v
    if isinstance(node, ast.BoolOp):
        # every operand, so that a misspelt name is reported even where it would not be reached
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
