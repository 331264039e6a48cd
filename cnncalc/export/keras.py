"""Keras 3 code generation: a functional model whose layer names are the spec's, dots as `_`.

The model keeps the spec's layout: a channels_first spec gets `data_format="channels_first"` on
every spatial layer (Keras 3 supports it on the torch and jax backends). Where one spec layer
needs several Keras layers (explicit padding, per-position bias, a channel-wise scale), the extra
ones are named `<name>__<role>` and belong to that layer when verifying.
"""

from __future__ import annotations

import builtins
import re
from typing import TYPE_CHECKING, Any

from ..errors import Unsupported
from ..layers import all_types
from ..layers.mapping import Arg, Call, Code, pos
from . import Errors, Exported, doc_text, header, site
from .code import WIDTH, Classes, funcs, lit, render
from .structure import Item, build, ident, plan

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

    def module(self, it: Item, owner: bool = False) -> Call:
        """The Keras calls of `it`; `owner`: a sibling calls this leaf's layers again (`share:`), so the
        writer keeps them in variables."""
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
            return Call("#owner" if owner else "#leaf", [pos(role, call) for role, call in pieces])
        if it.kind == "seq":
            return Call("#seq", [pos(str(i), self.module(c)) for i, c in enumerate(it.children)])
        body, steps, ret = self.body(it)
        return self.classes.instance(body, steps, ret, it.block, it.path)

    def body(self, it: Item, input_var: str | list[str] = "x") -> tuple[list[tuple[str, Call]], list[str], str]:
        prelude, steps, ret = plan(it, input_var)
        keys = {c.key: kname(c.key) for c in it.children}
        leaves = {c.layer.name: c for c in it.children if c.layer is not None and c.kind == "leaf"}
        shared = {c.layer.shares for c in it.children if c.layer is not None and c.layer.shares}
        body = []
        for c in it.children:
            if c.sharer:  # the layer(s) of a sibling, called again: structure.build put them side by side
                assert c.layer is not None and c.layer.shares in leaves, c.path
                mine = leaves[c.layer.shares]
                assert mine.layer is not None
                self.names[c.layer.name] = self.names[mine.layer.name]
                body.append((keys[c.key], Call("#again", [pos("of", Code(keys[mine.key]))])))
            else:
                body.append((keys[c.key], self.module(c, c.layer is not None and c.layer.name in shared)))
        lines = prelude + [f"{v} = {keys[c.key]}({', '.join(args)})" for v, c, args in steps]
        return body, lines, ret


_STEP = re.compile(r"^(\w+) = (\w+)\((.*)\)$")


class _Writer:
    """Writes the data flow of one module (build_model or a helper function) as Keras calls."""

    def __init__(self, params: dict[int, str], functions: dict[str, str]):
        self.params = params
        self.functions = functions  # class name → function name
        self.lines: list[str] = []
        self.bound: dict[str, list[tuple[str, str]]] = {}  # a shared leaf → (role, variable) of its layers
        self.taken: set[str] = set()

    def module(self, body: list[tuple[str, Call]], forward: list[str], ret: str, name: _Name) -> list[str]:
        calls = dict(body)
        self.taken = {"x", "inputs", "name", "i", *(line.split(" = ")[0] for line in forward)}
        self.taken |= {v for line in forward for v in re.findall(r"\w+", line)}
        for line in forward:
            m = _STEP.match(line)
            if not m:
                self.lines.append(line)  # `identity = x`
                continue
            var, attr, args = m.group(1), m.group(2), m.group(3).split(", ")
            self.emit(calls[attr], var, args, name.child(attr), attr)
        self.lines.append(f"return {ret}")
        return self.lines

    def emit(self, call: Call, var: str, args: list[str], name: _Name, attr: str = "") -> None:
        if call.func in ("#leaf", "#owner", "#again"):
            if call.func == "#again":  # a shared layer: the layers of the leaf it shares, called again
                pieces: list[tuple[str, Any]] = [(role, Code(v)) for role, v in self.bound[call.args[0].value.text]]
            else:
                pieces = [(a.name, a.value) for a in call.args]
            own = attr if call.func == "#owner" else ""
            srcs = list(args)
            first = True
            for role, piece in pieces:
                if ":" in role:  # applies to one input, e.g. in1:reshape1
                    k = int(role.split(":")[0][2:])
                    tmp = f"scale{k}"
                    piece = self.keep(own, role, piece, name.code(f"__{role.split(':')[1]}"))
                    self.put(tmp, piece, [srcs[k]], name.code(f"__{role.split(':')[1]}"))
                    srcs[k] = tmp
                    continue
                piece = self.keep(own, role, piece, name.code(f"__{role}" if role else ""))
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

    def keep(self, own: str, role: str, piece: Any, name_code: str) -> Any:
        """A layer of a leaf a sibling shares, created once into a variable (its calls use that);
        others are returned as they are, to be created where they are called."""
        if not own:
            return piece
        var = f"{ident(own)}_{role.split(':')[-1]}_layer" if role else f"{ident(own)}_layer"
        while var in self.taken:
            var += "_"
        self.taken.add(var)
        named = Call(piece.func, [*piece.args, Arg("name", Code(name_code))])
        self.lines.append(f"{var} = {render(named, self.params, 0, 4 + len(var) + 3)}")
        self.bound.setdefault(own, []).append((role, var))
        return Code(var)

    def put(self, var: str, call: Call | Code, srcs: list[str], name_code: str) -> None:
        src = srcs[0] if len(srcs) == 1 else "[" + ", ".join(srcs) + "]"
        lead = f"{var} = "
        if isinstance(call, Code):  # a layer kept in a variable
            self.lines.append(f"{lead}{call.text}({src})")
            return
        named = Call(call.func, [*call.args, Arg("name", Code(name_code))])
        line = f"{lead}{render(named, self.params, 0, 4 + len(lead) + len(src) + 2)}({src})"
        if len(line.splitlines()[-1]) + 4 > WIDTH:  # a long list of inputs: one per line
            line = line[:-len(src) - 2] + "(\n    [\n" + "".join(f"        {v},\n" for v in srcs) + "    ]\n)"
        self.lines.append(line)


def _indent(lines: list[str]) -> str:
    return "".join("    " + line.replace("\n", "\n    ") + "\n" for line in lines)


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a, share_modules=False)
    net = a.network
    named = net.named_inputs
    args: list[str] = []
    for iname in net.input_names:  # named inputs: keras.Input(name=...) in a variable named after each
        arg = ident(iname)
        while arg in args:
            arg += "_"
        args.append(arg)
        if named:
            k = kname(iname)
            if k in gen.owner:
                gen.errors.add(a.layer(gen.owner[k]), Unsupported(f"its Keras name {k!r} is also that of input "
                                                                  f"{iname!r}; rename one of them"))
    body, forward, ret = gen.body(root, args if named else "inputs")
    if named:
        for iname in net.input_names:
            k = kname(iname)
            if k in gen.owner:
                gen.errors.add(a.layer(gen.owner[k]), Unsupported(f"its Keras name {k!r} is also that of input "
                                                                  f"{iname!r}; rename one of them"))
    gen.errors.raise_if_any()
    classes = gen.classes.finalize()
    taken = {line.split(" = ")[0] for c in classes for line in c.forward} | {line.split(" = ")[0] for line in forward}
    taken |= {"keras", "layers", "ops", "build_model", "inputs", "name", "x", "i", "DATA_FORMAT", *dir(builtins)}
    taken |= set(args)
    functions = {c.name: snake(c.name) + ("_block" if snake(c.name) in taken else "") for c in classes}
    for cls in classes:  # helper calls are written with function names
        for _, call, _, _ in cls.instances:
            call.func = functions[cls.name]
    in_shapes = [t.dims(a.layout) for _, t, _ in net.inputs]
    outputs = [a.layer(o).tensor.dims(a.layout) for o in net.outputs]
    in_shape, out_shape = in_shapes[0], outputs[0]
    tup = lambda s: ", ".join(map(str, s))  # noqa: E731
    if named or net.named_outputs:
        ins = ", ".join(f"{doc_text(n)} (N, {tup(s)})" for n, s in zip(net.input_names, in_shapes, strict=True))
        outs = ", ".join(f"{doc_text(n)} (N, {tup(s)})" for n, s in zip(net.outputs, outputs, strict=True))
        io = f"\nInputs: {ins}, {a.layout};\noutputs: {outs}.\n"
    else:
        io = f"\nInput: (N, {tup(in_shape)}) {a.layout}; output: (N, {tup(out_shape)}).\n"
    helper_sources = {h: src for h, src in helpers().items() if h in gen.helpers}
    uses_ops = any("ops." in src for src in helper_sources.values())
    parts = [header(a, source, "keras", "Keras 3 functional model") + io
             + "Layer names are the spec's, with `_` for `.`.\n"
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
    model_name = lit(_model_name(a))
    if named:
        inputs = "".join(f"{v} = keras.Input(shape={lit(tuple(s))}, name={lit(kname(n))})\n"
                         for v, n, s in zip(args, net.input_names, in_shapes, strict=True))
        ins_arg = args[0] if len(args) == 1 else f"[{', '.join(args)}]"
    else:
        inputs = f"inputs = keras.Input(shape={lit(tuple(in_shape))})\n"
        ins_arg = "inputs"
    outs_arg = ret if len(outputs) == 1 else f"[{ret}]"
    lines[-1] = f"return keras.Model({ins_arg}, {outs_arg}, name={model_name})"
    if len(lines[-1]) + 4 > WIDTH:
        lines[-1] = f"return keras.Model(\n    {ins_arg},\n    {outs_arg},\n    name={model_name},\n)"
    parts.append(f"def build_model() -> keras.Model:\n{_indent(inputs.splitlines())}{_indent(lines)}")
    parts.append('if __name__ == "__main__":\n    build_model().summary()\n')
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("keras", code, gen.names, "build_model", in_shape, in_shapes)
