"""Constructor calls as data, their rendering, and helper classes shared by identical sub-modules.

A layer becomes a `Call` (`nn.Conv2d(64, 128, kernel_size=3)`) whose literal arguments are slots.
Sub-modules with the same structure share one helper class; the slots that differ between its
instances become the class's constructor parameters (`Bottleneck(in_channels=256, stride=2)`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..layers.mapping import NO_DEFAULT, Arg, Call
from .structure import ident

WIDTH = 100


def lit(v: Any) -> str:
    """Python source of a literal value."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, float):
        if math.isinf(v):
            return 'float("-inf")' if v < 0 else 'float("inf")'
        return repr(v)
    if isinstance(v, str):
        # repr() is always one valid literal of the same value (quotes, backslashes, line breaks and
        # control characters escaped); written with double quotes when that needs no further escape
        text = repr(v)
        return f'"{text[1:-1]}"' if text[0] == "'" and '"' not in text else text
    if isinstance(v, (tuple, list)):
        inner = ", ".join(lit(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(x)}" for k, x in v.items()) + "}"
    return repr(v)


def funcs(call: Call) -> set[str]:
    """Every function or class a call (and the calls in its arguments) names."""
    out = {call.func}
    for a in call.args:
        if isinstance(a.value, Call):
            out |= funcs(a.value)
    return out


def render(call: Call, params: dict[int, str], indent: int = 0, lead: int = 0) -> str:
    """`call` as source; `params` maps id(slot) → parameter name (for helper-class bodies).

    `indent` is the indentation of the line, `lead` the width of what precedes the call on it.
    """
    parts = []
    for a in call.args:
        if id(a) in params:
            text = params[id(a)]
        elif isinstance(a.value, Call):
            text = render(a.value, params, indent + 4, 1)  # 1: the comma after it on its line
        elif a.default is not NO_DEFAULT and _same(a.value, a.default):
            continue
        else:
            text = lit(a.value)
        parts.append(text if a.positional else f"{a.name}={text}")
    if len(parts) >= 3 and call.func.endswith("Sequential") and len(set(parts)) == 1 and "\n" not in parts[0]:
        return f"{call.func}(*({parts[0]} for _ in range({len(parts)})))"  # a repeat: write it as a loop
    one = f"{call.func}({', '.join(parts)})"
    if len(one) + indent + lead <= WIDTH and "\n" not in one:
        return one
    pad = " " * (indent + 4)
    return f"{call.func}(\n" + "".join(f"{pad}{p},\n" for p in parts) + " " * indent + ")"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _key(v: Any) -> tuple[str, str]:
    return type(v).__name__, repr(v)


def camel(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name and not name[0].isdigit() else "Net" + name


@dataclass
class ClassDef:
    name: str
    body: list[tuple[str, Call]]  # attribute → constructor, of the first instance
    forward: list[str]
    ret: str
    instances: list[tuple[list[tuple[str, Call]], Call, str, str]] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    slot_params: dict[int, str] = field(default_factory=dict)  # id(slot of `body`) → parameter


class Classes:
    """Helper classes keyed by structure, in creation order (children before parents)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple, ClassDef] = {}

    def instance(self, body: list[tuple[str, Call]], forward: list[str], ret: str, block: str, path: str) -> Call:
        key = (tuple((attr, c.shape()) for attr, c in body), tuple(forward), ret)
        cls = self.by_key.get(key)
        if cls is None:
            cls = self.by_key[key] = ClassDef("", body, forward, ret)
        call = Call(f"#{id(cls)}")  # name and arguments are filled in by finalize()
        cls.instances.append((body, call, block, path))
        return call

    def finalize(self, reserved: set[str] | frozenset[str] = frozenset()) -> list[ClassDef]:
        """Name the classes (avoiding `reserved`) and work out their parameters."""
        used: set[str] = set(reserved)
        for cls in self.by_key.values():
            block = next((b for _, _, b, _ in cls.instances if b), "")
            path = cls.instances[0][3]
            base = camel(block) if block else camel(next((s for s in reversed(path.split(".")) if not s.isdigit()),
                                                         "Block"))
            name, n = base, 2
            while name in used:
                name, n = f"{base}{n}", n + 1
            used.add(name)
            cls.name = name
            self._params(cls)
        return list(self.by_key.values())

    def _params(self, cls: ClassDef) -> None:
        per_instance = [[a for _, c in body for _, a in c.slots()] for body, _, _, _ in cls.instances]
        first = [(attr, prefix, a) for attr, c in cls.body for prefix, a in c.slots()]
        columns: dict[tuple, list[int]] = {}
        for j in range(len(first)):
            column = tuple(_key(slots[j].value) for slots in per_instance)
            if len(set(column)) > 1:
                columns.setdefault(column, []).append(j)
        groups = list(columns.values())
        names = [first[g[0]][2].name for g in groups]
        pnames: list[str] = []
        for n, g in zip(names, groups, strict=True):
            attr, prefix, _ = first[g[0]]
            # an identifier however the layers are named (Keras helpers use the spec's names: `0`)
            name = ident(n if names.count(n) == 1 else f"{attr}_{prefix}{n}")
            while name in pnames or name in ("x", "name", "self"):
                name += "_"
            pnames.append(name)
        defaults = [first[g[0]][2].default for g in groups]
        order = sorted(range(len(groups)), key=lambda i: defaults[i] is not NO_DEFAULT)  # required first
        cls.params = [pnames[i] if defaults[i] is NO_DEFAULT else f"{pnames[i]}={lit(defaults[i])}" for i in order]
        for pname, g in zip(pnames, groups, strict=True):
            for j in g:
                cls.slot_params[id(first[j][2])] = pname
        for slots, (_, call, _, _) in zip(per_instance, cls.instances, strict=True):
            call.func = cls.name
            call.args = [Arg(pnames[i], slots[groups[i][0]].value, defaults[i]) for i in order]
