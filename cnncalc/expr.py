"""`$name` and `${expression}` values in specs: a tiny, safe expression language.

Only literals, names, arithmetic, comparisons, boolean logic and `x if c else y` are
allowed; nothing is passed to `eval`. The reference evaluator (cnncalc/exprtree.py) parses
with Python's own parser and walks the tree by hand. Most expressions in specs are short
(`${planes * 4}`, `${2 if i == 0 else 1}`): those are parsed here by a small hand-written
parser into closures, which spares loading the compiler's node types at start-up (~3 ms) and
evaluates several times faster. It takes only the texts it fully understands and, on any
error at all, hands over to the reference evaluator, which gives the answer or the exact
message; tests/test_expr_fast.py compares the two on generated expressions.
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
    fn = _COMPILED.get(src, _MISSING)
    if fn is _MISSING:
        if len(_COMPILED) >= 1024:
            _COMPILED.clear()
        fn = _COMPILED[src] = _compile(src)
    if fn is not None:
        try:
            return fn(scope)
        except Exception:  # noqa: BLE001 - every error is worded by the reference evaluator
            pass
    from .exprtree import evaluate_source

    return evaluate_source(src, scope)


def _unknown(name: str, scope: dict[str, Any]) -> str:
    known = ", ".join(sorted(scope)) or "none"
    return f"unknown parameter ${name} (known here: {known})"


# ---- the fast path: a parser for the common subset, compiled to closures -------------------

_MISSING = object()
_COMPILED: dict[str, Any] = {}
_MAX_ABS = 10**15  # keeps `${10**...}`-style blow-ups out; there is no power operator anyway
_DIGITS = frozenset("0123456789")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
_OPS = ("//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "<", ">", "(", ")")
_CONSTS = {"True": True, "False": False, "None": None}
_KEYWORDS = frozenset(("and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
                       "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
                       "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
                       "yield"))


class _Unsupported(Exception):
    """The text is outside the subset: Python's parser decides."""


class _Failed(Exception):
    """Evaluation went wrong: the reference evaluator words it."""


def _tokens(src: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == " ":
            i += 1
        elif c in _DIGITS:
            j = i
            while j < n and src[j] in _DIGITS:
                j += 1
            if j < n and src[j] == ".":
                k = j + 1
                while k < n and src[k] in _DIGITS:
                    k += 1
                if k == j + 1:
                    raise _Unsupported  # `5.`
                value: Any = float(src[i:k])
                j = k
            else:
                if j - i > 1 and c == "0":
                    raise _Unsupported  # `010`, `00`
                value = int(src[i:j])
            if j < n and (src[j] in _WORD or src[j] == "." or not src[j].isascii()):
                raise _Unsupported  # 1e3, 0x1f, 1_000, 5j, 1.5.real
            out.append(("value", value))
            i = j
        elif c in _WORD:
            j = i
            while j < n and src[j] in _WORD:
                j += 1
            if j < n and not src[j].isascii():
                raise _Unsupported  # a non-ASCII identifier
            word = src[i:j]
            if word in _CONSTS:
                out.append(("value", _CONSTS[word]))
            elif word in ("and", "or", "not", "if", "else"):
                out.append(("op", word))
            elif word in _KEYWORDS:
                raise _Unsupported
            else:
                out.append(("name", word))
            i = j
        elif c == "'" or c == '"':
            j = src.find(c, i + 1)
            if j < 0 or "\\" in src[i:j] or "\n" in src[i:j]:
                raise _Unsupported
            out.append(("value", src[i + 1:j]))
            i = j + 1
        else:
            for op in _OPS:
                if src.startswith(op, i):
                    out.append(("op", op))
                    i += len(op)
                    break
            else:
                raise _Unsupported
    return out


def _compile(src: str) -> Any:
    """A closure scope → value for `src`, or None if the text is outside the subset."""
    try:
        p = _Parser(_tokens(src))
        fn = p.expr()
        if p.i != len(p.toks):
            raise _Unsupported
        return fn
    except (_Unsupported, RecursionError):
        return None


class _Parser:
    """Recursive descent in Python's precedence order: if-else < or < and < not < comparisons
    < + - < * / // % < unary + -. Builds closures that do what exprtree._eval does for the node."""

    def __init__(self, toks: list[tuple[str, Any]]):
        self.toks = toks
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", None)

    def take(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.i += 1
            return True
        return False

    def expr(self) -> Any:
        body = self.or_()
        if not self.take("if"):
            return body
        test = self.or_()
        if not self.take("else"):
            raise _Unsupported
        orelse = self.expr()
        return lambda s: body(s) if test(s) else orelse(s)

    def _bool(self, op: str, sub: Any, combine: Any) -> Any:
        first = sub()
        parts = [first]
        while self.take(op):
            parts.append(sub())
        if len(parts) == 1:
            return first
        return lambda s: combine([f(s) for f in parts])  # every operand evaluated, as exprtree does

    def or_(self) -> Any:
        return self._bool("or", self.and_, any)

    def and_(self) -> Any:
        return self._bool("and", self.not_, all)

    def not_(self) -> Any:
        if self.take("not"):
            operand = self.not_()
            return lambda s: not operand(s)
        return self.comparison()

    def comparison(self) -> Any:
        first = self.sum()
        rest = []
        while self.peek()[0] == "op" and self.peek()[1] in _COMPARE:
            op = _COMPARE[self.toks[self.i][1]]
            self.i += 1
            rest.append((op, self.sum()))
        if not rest:
            return first

        def compare(s: Any) -> Any:
            left = first(s)
            for op, comp in rest:
                right = comp(s)
                try:
                    ok = op(left, right)
                except TypeError:
                    raise _Failed from None
                if not ok:
                    return False
                left = right
            return True

        return compare

    def _binary(self, ops: dict[str, Any], sub: Any) -> Any:
        left = sub()
        while self.peek()[0] == "op" and self.peek()[1] in ops:
            left = _binop(ops[self.toks[self.i][1]], left, self._next(sub))
        return left

    def _next(self, sub: Any) -> Any:
        self.i += 1
        return sub()

    def sum(self) -> Any:
        return self._binary(_ADDITIVE, self.term)

    def term(self) -> Any:
        return self._binary(_MULTIPLICATIVE, self.factor)

    def factor(self) -> Any:
        if self.take("-"):
            operand = self.factor()
            return lambda s: -_number(operand(s))
        if self.take("+"):
            operand = self.factor()
            return lambda s: _number(operand(s))
        return self.atom()

    def atom(self) -> Any:
        kind, value = self.peek()
        self.i += 1
        if kind == "value":
            return lambda s: value
        if kind == "name":
            if value in ("true", "false"):
                flag = value == "true"
                return lambda s: flag
            return lambda s: s[value]  # KeyError → the reference evaluator's "unknown parameter"
        if (kind, value) == ("op", "("):
            inner = self.expr()
            if not self.take(")"):
                raise _Unsupported
            return inner
        raise _Unsupported


def _number(v: Any) -> Any:
    if not isinstance(v, (int, float)):
        raise _Failed
    return v


def _binop(op: Any, left: Any, right: Any) -> Any:
    joins = op is _add

    def f(s: Any) -> Any:
        a, b = left(s), right(s)
        if (isinstance(a, str) or isinstance(b, str)) and not joins:
            raise _Failed
        result = op(a, b)  # TypeError, ZeroDivisionError → the reference evaluator
        if isinstance(result, (int, float)) and abs(result) > _MAX_ABS:
            raise _Failed
        if isinstance(result, str) and len(result) > 1000:
            raise _Failed
        return result

    return f


def _add(a: Any, b: Any) -> Any:
    return a + b


_ADDITIVE = {"+": _add, "-": lambda a, b: a - b}
_MULTIPLICATIVE = {"*": lambda a, b: a * b, "/": lambda a, b: a / b, "//": lambda a, b: a // b,
                   "%": lambda a, b: a % b}
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
