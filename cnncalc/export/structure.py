"""The network as nested modules, for code generation.

Dotted layer names (`layer1.0.conv1`) form a tree. A subtree that reads one tensor and produces one
tensor becomes a module of its own: `nn.Sequential` when its children are `0..n-1` and form a chain,
otherwise a helper class with its own `forward`. Any other subtree (several inputs or outputs) is
lifted into its parent with `_`-joined attribute names. `forward_lines` writes the data flow of one
module with plain variable names, `x` for the running tensor.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult

INPUT = "input"


@dataclass
class Item:
    """One child of a module: a layer (leaf) or a sub-module (seq or group)."""

    key: str  # name inside the parent, as in the spec (mangled to an identifier when rendered)
    path: str  # dotted spec path of this subtree
    kind: str  # "leaf" | "seq" | "group"
    names: list[str]  # spec layer names inside, in analysis order
    inputs: list[str]  # tensors read: call arguments, in order
    output: str  # spec name of the tensor produced
    order: int  # analysis index of the first layer
    layer: LayerResult | None = None
    children: list[Item] = field(default_factory=list)
    block: str = ""  # the spec block this subtree is an instance of, if any
    outputs: list[str] = field(default_factory=list)  # the root: every network output (`output` is the first)
    # kind "share": a block use given as `share:`, written as a call of the module of the use it shares
    # (this sibling item)
    target: Item | None = None

    @property
    def sharer(self) -> bool:
        """This item calls another's module again (a `share:`), and has no module of its own."""
        return self.kind == "share" or (self.layer is not None and bool(self.layer.shares))


# Names an identifier made from a spec name must not take: Python's keywords and builtins, the
# names the generated modules use themselves, and every attribute of torch's nn.Module (a layer
# called `forward`, `training` or `to` would replace the module's own).
GENERATED = frozenset(("self", "x", "identity", "inp", "inputs", "torch", "nn", "keras", "layers", "ops", "name",
                       "i", "DATA_FORMAT", "model", "build_model"))
MODULE_ATTRIBUTES = frozenset((
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu",
    "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
    "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers",
    "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad"))
RESERVED = frozenset((*keyword.kwlist, *keyword.softkwlist, *dir(builtins))) | GENERATED | MODULE_ATTRIBUTES


def ident(key: str) -> str:
    """The one way a spec name segment becomes a Python identifier: `conv-1` → conv_1, `0` → layer_0.

    ASCII letters, digits and `_` only: Python reads identifiers after NFKC normalisation, so a
    non-ASCII name could silently become another one (`ｘ` is `x`). A leading `_` (private and
    dunder names) gets a `layer` prefix; a reserved name (see RESERVED) a trailing `_`. Callers make
    the results unique within their scope."""
    s = re.sub(r"[^0-9A-Za-z_]", "_", key)
    if not s or s[0].isdigit():
        s = "layer_" + s
    elif s[0] == "_":
        s = "layer" + s
    if s in RESERVED:
        s += "_"
    return s


@dataclass
class _Trie:
    key: str
    path: str
    layer: LayerResult | None = None
    order: int = 0
    children: dict[str, _Trie] = field(default_factory=dict)


def build(a: Analysis, share_modules: bool = True) -> Item:
    """The root module: a group over the whole network.

    Shared weights: a layer that is another called again must sit beside it (in one module's
    forward) to call it; the subtrees around both are written out inline until they do. With
    `share_modules`, a block use given as `share:` beside the use it shares stays whole: a call of
    that use's module (PyTorch). Keras helper functions create their layers anew at every call, so
    the Keras export inlines shared blocks."""
    root = _Trie("", "")
    for i, layer in enumerate(a.layers):
        node = root
        parts = layer.name.split(".")
        for depth, seg in enumerate(parts):
            if seg not in node.children:
                node.children[seg] = _Trie(seg, ".".join(parts[:depth + 1]), order=i)
            node = node.children[seg]
        node.layer = layer
    uses: dict[str, int] = {}
    for layer in a.layers:
        for src in layer.inputs:
            uses[src] = uses.get(src, 0) + 1
    net = a.network
    for out in net.outputs:  # returned by the network: a use too
        uses[out] = uses.get(out, 0) + 1
    blocks = {inst: b for layer in a.layers for inst, b in layer.spec.blocks}
    units = _units(net.shared_uses) if share_modules else {}
    while True:
        ctx = _Ctx(uses, set(net.outputs), blocks, {layer.name: list(layer.inputs) for layer in a.layers},
                   units, _lifts(a, units))
        items: list[Item] = []
        for child in root.children.values():
            items += ctx.items(child)
        if not ctx.broken:
            break
        units = {u: o for u, o in units.items() if u not in ctx.broken}  # write those out inline after all
    items.sort(key=lambda it: it.order)
    names = [n for it in items for n in it.names]
    return Item("", "", "group", names, net.input_names, net.output, 0, children=items, outputs=list(net.outputs))


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _units(shared_uses: dict[str, str]) -> dict[str, str]:
    """Block uses given as `share:` → the use whose module they call (the first of a chain of shares),
    where the two are siblings."""
    out = {}
    for use, owner in shared_uses.items():
        seen = {use}
        while owner in shared_uses and owner not in seen:
            seen.add(owner)
            owner = shared_uses[owner]
        if _parent(use) == _parent(owner):
            out[use] = owner
    return out


def _lifts(a: Analysis, units: dict[str, str]) -> set[str]:
    """Subtrees to write out inline so that every shared layer sits beside the layer it calls again."""
    lift: set[str] = set()
    for layer in a.layers:
        owner = layer.shares
        if not owner:
            continue
        name = layer.name
        a_parts, b_parts = name.split("."), owner.split(".")
        unit = next((u for u in (".".join(a_parts[:d]) for d in range(1, len(a_parts))) if u in units), None)
        if unit is not None and owner.startswith(units[unit] + "."):
            continue  # inside a shared block use that stays whole
        common = 0
        while common < min(len(a_parts), len(b_parts)) - 1 and a_parts[common] == b_parts[common]:
            common += 1
        for parts in (a_parts, b_parts):
            for depth in range(common + 1, len(parts)):
                lift.add(".".join(parts[:depth]))
    return lift


@dataclass
class _Ctx:
    uses: dict[str, int]
    outputs: set[str]  # the network outputs
    blocks: dict[str, str]
    inputs: dict[str, list[str]]  # layer → the layers it reads
    units: dict[str, str] = field(default_factory=dict)  # shared block uses kept whole → the use they call
    lift: set[str] = field(default_factory=set)  # subtrees written out inline (shared weights)
    made: dict[str, Item] = field(default_factory=dict)  # subtrees that became modules, by path
    broken: set[str] = field(default_factory=set)  # units whose modules did not both come out whole

    def items(self, t: _Trie) -> list[Item]:
        if t.layer is not None and not t.children:
            layer = t.layer
            return [Item(t.key, t.path, "leaf", [layer.name], list(layer.inputs), layer.name, t.order, layer)]
        children: list[Item] = []
        if t.layer is not None:  # a layer named like a prefix of others: keep it beside them
            layer = t.layer
            children.append(Item(t.key, t.path, "leaf", [layer.name], list(layer.inputs), layer.name, t.order,
                                 layer))
        for c in t.children.values():
            children += self.items(c)
        children.sort(key=lambda it: it.order)
        names = [n for it in children for n in it.names]
        inside = set(names)
        ext: list[str] = []
        for it in children:
            for src in it.inputs:
                if src not in inside and src not in ext:
                    ext.append(src)
        produced = {it.output for it in children}
        inner_uses: dict[str, int] = {}
        for n in names:
            for src in self.inputs[n]:
                inner_uses[src] = inner_uses.get(src, 0) + 1
        outputs = [n for n in names if n in self.outputs or self.uses.get(n, 0) > inner_uses.get(n, 0)]
        whole = t.layer is None and len(ext) == 1 and len(outputs) == 1 and outputs[0] in produced
        if t.path in self.units:
            owner = self.made.get(self.units[t.path])
            if whole and owner is not None:
                return [Item(t.key, t.path, "share", names, ext, outputs[0], children[0].order,
                             target=owner)]
            self.broken.add(t.path)
        if whole and t.path not in self.lift:
            kind = "seq" if self._chain(children, ext[0]) else "group"
            item = Item(t.key, t.path, kind, names, ext, outputs[0], children[0].order, children=children,
                        block=self.blocks.get(t.path, ""))
            self.made[t.path] = item
            return [item]
        for it in children:  # several inputs or outputs: lift the children into the parent
            if not (it.kind == "leaf" and it.path == t.path):
                it.key = f"{t.key}_{it.key}"
        return children

    def _chain(self, children: list[Item], src: str) -> bool:
        if [it.key for it in children] != [str(i) for i in range(len(children))]:
            return False
        if any(it.sharer for it in children):
            return False  # a module called again needs a name to be called by
        for i, it in enumerate(children):
            inside = sum(self.inputs[n].count(src) for n in it.names)
            if it.inputs != [src] or (i and self.uses.get(src, 0) != inside):
                return False
            src = it.output
        return True


def plan(group: Item, input_var: str | list[str] = "x") -> tuple[list[str], list[tuple[str, Item, list[str]]], str]:
    """The data flow of `group`'s children: (prelude lines, steps (variable, child, argument variables),
    the variable holding the result; several, comma-separated, for a root with several outputs).

    A tensor lives in `x` when the next child is its only reader; anything read later gets its own name.
    `input_var` is the variable of the input, or of each input (the root of a spec with several).
    """
    children = group.children
    readers: dict[str, list[int]] = {}
    for i, it in enumerate(children):
        for src in it.inputs:
            readers.setdefault(src, []).append(i)
    var: dict[str, str] = {}
    prelude: list[str] = []
    taken = {"x", "self", "inputs", "name"}
    src = group.inputs[0]
    if isinstance(input_var, list):  # several inputs: each keeps its variable
        for name, v in zip(group.inputs, input_var, strict=True):
            var[name] = v
            taken.add(v)
        single = ""
    else:
        single = input_var
        if readers.get(src, []) in ([0], []):
            var[src] = input_var
        else:
            adds = any(getattr(children[i].layer, "type", "") == "add" for i in readers[src])
            var[src] = "identity" if adds else "inp"
            prelude.append(f"{var[src]} = {input_var}")
            taken.add(var[src])
    outputs = group.outputs or [group.output]
    final = set(outputs)
    last = len(children) - 1
    steps = []
    for i, it in enumerate(children):
        args = [single if i == 0 and s == src and single else var[s] for s in it.inputs]
        r = readers.get(it.output, [])
        keep = it.output in final and not (i == last and len(outputs) == 1)  # returned: never overwritten
        if not keep and (r == [i + 1] or (not r and i == last)):
            name = "x"
        else:
            name = ident(it.key)
            while name in taken:
                name += "_"
            taken.add(name)
        var[it.output] = name
        steps.append((name, it, args))
    return prelude, steps, ", ".join(var[o] for o in outputs)


def forward_lines(group: Item, call: dict[str, str], input_var: str | list[str] = "x") -> tuple[list[str], str]:
    """`plan` as lines `var = <call>(args)`; `call` maps each child's key to what to call."""
    prelude, steps, ret = plan(group, input_var)
    return prelude + [f"{v} = {call[it.key]}({', '.join(args)})" for v, it, args in steps], ret
