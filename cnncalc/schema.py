"""JSON Schema of the spec format, generated from the layer registry and the parser's own tables (so
it cannot drift).

Editors use it through yaml-language-server (`# yaml-language-server: $schema=...`) to complete
and check layer types and parameters while typing. It accepts what the parser accepts: a type name
in any case, with `_`/`-` anywhere and a framework's module prefix (`nn.MaxPool2d`,
`keras.layers.Conv2D`, as `layers.lookup` reads it), every parameter alias, every `layout` spelling,
and refuses what the parser refuses. Where static checking cannot follow it is looser: `$expr`
strings are accepted wherever a value goes, and references, block params, shapes, integer limits
inside `227x227x3` strings, how many -1 a reshape target holds (draft-07 cannot count) and JSON's
3.0 (the same number as 3) are left to `cnncalc lint`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .layers import REQUIRED, Param, aliases, all_types

SCHEMA_ID = "https://github.com/cnncalc/cnncalc/raw/main/docs/cnncalc.schema.json"
EXPR = {"type": "string", "pattern": r"^\$", "description": "$name or ${expression}"}
SIZE_TEXT = r"^\s*\d+(\s*[xX×]\s*\d+)*\s*$"
# a name (layer, block, input): the parser's rule (spec._valid_name, Unicode \w as in Python), or
# `$param` / `${expr}` pieces substituted into it; never `input`, never a line break
NAME_PATTERN = r"^(?!.*\n)(?:\w[\w.\-]*|.*\$(?:\{[^}]*\}|[A-Za-z_]).*)$"
NO_NEWLINE = r"(?!.*\n)"  # Python's `$` also matches before a final newline, which the parser refuses


@functools.cache
def _case_map() -> dict[str, str]:
    """Every character whose str.lower() is one character, grouped by that lowercase: the parser
    compares names lowercased, so `K` (U+212A, the Kelvin sign) is as good as `k`."""
    out: dict[str, list[str]] = {}
    for cp in range(0x110000):
        ch = chr(cp)
        low = ch.lower()
        if len(low) == 1 and low.isascii():
            out.setdefault(low, []).append(ch)
    return {k: "".join(v) for k, v in out.items()}


def _char(ch: str) -> str:
    """A regex class of every character that lowercases to `ch` (escaped for ECMA-262 and Python)."""
    options = _case_map().get(ch, ch)
    if len(options) == 1:
        return _escape(options)
    return "[" + "".join(_escape(c, in_class=True) for c in options) + "]"


def _escape(ch: str, in_class: bool = False) -> str:
    if ch.isascii() and (ch.isalnum() or ch == "_"):
        return ch
    if ch.isascii() and not in_class:
        return re.escape(ch)
    return f"\\u{ord(ch):04x}"


def _ci(word: str, gaps: str = "") -> str:
    """`word` in any case; `gaps`: a class of characters allowed between its letters and around it."""
    return gaps + gaps.join(_char(c) for c in word) + gaps


@functools.cache
def _space() -> str:
    """What str.strip() removes: every character str.isspace() is true of."""
    return "[" + "".join(f"\\u{cp:04x}" for cp in range(0x110000) if chr(cp).isspace()) + "]*"


def _prefixes() -> str:
    from .layers import _PREFIXES  # the frameworks' module paths `lookup` reads before a class name

    return "(?:" + "|".join(_ci(p) for p in _PREFIXES) + ")?"


def type_pattern(names: list[str]) -> str:
    """A pattern of every spelling `layers.lookup` reads as one of the normalised names `names`: any
    case, `_` and `-` anywhere, one module prefix, surrounding whitespace."""
    alts = "|".join(_ci(n, "[-_]*") for n in sorted(names))
    return f"^{_space()}{_prefixes()}(?:{alts}){_space()}$"


def _keys_of(cls: Any) -> list[str]:
    return [key for key, canonical in aliases().items() if canonical == cls.name]


def _int(minimum: int | None = None, maximum: int | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return s


def _any(*options: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*options, EXPR]}


def _text(minimum: int, counts: tuple[int, ...]) -> dict[str, Any]:
    """`3x5`-style text with one of `counts` numbers (each ≥ 1 when `minimum` is 1), as layers.params reads it."""
    num = r"(?!0+(?:\D|$))\d+" if minimum >= 1 else r"\d+"
    alts = "|".join(num + rf"(?:\s*[xX×]\s*{num}){{{n - 1}}}" for n in sorted(set(counts)))
    return {"type": "string", "pattern": rf"^{NO_NEWLINE}\s*(?:{alts})\s*$"}


def _lists(minimum: int, lengths: tuple[int, ...]) -> list[dict[str, Any]]:
    """Lists of exactly one of `lengths` items, each an integer ≥ minimum or a `$` expression."""
    from .limits import MAX_DIM

    item = {"anyOf": [_int(minimum, MAX_DIM), EXPR]}
    return [{"type": "array", "items": item, "minItems": n, "maxItems": n} for n in sorted(set(lengths))]


def param_schema(p: Param, ndim: int) -> dict[str, Any]:
    """The schema of one parameter value, by its kind (see layers.params.check_value)."""
    from .limits import MAX_DIM

    k = p.kind
    if k == "count":
        s = _any(_int(1, MAX_DIM))
    elif k == "nonneg":
        s = _any(_int(0, MAX_DIM))
    elif k == "int":
        s = _any(_int(None, MAX_DIM))
    elif k in ("size", "size0"):
        low = 1 if k == "size" else 0
        s = _any(_int(low, MAX_DIM), *_lists(low, (1, ndim)), _text(low, (1, ndim)))
    elif k in ("padding", "tpadding", "sides"):
        pair = {"type": "array", "items": {"anyOf": [_int(0, MAX_DIM), EXPR]}, "minItems": 2, "maxItems": 2}
        pairs = {"type": "array", "items": {"anyOf": [pair, EXPR]}, "minItems": ndim, "maxItems": ndim}
        numbers = [_int(0, MAX_DIM), *_lists(0, (1, ndim, 2 * ndim)), pairs]
        if k == "sides":
            s = _any(*numbers)
        else:
            options = ["same", "valid", *p.choices]
            words = {"type": "string", "pattern": f"^{NO_NEWLINE}(?:{'|'.join(_ci(w) for w in options)})$",
                     "examples": options}
            s = _any(*numbers, words)
    elif k == "bias":
        s = _any({"type": "boolean"}, {"enum": ["per_position", "per-position"]})
    elif k == "bool":
        s = _any({"type": "boolean"})
    elif k == "float":
        s = _any({"type": "number"})
    elif k == "rate":
        s = _any({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
    elif k == "name":
        s = _any({"type": "string", "pattern": r"\S"})
    elif k == "choice":
        s = _any({"enum": list(p.choices)})
    elif k == "ints":
        s = _any(_int(None, MAX_DIM), {"type": "array", "items": {"anyOf": [_int(None, MAX_DIM), EXPR]}})
    elif k == "numbers":
        s = _any({"type": "number"}, {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "number"}, EXPR]}})
    elif k == "shape":
        item = {"anyOf": [_int(1, MAX_DIM), {"const": -1}, EXPR]}
        s = _any({"type": "array", "minItems": 1, "items": item})
    elif k == "axes":
        s = _any({"type": "array", "uniqueItems": True, "items": {"anyOf": [_int(1, MAX_DIM), EXPR]}})
    else:  # pragma: no cover - a new kind must be added here; test_schema checks every registered kind
        raise AssertionError(f"no schema for param kind {k!r}")
    doc = p.doc or k
    s["description"] = doc if p.default is REQUIRED else f"{doc} (default {p.default!r})"
    return s


def _name() -> dict[str, Any]:
    return {"anyOf": [{"type": "string", "pattern": NAME_PATTERN, "not": {"const": "input"}}, _int(0)],
            "description": "unique name: letters, digits, `_`, `.`, `-`; `$param`/`${expr}` substituted"}


def _refs() -> dict[str, Any]:
    from .limits import MAX_FAN_IN

    return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                           "maxItems": MAX_FAN_IN}]}


def _common() -> dict[str, Any]:
    """Keys every layer entry may have (spec.LAYER_KEYS)."""
    from .limits import MAX_LAYERS

    return {
        "name": _name(),
        "inputs": _refs() | {"description": "names of the layers this one reads (`input` = the network/block "
                                            "input; the names of named inputs)"},
        "repeat": _any(_int(1, MAX_LAYERS)) | {"description": "repeat this entry N times in sequence ($i = copy index)"},
        "if": _any({"type": ["boolean", "integer"]}) | {"description": "drop the layer when false"},
        "expect": {"$ref": "#/definitions/expect"},
    }


def _layer(cls: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"type": {"type": "string", "pattern": type_pattern(_keys_of(cls)),
                                      "examples": [cls.name, *cls.aliases], "description": cls.doc}}
    props.update(_common())
    required: list[dict[str, Any]] = []
    for pname, p in cls.params.items():
        s = param_schema(p, cls.ndim)
        keys = (pname, *p.aliases)
        for key in keys:
            props[key] = s
        if p.default is REQUIRED:
            required.append({"anyOf": [{"required": [key]} for key in keys]})
        if len(keys) > 1:  # a parameter and its alias together: "the same parameter; give it once"
            pairs = [[a, b] for i, a in enumerate(keys) for b in keys[i + 1:]]
            required.append({"not": {"anyOf": [{"required": pair} for pair in pairs]}})
    schema: dict[str, Any] = {"type": "object", "description": cls.doc, "properties": props, "required": ["type"],
                              "additionalProperties": False}
    if required:
        schema["allOf"] = required
    return schema


def _expect() -> dict[str, Any]:
    count = {"anyOf": [_int(0), {"type": "string", "pattern": r"^\d{1,3}([,_ ]\d{3})+$|^\d+$"}]}
    from .expect import COUNTS

    props: dict[str, Any] = {"output_shape": {
        "anyOf": [_int(1), {"type": "array", "items": _int(1), "minItems": 1}, {"type": "string", "pattern": SIZE_TEXT}],
        "description": "expected output shape in the spec's layout, e.g. 32x32x10"}}
    props.update({k: count | {"description": f"expected {k.replace('_', ' ')}"} for k in COUNTS})
    return {"type": "object", "properties": props, "additionalProperties": False,
            "description": "assertions checked by `cnncalc check`, `show` and `lint` (rule expect-failed)"}


def _shape() -> dict[str, Any]:
    """An input shape: 1 to 4 sizes in `layout` order (`$` expressions allowed), or text like 227x227x3."""
    from .limits import MAX_DIM

    item = {"anyOf": [_int(1, MAX_DIM), EXPR]}
    return {"anyOf": [{"type": "array", "items": item, "minItems": 1, "maxItems": 4}, _text(1, (1, 2, 3, 4)),
                      {"type": "string", "pattern": r"\$", "description": "with $param / ${expr} pieces"}]}


def build() -> dict[str, Any]:
    """The JSON Schema (draft-07, the draft editors support best) of a cnncalc spec."""
    from .spec import BLOCK_USE_KEYS, LAYOUT_ALIASES, SHARE_KEYS

    types = all_types()
    bare = [k for cls in types.values() if not any(p.required for p in cls.params.values()) for k in _keys_of(cls)]
    layer_defs = {f"layer_{name}": _layer(cls) for name, cls in types.items()}
    common = _common()
    block_use = {"type": "object", "required": ["block"], "not": {"required": ["share"]}, "properties": {
        "block": {"type": "string", "description": "name of a block defined under `blocks`"},
        **{k: common[k] for k in BLOCK_USE_KEYS if k in common}},
        "additionalProperties": {"description": "a block param (any value: `$` expressions inside the block use it)"}}
    share = {"type": "object", "required": ["share"], "additionalProperties": False, "properties": {
        "share": {"type": "string", "description": "an earlier layer or block use, called again with the same "
                                                     "weights (params counted once, MACs every time)"},
        **{k: common[k] for k in SHARE_KEYS if k in common}}}
    scalar = {"type": ["string", "number", "boolean", "null"]}
    names = {"pattern": NAME_PATTERN}
    layouts = "|".join(_ci(a) for a in sorted(LAYOUT_ALIASES))
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "cnncalc network spec",
        "description": "A convolutional network for cnncalc (docs/spec.md).",
        "type": "object",
        "required": ["layers"],
        "anyOf": [{"required": ["input"]}, {"required": ["inputs"]}],
        "not": {"required": ["input", "inputs"]},
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": _shape() | {"description": "input shape in layout order, no batch: [H, W, C], [C, H, W], [L, C], "
                                                "[D, H, W, C], [C, D, H, W] or [F]"},
            "inputs": {"type": "object", "minProperties": 1, "propertyNames": names, "additionalProperties": _shape(),
                       "description": "named network inputs and their shapes: {image: 224x224x3, mask: 224x224x1}"},
            "outputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                                       "uniqueItems": True}],
                        "description": "the layers the network returns (default: the last layer)"},
            "layout": {"type": "string", "pattern": f"^{_space()}(?:{layouts}){_space()}$",
                       "examples": ["channels_last", "channels_first", "NHWC", "NCHW"], "default": "channels_last"},
            "params": {"type": "object", "additionalProperties": scalar, "description": "global $params"},
            "blocks": {"type": "object", "propertyNames": names,
                       "additionalProperties": {"$ref": "#/definitions/block"}},
            "layers": {"$ref": "#/definitions/layers"},
            "expect": {"$ref": "#/definitions/expect"},
        },
        "definitions": {
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/layer"}},
            "layer": {"anyOf": [
                {"type": "string", "pattern": type_pattern(bare), "examples": sorted(
                    {n for cls in types.values() if not any(p.required for p in cls.params.values())
                     for n in (cls.name, *cls.aliases)}), "description": "a layer type without required parameters"},
                {"$ref": "#/definitions/block_use"},
                {"$ref": "#/definitions/share"},
                *({"$ref": f"#/definitions/{name}"} for name in layer_defs),
            ]},
            "block": {"type": "object", "required": ["layers"], "additionalProperties": False, "properties": {
                "description": {"type": "string"},
                "params": {"type": "object", "additionalProperties": True,
                           "description": "the block's params with defaults (null = required)"},
                "inputs": {"type": "array", "minItems": 1, "uniqueItems": True,
                           "items": {"type": "string", "pattern": NAME_PATTERN},
                           "description": "names of the block's inputs, for a block that reads several"},
                "layers": {"$ref": "#/definitions/layers"}}},
            "block_use": block_use,
            "share": share,
            "expect": _expect(),
            **layer_defs,
        },
    }


def to_json() -> str:
    import json

    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
