"""JSON Schema of the spec format, generated from the layer registry (so it cannot drift).

Editors use it through yaml-language-server (`# yaml-language-server: $schema=...`) to complete
and check layer types and parameters while typing. The schema is deliberately a little looser
than cnncalc where static checking cannot follow (`$expr` strings are accepted wherever a value
goes; shapes, references and block params are checked by `cnncalc lint`), never stricter.
"""

from __future__ import annotations

from typing import Any

from .layers import REQUIRED, Param, all_types

SCHEMA_ID = "https://github.com/cnncalc/cnncalc/raw/main/docs/cnncalc.schema.json"
EXPR = {"type": "string", "pattern": r"^\$", "description": "$name or ${expression}"}
SIZE_TEXT = r"^\s*\d+(\s*[xX×]\s*\d+)*\s*$"
NAME_PATTERN = r"^[A-Za-z_][\w.\-]*$"


def _int(minimum: int | None = None, maximum: int | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return s


def _any(*options: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*options, EXPR]}


def _ints_or_text(minimum: int, ndim: int, max_items: int) -> list[dict[str, Any]]:
    from .limits import MAX_DIM

    item = {"anyOf": [_int(minimum, MAX_DIM), EXPR]}
    return [_int(minimum, MAX_DIM), {"type": "array", "items": item, "minItems": 1, "maxItems": max_items},
            {"type": "string", "pattern": SIZE_TEXT}]


def param_schema(p: Param, ndim: int) -> dict[str, Any]:
    """The schema of one parameter value, by its kind (see layers.base._check)."""
    from .limits import MAX_DIM

    k = p.kind
    if k == "count":
        s = _any(_int(1, MAX_DIM))
    elif k == "nonneg":
        s = _any(_int(0, MAX_DIM))
    elif k == "int":
        s = _any(_int(None, MAX_DIM))
    elif k in ("size", "size0"):
        s = _any(*_ints_or_text(1 if k == "size" else 0, ndim, ndim))
    elif k in ("padding", "tpadding", "sides"):
        ints = _ints_or_text(0, ndim, 2 * ndim)[:2]
        pair = {"type": "array", "items": {"anyOf": [_int(0, MAX_DIM), EXPR]}, "minItems": 2, "maxItems": 2}
        pairs = {"type": "array", "items": {"anyOf": [pair, EXPR]}, "minItems": ndim, "maxItems": ndim}
        if k == "sides":
            s = _any(*ints, pairs)
        else:
            options = ["same", "valid", *p.choices]
            pattern = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in word) for word in options)
            words = {"type": "string", "pattern": f"^(?:{pattern})$", "examples": options}
            s = _any(*ints, pairs, words)
    elif k == "bias":
        s = _any({"type": "boolean"}, {"enum": ["per_position", "per-position"]})
    elif k == "bool":
        s = _any({"type": "boolean"})
    elif k == "float":
        s = _any({"type": "number"})
    elif k == "rate":
        s = _any({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
    elif k == "name":
        s = _any({"type": "string", "minLength": 1})
    elif k == "choice":
        s = _any({"enum": list(p.choices)})
    elif k == "shape":
        s = _any({"type": "array", "minItems": 1, "items": {"anyOf": [_int(-1, MAX_DIM), EXPR]}})
    else:  # pragma: no cover - a new kind must be added here; test_schema checks every registered kind
        raise AssertionError(f"no schema for param kind {k!r}")
    doc = p.doc or k
    s["description"] = doc if p.default is REQUIRED else f"{doc} (default {p.default!r})"
    return s


def _common() -> dict[str, Any]:
    """Keys every layer entry may have (spec.LAYER_KEYS)."""
    return {
        "name": {"type": "string", "pattern": NAME_PATTERN, "description": "unique layer name"},
        "inputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                   "description": "names of the layers this one reads (`input` = the network/block input)"},
        "repeat": _any(_int(1)) | {"description": "repeat this entry N times in sequence ($i = copy index)"},
        "if": {"type": ["boolean", "string", "integer", "null"], "description": "drop the layer when false"},
        "expect": {"$ref": "#/definitions/expect"},
    }


def _layer(cls: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"type": {"enum": [cls.name, *cls.aliases], "description": cls.doc}}
    props.update(_common())
    required = []
    for pname, p in cls.params.items():
        s = param_schema(p, cls.ndim)
        for key in (pname, *p.aliases):
            props[key] = s
        if p.default is REQUIRED:
            required.append({"anyOf": [{"required": [key]} for key in (pname, *p.aliases)]})
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


def build() -> dict[str, Any]:
    """The JSON Schema (draft-07, the draft editors support best) of a cnncalc spec."""
    from .limits import MAX_DIM
    from .spec import LAYOUTS

    types = all_types()
    bare = sorted({n for cls in types.values() if not any(p.required for p in cls.params.values())
                   for n in (cls.name, *cls.aliases)})
    layer_defs = {f"layer_{name}": _layer(cls) for name, cls in types.items()}
    block_use = {"type": "object", "required": ["block"], "properties": {
        "block": {"type": "string", "description": "name of a block defined under `blocks`"}, **_common()},
        "additionalProperties": {"type": ["string", "number", "boolean", "null"], "description": "a block param"}}
    scalar = {"type": ["string", "number", "boolean", "null"]}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "cnncalc network spec",
        "description": "A convolutional network for cnncalc (docs/spec.md).",
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": {"description": "input shape in layout order, no batch: [H, W, C], [C, H, W], [L, C], "
                                     "[D, H, W, C], [C, D, H, W] or [F]",
                      "anyOf": [{"type": "array", "items": _int(1, MAX_DIM), "minItems": 1, "maxItems": 4},
                                {"type": "string", "pattern": SIZE_TEXT}]},
            "layout": {"enum": [*LAYOUTS, "NHWC", "HWC", "NCHW", "CHW"], "default": "channels_last"},
            "params": {"type": "object", "additionalProperties": scalar, "description": "global $params"},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/definitions/block"}},
            "layers": {"$ref": "#/definitions/layers"},
            "expect": {"$ref": "#/definitions/expect"},
        },
        "definitions": {
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/layer"}},
            "layer": {"anyOf": [
                {"enum": bare, "description": "a layer type without required parameters"},
                {"$ref": "#/definitions/block_use"},
                *({"$ref": f"#/definitions/{name}"} for name in layer_defs),
            ]},
            "block": {"type": "object", "required": ["layers"], "additionalProperties": False, "properties": {
                "description": {"type": "string"},
                "params": {"type": "object", "additionalProperties": scalar,
                           "description": "the block's params with defaults (null = required)"},
                "layers": {"$ref": "#/definitions/layers"}}},
            "block_use": block_use,
            "expect": _expect(),
            **layer_defs,
        },
    }


def to_json() -> str:
    import json

    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
