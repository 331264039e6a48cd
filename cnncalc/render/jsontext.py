"""`json.dumps(obj, indent=2)`, character for character, several times faster.

With `indent`, the standard library encodes in pure Python through nested generators (its C
encoder only serves compact output), which made JSON output of a 10,000-layer network cost
several seconds. This encoder handles the types cnncalc writes (dict with str keys, list,
tuple, str, int, float, bool, None) with one recursive function appending to a list, and uses
the standard library's own C string escaper. Anything else goes to `json.dumps` itself.
tests/test_jsontext.py compares the two on generated documents and on every output.
"""

from __future__ import annotations

try:
    from _json import encode_basestring, encode_basestring_ascii  # what json.encoder uses
except ImportError:  # pragma: no cover - a Python without the C accelerator
    from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_FLOAT_REPR = float.__repr__
_INT_REPR = int.__repr__


class _Unsupported(Exception):
    pass


def dumps(obj: Any, ensure_ascii: bool = True) -> str:
    """json.dumps(obj, indent=2, ensure_ascii=ensure_ascii)."""
    out: list[str] = []
    try:
        _encode(obj, out, "\n", encode_basestring_ascii if ensure_ascii else encode_basestring)
    except (_Unsupported, RecursionError):
        import json

        return json.dumps(obj, indent=2, ensure_ascii=ensure_ascii)
    return "".join(out)


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == float("inf"):
        return "Infinity"
    if o == -float("inf"):
        return "-Infinity"
    return _FLOAT_REPR(o)


def _encode(o: Any, out: list[str], nl: str, string: Callable[[str], str]) -> None:
    t = type(o)
    if t is str:
        out.append(string(o))
    elif t is int:
        out.append(_INT_REPR(o))
    elif t is dict:
        if not o:
            out.append("{}")
            return
        inner = nl + "  "
        sep = "{" + inner
        for k, v in o.items():
            if type(k) is not str:
                raise _Unsupported  # json converts such keys; not worth repeating its rules here
            tv = type(v)  # scalars inline: a call per value is most of the cost
            if tv is int:
                out.append(sep + string(k) + ": " + _INT_REPR(v))
            elif tv is str:
                out.append(sep + string(k) + ": " + string(v))
            else:
                out.append(sep + string(k) + ": ")
                _encode(v, out, inner, string)
            sep = "," + inner
        out.append(nl + "}")
    elif t is list or t is tuple:
        if not o:
            out.append("[]")
            return
        inner = nl + "  "
        if all(type(v) is int for v in o):  # shapes, receptive fields: most of the values, joined at C speed
            out.append("[" + inner + ("," + inner).join(map(_INT_REPR, o)) + nl + "]")
            return
        sep = "[" + inner
        for v in o:
            out.append(sep)
            sep = "," + inner
            _encode(v, out, inner, string)
        out.append(nl + "]")
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif t is float:
        out.append(_float(o))
    else:
        raise _Unsupported
