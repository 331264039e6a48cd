"""PyTorch code generation: an `nn.Module` whose module paths are the spec's layer names.

Tensors are always (N, C, H, W) in PyTorch, whatever the spec's layout. Every spec layer is a
module (merges too: the small `Add`/`Concat`/`Multiply` modules defined in the file), so forward
hooks see every layer's output. A layer that needs extra work (asymmetric padding, per-position
bias, separable convolution) is an `nn.Sequential` under the layer's own name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Unsupported
from ..layers import all_types
from ..layers.mapping import Call, pos
from . import Errors, Exported, doc_text, header, site
from .code import Classes, camel, funcs, render
from .structure import RESERVED, Item, build, forward_lines, ident

if TYPE_CHECKING:
    from ..analysis import Analysis

def helpers() -> dict[str, str]:
    """The helper modules layer types declare for their PyTorch mapping, by name."""
    return {name: source for cls in all_types().values() for name, source in cls.torch_helpers.items()}


class _Gen:
    def __init__(self, a: Analysis):
        self.a = a
        self.errors = Errors("PyTorch")
        self.classes = Classes()
        self.names: dict[str, str] = {}

    def module(self, it: Item, path: str) -> Call:
        if it.kind == "leaf":
            assert it.layer is not None
            self.names[it.layer.name] = path
            try:
                return it.layer.layer_type.torch(site(it.layer, self.a))
            except Unsupported as exc:
                self.errors.add(it.layer, exc)
                return Call("nn.Identity")
        if it.kind == "seq":
            return Call("nn.Sequential", [pos(str(i), self.module(c, f"{path}.{i}")) for i, c in enumerate(it.children)])
        body, forward, ret = self.body(it, path + ".")
        return self.classes.instance(body, forward, ret, it.block, it.path)

    def body(self, it: Item, prefix: str, input_var: str | list[str] = "x"
             ) -> tuple[list[tuple[str, Call]], list[str], str]:
        attrs: dict[str, str] = {}
        used: set[str] = set()
        for c in it.children:
            if c.sharer:
                continue  # calls a sibling's module: no module of its own
            name = ident(c.key)
            while name in used:
                name += "_"
            used.add(name)
            attrs[c.key] = name
        body = [(attrs[c.key], self.module(c, prefix + attrs[c.key])) for c in it.children if not c.sharer]
        calls = {k: f"self.{v}" for k, v in attrs.items()}
        leaves = {c.layer.name: c for c in it.children if c.layer is not None and c.kind == "leaf"}
        for c in it.children:
            if not c.sharer:
                continue
            owner = c.target if c.kind == "share" else leaves.get(c.layer.shares or "") if c.layer else None
            if owner is None or owner.key not in attrs:  # structure.build places them side by side
                raise AssertionError(f"{c.path}: the module it shares is not beside it")
            calls[c.key] = calls[owner.key]
            if c.layer is not None:
                self.names[c.layer.name] = prefix + attrs[owner.key]
        lines, ret = forward_lines(it, calls, input_var)
        return body, lines, ret


def _class_source(name: str, params: list[str], body: list[tuple[str, Call]], slot_params: dict[int, str],
                  forward: list[str], ret: str, doc: str = "", args: list[str] | None = None) -> str:
    sig = "".join(f", {p}" for p in params)
    out = [f"class {name}(nn.Module):"]
    if doc:
        text = doc_text(doc)
        if len(text) + 10 > 100:  # wrapped at its spaces (escapes have none)
            import textwrap

            lines = textwrap.wrap(text, 92, break_long_words=False, break_on_hyphens=False)
            out.append('    """' + "\n    ".join(lines) + '\n    """\n')
        else:
            out.append(f'    """{text}"""\n')
    init = f"    def __init__(self{sig}):"
    if len(init) > 100:
        init = "    def __init__(\n        self,\n" + "".join(f"        {p},\n" for p in params) + "    ):"
    out.append(init)
    out.append("        super().__init__()")
    for attr, call in body:
        lead = f"        self.{attr} = "
        out.append(lead + render(call, slot_params, 8, len(lead) - 8))
    out.append("")
    n_out = len(ret.split(", "))
    returns = "torch.Tensor" if n_out == 1 else f"tuple[{', '.join(['torch.Tensor'] * n_out)}]"
    sig = ", ".join(f"{a}: torch.Tensor" for a in args or ["x"])
    head = f"    def forward(self, {sig}) -> {returns}:"
    if len(head) > 100:
        head = ("    def forward(\n        self,\n" + "".join(f"        {a}: torch.Tensor,\n" for a in args or ["x"])
                + f"    ) -> {returns}:")
    out.append(head)
    out += [f"        {line}" for line in forward]
    out.append(f"        return {ret}")
    return "\n".join(out) + "\n"


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a)
    net = a.network
    several = len(net.inputs) > 1
    args: list[str] = []
    for name in net.input_names:  # several inputs: forward's arguments are named after them
        arg = ident(name)
        while arg in args:
            arg += "_"
        args.append(arg)
    body, forward, ret = gen.body(root, "", args if several else "x")
    gen.errors.raise_if_any()
    for layer in a.layers:  # the layers of a shared block use: the modules of the use it calls again
        if layer.name not in gen.names and layer.shares:
            gen.names[layer.name] = gen.names[layer.shares]
    helper_sources = helpers()
    classes = gen.classes.finalize(set(helper_sources) | {"Module", "Tensor"} | RESERVED)
    main = camel(a.name.split("(")[0])
    if main in {c.name for c in classes} | set(helper_sources) | RESERVED:
        main += "Net"
    called = {f for _, c in body for f in funcs(c)} | {f for cls in classes for _, c in cls.body for f in funcs(c)}
    used = [h for h in helper_sources if h in called]
    in_shapes = [t.dims("channels_first") for _, t, _ in net.inputs]
    outputs = [a.layer(o).tensor.dims("channels_first") for o in net.outputs]
    in_shape, out_shape = in_shapes[0], outputs[0]
    dims = lambda s: " x ".join(map(str, s))  # noqa: E731
    tup = lambda s: ", ".join(map(str, s))  # noqa: E731
    same = all(k == v for k, v in gen.names.items())
    paths = ("Module paths are the spec's layer names." if same else
             "Module paths follow the spec's layer names where Python allows (cnncalc verify shows each).")
    if several or len(outputs) > 1 or net.named_inputs or net.named_outputs:
        ins = ", ".join(f"{doc_text(n)} (N, {tup(s)})" for n, s in zip(net.input_names, in_shapes, strict=True))
        outs = ", ".join(f"{doc_text(n)} (N, {tup(s)})" for n, s in zip(net.outputs, outputs, strict=True))
        io = (f"\nInputs: {ins}, channels first;\noutputs{' (a tuple)' if len(outputs) > 1 else ''}: {outs}.\n"
              f"{paths}\n")
        doc = (f"{a.name}: inputs {', '.join(f'N x {dims(s)}' for s in in_shapes)}; outputs "
               f"{', '.join(f'N x {dims(s)}' for s in outputs)}.")
    else:
        io = f"\nInput: (N, {tup(in_shape)}) channels first; output: (N, {tup(out_shape)}).\n{paths}\n"
        doc = f"{a.name}: input N x {dims(in_shape)}, output N x {dims(out_shape)}."
    parts = [header(a, source, "pytorch", "PyTorch model") + io + '"""\n\nimport torch\nfrom torch import nn\n']
    parts += [helper_sources[h] for h in used]
    for cls in classes:
        parts.append(_class_source(cls.name, cls.params, cls.body, cls.slot_params, cls.forward, cls.ret))
    parts.append(_class_source(main, [], body, {}, forward, ret, doc, args if several else None))
    zeros = [f"torch.zeros({tup((1, *s))})" for s in in_shapes]
    feed = ""
    if several:  # one batch of zeros per input
        feed = "    inputs = (\n" + "".join(f"        {z},\n" for z in zeros) + "    )\n"
        zeros = ["*inputs"]
    run = f"model({', '.join(zeros)})"
    shown = f"{run}.shape" if len(outputs) == 1 else f"[y.shape for y in {run}]"
    parts.append(f'if __name__ == "__main__":\n    model = {main}()\n{feed}    print({shown})\n')
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("pytorch", code, gen.names, main, in_shape, in_shapes)
