"""The catalogue of layer types, written from their declarations: what `cnncalc types` prints and
docs/layers.md (regenerate it with `cnncalc types --format markdown > docs/layers.md`)."""

from __future__ import annotations

from .layers import REQUIRED, Layer, Param, all_types

GROUPS = ("convolution", "pooling", "dense and reshaping", "normalization", "activation", "attention", "merge",
          "other")


def ordered() -> list[type[Layer]]:
    """Every layer type, by catalogue group, then in declaration order."""
    types = list(all_types().values())
    return sorted(types, key=lambda cls: GROUPS.index(cls.group) if cls.group in GROUPS else len(GROUPS))


def _value(v: object) -> str:
    """A default as it is written in a spec (true, 0.5, same); None: the parameter's doc says."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return "unset" if v is None else str(v)


def _default(p: Param) -> str:
    return "required" if p.default is REQUIRED else f"default {_value(p.default)}"


def _inputs(cls: type[Layer]) -> str:
    if cls.max_inputs is None:
        return f"{cls.min_inputs} or more"
    return str(cls.min_inputs) if cls.min_inputs == cls.max_inputs else f"{cls.min_inputs} to {cls.max_inputs}"


def text() -> str:
    """Every layer type with its aliases and parameters, one indented line per parameter."""
    lines = []
    for cls in ordered():
        name = cls.name
        aliases = f" (aliases: {', '.join(cls.aliases)})" if cls.aliases else ""
        lines.append(f"{name}{aliases}: {cls.doc}")
        for pname, p in cls.params.items():
            alias = f" [{', '.join(p.aliases)}]" if p.aliases else ""
            lines.append(f"    {pname}{alias}: {_default(p)}{' - ' + p.doc if p.doc else ''}")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """docs/layers.md: one section per layer type."""
    out = ["# Layer types", "",
           "Generated from the layer declarations in `cnncalc/layers/` by `cnncalc types --format markdown`;",
           "do not edit by hand. Parameter values are described in [spec.md](spec.md); how each type is",
           "counted in every convention is printed by `cnncalc conventions NAME`.", ""]
    group = ""
    for cls in ordered():
        if cls.group != group:
            group = cls.group
            out += [f"## {group[:1].upper() + group[1:]}", ""]
        out += [f"### `{cls.name}`", "", cls.doc + ".", ""]
        facts = [f"inputs: {_inputs(cls)}", f"automatic names: `{cls.prefix}1`, `{cls.prefix}2`, …"]
        if cls.aliases:
            facts.insert(0, "aliases: " + ", ".join(f"`{a}`" for a in cls.aliases))
        out += [f"- {fact}" for fact in facts] + [""]
        if cls.params:
            out += ["| parameter | aliases | default | meaning |", "| --- | --- | --- | --- |"]
            for pname, p in cls.params.items():
                default = "required" if p.default is REQUIRED else f"`{_value(p.default)}`"
                aliases = ", ".join(f"`{a}`" for a in p.aliases)
                out.append(f"| `{pname}` | {aliases} | {default} | {p.doc or p.kind} |")
            out.append("")
    return "\n".join(out)
