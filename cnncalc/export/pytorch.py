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

    def body(self, it: Item, prefix: str) -> tuple[list[tuple[str, Call]], list[str], str]:
        attrs: dict[str, str] = {}
        used: set[str] = set()
        for c in it.children:
            name = ident(c.key)
            while name in used:
                name += "_"
            used.add(name)
            attrs[c.key] = name
        body = [(attrs[c.key], self.module(c, prefix + attrs[c.key])) for c in it.children]
        lines, ret = forward_lines(it, {k: f"self.{v}" for k, v in attrs.items()})
        return body, lines, ret


def _class_source(name: str, params: list[str], body: list[tuple[str, Call]], slot_params: dict[int, str],
                  forward: list[str], ret: str, doc: str = "") -> str:
    sig = "".join(f", {p}" for p in params)
    out = [f"class {name}(nn.Module):"]
    if doc:
        out.append(f'    """{doc_text(doc)}"""\n')
    init = f"    def __init__(self{sig}):"
    if len(init) > 100:
        init = "    def __init__(\n        self,\n" + "".join(f"        {p},\n" for p in params) + "    ):"
    out.append(init)
    out.append("        super().__init__()")
    for attr, call in body:
        lead = f"        self.{attr} = "
        out.append(lead + render(call, slot_params, 8, len(lead) - 8))
    out.append("")
    out.append("    def forward(self, x: torch.Tensor) -> torch.Tensor:")
    out += [f"        {line}" for line in forward]
    out.append(f"        return {ret}")
    return "\n".join(out) + "\n"


def generate(a: Analysis, source: str) -> Exported:
    gen = _Gen(a)
    root = build(a)
    body, forward, ret = gen.body(root, "")
    gen.errors.raise_if_any()
    helper_sources = helpers()
    classes = gen.classes.finalize(set(helper_sources) | {"Module", "Tensor"} | RESERVED)
    main = camel(a.name.split("(")[0])
    if main in {c.name for c in classes} | set(helper_sources) | RESERVED:
        main += "Net"
    called = {f for _, c in body for f in funcs(c)} | {f for cls in classes for _, c in cls.body for f in funcs(c)}
    used = [h for h in helper_sources if h in called]
    in_shape = a.network.input.dims("channels_first")
    out_shape = a.layers[-1].tensor.dims("channels_first") if a.layers else in_shape
    dims = lambda s: " x ".join(map(str, s))  # noqa: E731
    same = all(k == v for k, v in gen.names.items())
    paths = ("Module paths are the spec's layer names." if same else
             "Module paths follow the spec's layer names where Python allows (cnncalc verify shows each).")
    parts = [header(a, source, "pytorch", "PyTorch model")
             + f"\nInput: (N, {', '.join(map(str, in_shape))}) channels first; output: (N, "
             f"{', '.join(map(str, out_shape))}).\n{paths}\n"
             '"""\n\nimport torch\nfrom torch import nn\n']
    parts += [helper_sources[h] for h in used]
    for cls in classes:
        parts.append(_class_source(cls.name, cls.params, cls.body, cls.slot_params, cls.forward, cls.ret))
    doc = f"{a.name}: input N x {dims(in_shape)}, output N x {dims(out_shape)}."
    parts.append(_class_source(main, [], body, {}, forward, ret, doc))
    zeros = ", ".join(map(str, (1, *in_shape)))
    parts.append(f'if __name__ == "__main__":\n    model = {main}()\n'
                 f"    print(model(torch.zeros({zeros})).shape)\n")
    code = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    return Exported("pytorch", code, gen.names, main, in_shape)
