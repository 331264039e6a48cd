"""Keras 3 code generation: a functional model whose layer names are the spec's, dots as `_`.

The model keeps the spec's layout: a channels_first spec gets `data_format="channels_first"` on
every spatial layer (Keras 3 supports it on the torch and jax backends). Where one spec layer
needs several Keras layers (explicit padding, per-position bias, a channel-wise scale), the extra
ones are named `<name>__<role>` and belong to that layer when verifying.
"""

from __future__ import annotations

import builtins
import re
from typing import TYPE_CHECKING

from ..errors import Unsupported
from ..layers import all_types
from ..layers.mapping import Arg, Call, Code, pos
from . import Errors, Exported, header, site
from .code import WIDTH, Classes, funcs, lit, render
from .structure import Item, build, plan

if TYPE_CHECKING:
    from ..analysis import Analysis

def helpers() -> dict[str, str]:
    """The helper layers layer types declare for their Keras mapping, by name."""
    return {name: source for cls in all_types().values() for name, source in cls.keras_helpers.items()}


def kname(name: str) -> str:
    """The Keras layer name of a spec layer (Keras on torch refuses dots in names)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _model_name(a: Analysis) -> str:
    from pathlib import Path

    return kname(Path(a.file).stem) or "model"


def snake(camel_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel_name).lower()


class _Name:
    """The Keras name of a layer as source: "conv1" at the top level, f"{name}_conv1" in a helper."""

    def __init__(self, text: str):
        self.text = text

    def child(self, key: str) -> _Name:
        return _Name(f"{self.text}_{key}" if self.text else key)

    def code(self, suffix: str = "") -> str:
        text = self.text + suffix
        return f'f"{text}"' if "{" in text else f'"{text}"'


class _Gen:
    """Builds the module tree as Keras calls; sub-networks become helper functions (see code.Classes)."""

    def __init__(self, a: Analysis):
        self.a = a
        self.errors = Errors("Keras")
        self.classes = Classes()
        self.helpers: set[str] = set()
        self.names: dict[str, str] = {}
        self.owner: dict[str, str] = {}

    def module(self, it: Item) -> Call:
        if it.kind == "leaf":
            layer = it.layer
            assert layer is not None
            name = kname(layer.name)
            if name in self.owner:
                self.errors.add(layer, Unsupported(f"its Keras name {name!r} is also that of {self.owner[name]!r}; "
                                                   "rename one of them"))
            self.owner[name] = self.names[layer.name] = name
            try:
                pieces = layer.layer_type.keras(site(layer, self.a))
            except Unsupported as exc:
                self.errors.add(layer, exc)
                pieces = [("", Call("layers.Identity"))]
            self.helpers |= {f for _, call in pieces for f in funcs(call)}
            return Call("#leaf", [pos(role, call) for role, call in pieces])
        if it.kind == "seq":
            return Call("#seq", [pos(str(i), self.module(c)) for i, c in enumerate(it.children)])
        body, steps, ret = self.body(it)
        return self.classes.instance(body, steps, ret, it.block, it.path)

    def body(self, it: Item, input_var: str = "x") -> tuple[list[tuple[str, Call]], list[str], str]:
        prelude, steps, ret = plan(it, input_var)
        keys = {c.key: kname(c.key) for c in it.children}
        body = [(keys[c.key], self.module(c)) for c in it.children]
        lines = prelude + [f"{v} = {keys[c.key]}({', '.join(args)})" for v, c, args in steps]
        return body, lines, ret


_STEP = re.compile(r"^(\w+) = (\w+)\((.*)\)$")


class _Writer:
    """Writes the data flow of one module (build_model or a helper function) as Keras calls."""

    def __init__(self, params: dict[int, str], functions: dict[str, str]):
        self.params = params
        self.functions = functions  # class name → function name
        self.lines: list[str] = []

    def module(self, body: list[tuple[str, Call]], forward: list[str], ret: str, name: _Name) -> list[str]:
        calls = dict(body)
        for line in forward:
            m = _STEP.match(line)
            if not m:
                self.lines.append(line)  # `identity = x`
                continue
            var, attr, args = m.group(1), m.group(2), m.group(3).split(", ")
            self.emit(calls[attr], var, args, name.child(attr))
        self.lines.append(f"return {ret}")
        return self.lines

    def emit(self, call: Call, var: str, args: list[str], name: _Name) -> None:
        if call.func == "#leaf":
            srcs = list(args)
            first = True
            for a in call.args:
                role, piece = a.name, a.value
                if ":" in role:  # applies to one input, e.g. in1:reshape1
                    k = int(role.split(":")[0][2:])
                    tmp = f"scale{k}"
                    self.put(tmp, piece, [srcs[k]], name.code(f"__{role.split(':')[1]}"))
                    srcs[k] = tmp
                    continue
                self.put(var, piece, srcs if first else [var], name.code(f"__{role}" if role else ""))
                first = False
            return
        if call.func == "#seq":
            kids = [a.value for a in call.args]
            texts = {render(k, self.params) for k in kids}
            if len(kids) >= 2 and len(texts) == 1 and kids[0].func in self.functions.values():
                if var != args[0]:
                    self.lines.append(f"{var} = {args[0]}")
                self.lines.append(f"for i in range({len(kids)}):")
                text = self.instance(kids[0], [var], name.child("{i}")).replace("\n", "\n    ")
                self.lines.append(f"    {var} = {text}")
                return
            src = args
            for i, kid in enumerate(kids):
                self.emit(kid, var, src, name.child(str(i)))
                src = [var]
            return
        self.lines.append(f"{var} = {self.instance(call, args, name)}")

    def instance(self, call: Call, args: list[str], name: _Name) -> str:
        head = Call(call.func, [pos("x", Code(args[0])), pos("name", Code(name.code())), *call.args])
        return render(head, self.params, 0, 4 + 4 + len(head.func) // 4)

    def put(self, var: str, call: Call, srcs: list[str], name_code: str) -> None:
        named = Call(call.func, [*call.args, Arg("name", Code(name_code))])
        src = srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]"
        lead = f"{var} = "
        line = f"{lead}{render(named, self.params, 0, 4 + len(lead) + len(src) + 2)}({src})"
        if len(line.splitlines()[-1]) + 4 > WIDTH:  # a long list of inputs: one per line
            line = line[:-len(src) - 2] + "(\n    [\n" + "".join(f"        {v},\n" for v in srcs) + "    ]\n)"
        self.lines.append(line)


def _indent(lines: list[str]) -> str:
    return "".join("    " + line.replace("\n", "\n    ") + "\n" for line in lines)


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a)
    body, forward, ret = gen.body(root, "inputs")
    gen.errors.raise_if_any()
    classes = gen.classes.finalize()
    taken = {line.split(" = ")[0] for c in classes for line in c.forward} | {line.split(" = ")[0] for line in forward}
    taken |= {"keras", "layers", "ops", "build_model", "inputs", "name", "x", "i", "DATA_FORMAT", *dir(builtins)}
    functions = {c.name: snake(c.name) + ("_block" if snake(c.name) in taken else "") for c in classes}
    for cls in classes:  # helper calls are written with function names
        for _, call, _, _ in cls.instances:
            call.func = functions[cls.name]
    in_shape = a.network.input.dims(a.layout)
    out_shape = a.layers[-1].tensor.dims(a.layout) if a.layers else in_shape
    helper_sources = {h: src for h, src in helpers().items() if h in gen.helpers}
    uses_ops = any("ops." in src for src in helper_sources.values())
    parts = [header(a, source, "keras", "Keras 3 functional model")
             + f"\nInput: (N, {', '.join(map(str, in_shape))}) {a.layout}; output: (N, "
             f"{', '.join(map(str, out_shape))}).\nLayer names are the spec's, with `_` for `.`.\n"
             '"""\n\nimport keras\n' + ("from keras import layers, ops\n" if uses_ops else "from keras import layers\n")]
    if a.layout == "channels_first":
        parts[0] += '\nDATA_FORMAT = "channels_first"  # the spec\'s layout; Keras defaults to channels_last\n'
    parts += list(helper_sources.values())
    for cls in classes:
        sig = ", ".join(["x", "name", *cls.params])
        head = f"def {functions[cls.name]}({sig}):"
        if len(head) > WIDTH:
            head = f"def {functions[cls.name]}(\n" + "".join(f"    {p},\n" for p in ["x", "name", *cls.params]) + "):"
        lines = _Writer(cls.slot_params, functions).module(cls.body, cls.forward, cls.ret, _Name("{name}"))
        parts.append(f"{head}\n{_indent(lines)}")
    lines = _Writer({}, functions).module(body, forward, ret, _Name(""))
    lines[-1] = f"return keras.Model(inputs, {ret}, name={lit(_model_name(a))})"
    parts.append(f"def build_model() -> keras.Model:\n    inputs = keras.Input(shape={lit(tuple(in_shape))})\n"
                 f"{_indent(lines)}")
    parts.append('if __name__ == "__main__":\n    build_model().summary()\n')
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("keras", code, gen.names, "build_model", in_shape)
