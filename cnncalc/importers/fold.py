"""Fold repeated sub-graphs into `blocks:` and `repeat:`, as a person writes a spec.

Layer names are module paths (`layer1.0.conv1`). A path prefix whose layers are contiguous, read
one tensor from outside and give one tensor out (their last) is a *candidate*: a module of the
source. Candidates are grouped by shape, smallest first, so that a group's members can use the
blocks found inside them: members with the same local layers, types and connections, which differ
only in parameter values and in layers some of them lack (ResNet's downsample), become one block;
what differs becomes a block parameter, an `if:`, or a `${... if ... else ...}` input. A candidate
with no twin stays inline. At the top level, consecutive uses `P.0`, `P.1`, ... become one entry
with `repeat:`, its per-copy values written with `i` (`${2 if i == 0 else 1}`).

Every step is a pass over the layers or the candidates, with dictionaries for the grouping, so the
cost grows linearly with the graph.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..layers import REQUIRED, lookup
from .model import INPUT, Node

MAX_OPTIONAL = 0.5  # a group whose members share less than this share of their layers is not unified


@dataclass
class Item:
    """One entry of a candidate's body: a layer, or a use of a block (a member of a group)."""

    local: str  # name relative to the body's scope
    kind: str  # layer type, or "block:<name>"
    values: dict[str, Any]  # layer parameters (all, defaults filled in) or block parameter values
    inputs: list[str]  # local references, or INPUT
    node: Node | None = None
    cand: Cand | None = None


@dataclass
class Cand:
    prefix: str
    first: int
    last: int
    ext: str  # the node name (or INPUT) it reads from outside
    depth: int
    children: list[Cand] = field(default_factory=list)
    parent: Cand | None = None
    items: list[Item] = field(default_factory=list)
    block: Block | None = None
    values: dict[str, Any] = field(default_factory=dict)  # its values of the block's params
    height: int = 1


@dataclass
class Block:
    name: str
    params: dict[str, Any]  # name → default
    entries: list[dict[str, Any]]
    notes: list[str]  # one per entry ("" for none)


@dataclass
class Folded:
    blocks: list[Block]
    entries: list[dict[str, Any]]
    notes: list[str]


def fold(nodes: list[Node], classes: dict[str, str] | None = None, enabled: bool = True,
         pinned: set[str] | None = None) -> Folded:
    """The spec body for `nodes` (in topological order, names unique). `pinned`: layers named from the
    top level (the network's outputs); they, shared layers and the layers they share stay at the top
    level, outside any block, so that `outputs:` and `share:` can name them."""
    classes = classes or {}
    pinned = set(pinned or ())
    for n in nodes:
        if n.shares:
            pinned.update((n.name, n.shares))
    cands = _candidates(nodes) if enabled else []
    if pinned:
        at = sorted(k for k, n in enumerate(nodes) if n.name in pinned)
        cands = _without(cands, at)
    folder = _Folder(nodes, classes)
    groups: dict[tuple[Any, ...], list[Cand]] = {}
    for c in cands:
        first, last = nodes[c.first], nodes[c.last]
        cut = len(c.prefix) + 1
        key = (classes.get(c.prefix, ""), first.name[cut:], first.type, last.name[cut:], last.type)
        groups.setdefault(key, []).append(c)
    # a group is folded after the groups inside its members (lower), so that its members use their blocks
    for members in sorted(groups.values(), key=lambda m: max(c.height for c in m)):
        if len(members) < 2:
            continue
        for c in members:
            c.items = folder.body(c.prefix, c.first, c.last, c.children, c.ext)
        if all(_chain(c.items) for c in members):
            continue  # a list of one block's uses (ResNet's layer1): written with `repeat:` where it is used
        folder.make_blocks(members)
    top = [c for c in cands if c.parent is None]
    items = folder.body("", 0, len(nodes) - 1, top, INPUT)
    entries, notes = folder.emit_top(items)
    blocks = folder.blocks
    while _inline_one(blocks, entries):
        pass
    return Folded(blocks, entries, notes)


def _without(cands: list[Cand], at: list[int]) -> list[Cand]:
    """The candidates that hold none of the node positions `at` (sorted), with their tree rebuilt."""
    import bisect

    def holds(c: Cand) -> bool:
        k = bisect.bisect_left(at, c.first)
        return k < len(at) and at[k] <= c.last

    keep = [c for c in cands if not holds(c)]
    kept = {id(c) for c in keep}
    for c in keep:
        c.children = [k for k in c.children if id(k) in kept]
        p = c.parent
        while p is not None and id(p) not in kept:
            p = p.parent
        c.parent = p
    for c in keep:
        if c.parent is not None and c not in c.parent.children:
            c.parent.children.append(c)
            c.parent.children.sort(key=lambda k: k.first)
    return keep


def _inline_one(blocks: list[Block], top: list[dict[str, Any]]) -> bool:
    """Write out one block that is used once, inside another block (ResNet's downsample pair), in that
    block: a block of its own would only add a name. False if there is none."""
    uses: dict[str, list[tuple[Block | None, int]]] = {}
    for b in blocks:
        for k, e in enumerate(b.entries):
            if "block" in e:
                uses.setdefault(e["block"], []).append((b, k))
    for k, e in enumerate(top):
        if "block" in e:
            uses.setdefault(e["block"], []).append((None, k))
    for inner in blocks:
        where = uses.get(inner.name, [])
        if len(where) != 1 or where[0][0] is None or any("if" in e for e in inner.entries):
            continue
        outer, k = where[0]
        assert outer is not None
        expanded = _expand(inner, outer.entries[k], outer.entries[k - 1]["name"] if k else INPUT)
        if expanded is None:
            continue
        use = outer.entries[k]["name"]
        out_name = f"{use}.{inner.entries[-1]['name']}"
        rest = [_rename_ref(e, use, out_name) for e in outer.entries[k + 1:]]
        outer.entries[k:] = expanded + rest
        outer.notes[k:k + 1] = inner.notes
        blocks.remove(inner)
        return True
    return False


def _expand(inner: Block, use: dict[str, Any], before: str) -> list[dict[str, Any]] | None:
    """The entries of `inner` as written in place of `use`, or None where a value cannot be substituted."""
    name = use["name"]
    source = use.get("inputs", [before])[0]
    env: dict[str, str] = {}
    for p, default in inner.params.items():
        v = use.get(p, default)
        if v is None or isinstance(v, bool) or not isinstance(v, int | str):
            return None
        env[p] = str(v) if isinstance(v, int) else (v[1:] if v.startswith("$") and not v.startswith("${")
                                                      else f"({v[2:-1]})")
    out = []
    for j, e in enumerate(inner.entries):
        new: dict[str, Any] = {}
        for key, v in e.items():
            if key == "name":
                new[key] = f"{name}.{v}"
            elif key == "inputs":
                new[key] = [source if x == INPUT else f"{name}.{x}" for x in v]
            elif isinstance(v, str) and v.startswith("${") and " * " in v:
                p, _, times = v[2:-1].partition(" * ")
                if p not in env:
                    return None
                new[key] = f"${{{env[p]} * {times}}}"
            elif isinstance(v, str) and v.startswith("$") and not v.startswith("${"):
                if v[1:] not in env:
                    return None
                value = env[v[1:]]
                new[key] = (int(value) if value.isdigit() else "$" + value if value.isidentifier()
                            else "${" + value[1:-1] + "}")
            else:
                new[key] = v
        if j == 0 and "inputs" not in new and "inputs" in use:
            new = {**{k: new[k] for k in list(new)[:2]}, "inputs": [source], **{k: new[k] for k in list(new)[2:]}}
        if "if" in use:
            new["if"] = use["if"]
        out.append(new)
    return out


def _rename_ref(e: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`e` with its references to the layer or block use `old` made to `new`."""
    if "inputs" not in e:
        return e
    refs = [new if x == old else x.replace(_quote(old), _quote(new)) if isinstance(x, str) and x.startswith("${")
            else x for x in e["inputs"]]
    return {**e, "inputs": refs}


def _chain(items: list[Item]) -> bool:
    """Uses of one block named 0, 1, 2, ..., each reading the one before."""
    return all(it.cand is not None and it.kind == items[0].kind and it.local == str(k)
               and it.inputs == [str(k - 1) if k else INPUT] for k, it in enumerate(items))


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _candidates(nodes: list[Node]) -> list[Cand]:
    index = {n.name: i for i, n in enumerate(nodes)}
    span: dict[str, list[int]] = {}
    for i, n in enumerate(nodes):
        for p in _prefixes(n.name):
            s = span.get(p)
            if s is None:
                span[p] = [i, i, 1]
            else:
                s[1] = i
                s[2] += 1
    bad: set[str] = {p for p in span if p in index}
    ext: dict[str, set[str]] = {}
    for n in nodes:
        mine = _prefixes(n.name)
        for src in n.inputs:
            theirs = set(_prefixes(src)) if src in index else set()
            for p in mine:
                if p not in theirs:
                    ext.setdefault(p, set()).add(src)
            if src in index:
                at = index[src]
                own = set(mine)
                for p in theirs:
                    if p not in own and span[p][1] != at:
                        bad.add(p)  # a layer inside p other than its last is read from outside
    out: dict[str, Cand] = {}
    for p, (first, last, count) in span.items():
        if p in bad or count < 2 or count != last - first + 1 or len(ext.get(p, ())) != 1:
            continue
        out[p] = Cand(p, first, last, next(iter(ext[p])), p.count(".") + 1)
    for p in sorted(out, key=lambda p: -out[p].depth):  # deepest first: heights are known when used
        c = out[p]
        for q in reversed(_prefixes(p)):
            if q in out:
                c.parent = out[q]
                out[q].children.append(c)
                break
    for c in sorted(out.values(), key=lambda c: -c.depth):
        if c.parent is not None:
            c.parent.height = max(c.parent.height, c.height + 1)
    for c in out.values():
        c.children.sort(key=lambda k: k.first)
    return list(out.values())


def _all_values(node: Node) -> dict[str, Any]:
    """Every parameter of the node's type, with the defaults the node leaves out."""
    cls = lookup(node.type)
    values: dict[str, Any] = {}
    for pname, p in (cls.params.items() if cls is not None else ()):  # in the type's order
        if pname in node.params:
            values[pname] = node.params[pname]
        elif p.default is not REQUIRED:
            values[pname] = p.default
    return {k: _freeze(v) for k, v in values.items()}


def _freeze(v: Any) -> Any:
    return tuple(_freeze(x) for x in v) if isinstance(v, list | tuple) else v


def _defaults(kind: str) -> dict[str, Any]:
    cls = lookup(kind)
    if cls is None:
        return {}
    return {k: _freeze(p.default) for k, p in cls.params.items() if p.default is not REQUIRED}


def _ident(text: str) -> str:
    s = re.sub(r"[^0-9A-Za-z_]", "_", text).strip("_") or "p"
    return s if not s[0].isdigit() else "p" + s


class _Folder:
    def __init__(self, nodes: list[Node], classes: dict[str, str]):
        self.nodes = nodes
        self.classes = classes
        self.blocks: list[Block] = []
        self.block_names: set[str] = set()
        self.type_defaults: dict[str, Any] = {}  # block parameter → the default of the layer key it sets

    # ---- a candidate's body ---------------------------------------------------------------
    def body(self, prefix: str, first: int, last: int, children: list[Cand], ext: str) -> list[Item]:
        """The items of the range [first, last] in the scope `prefix`: child candidates that are block
        members become uses, the others are inlined."""
        cut = len(prefix) + 1 if prefix else 0
        ref: dict[str, str] = {ext: INPUT} if ext != INPUT else {}
        items: list[Item] = []

        def local(name: str) -> str:
            return ref.get(name, name[cut:] if name != INPUT else INPUT)

        def add_range(lo: int, hi: int, kids: list[Cand]) -> None:
            i = lo
            k = 0
            while i <= hi:
                if k < len(kids) and kids[k].first == i:
                    kid = kids[k]
                    k += 1
                    if kid.block is not None:
                        name = kid.prefix[cut:]
                        items.append(Item(name, "block:" + kid.block.name, kid.values, [local(kid.ext)], cand=kid))
                        ref[self.nodes[kid.last].name] = name
                    else:
                        add_range(kid.first, kid.last, kid.children)
                    i = kid.last + 1
                    continue
                n = self.nodes[i]
                items.append(Item(n.name[cut:], n.type, _all_values(n), [local(s) for s in n.inputs], node=n))
                i += 1

        add_range(first, last, children)
        return items

    # ---- grouping -------------------------------------------------------------------------
    def make_blocks(self, members: list[Cand]) -> None:
        if self._unify(members):
            return
        exact: dict[tuple[Any, ...], list[Cand]] = {}
        for c in members:
            exact.setdefault(tuple((it.local, it.kind, tuple(it.inputs)) for it in c.items), []).append(c)
        for group in exact.values():
            if len(group) >= 2:
                self._unify(group)

    def _unify(self, members: list[Cand]) -> bool:
        """Make one block of `members` if their differences can be written; False if not."""
        order: list[str] = []
        kinds: dict[str, str] = {}
        for c in sorted(members, key=lambda c: -len(c.items)):
            prev = -1
            for it in c.items:
                if it.local in kinds:
                    if kinds[it.local] != it.kind:
                        return False
                    prev = order.index(it.local) if it.local in order else prev
                    continue
                kinds[it.local] = it.kind
                order.insert(prev + 1, it.local)
                prev += 1
        pos = {name: k for k, name in enumerate(order)}
        rows = [{it.local: it for it in c.items} for c in members]
        for row in rows:  # the merged order must keep every member's items after their inputs
            for it in row.values():
                if any(s != INPUT and (s not in pos or pos[s] >= pos[it.local]) for s in it.inputs):
                    return False
        shared = sum(all(name in row for row in rows) for name in order)
        if shared < MAX_OPTIONAL * len(order):
            return False
        params: dict[str, list[Any]] = {}  # block param → value per member
        flags: dict[tuple[bool, ...], str] = {}
        entries: list[dict[str, Any]] = []
        notes: list[str] = []
        prev_name: str | None = INPUT
        prev_always = True
        for name in order:
            present = tuple(name in row for row in rows)
            its = [row.get(name) for row in rows]
            kind = kinds[name]
            entry: dict[str, Any] = {}
            if kind.startswith("block:"):
                entry["block"] = kind[6:]
            else:
                entry["type"] = kind
            entry["name"] = name
            # inputs
            arity = {len(it.inputs) for it in its if it is not None}
            if len(arity) != 1:
                return False
            refs: list[Any] = []
            for k in range(arity.pop()):
                vals = [it.inputs[k] if it is not None else None for it in its]
                ref = self._choice(vals, present, flags, params)
                if ref is None:
                    return False
                refs.append(ref)
            if not (len(refs) == 1 and refs[0] == prev_name and prev_always):
                entry["inputs"] = refs
            # values
            defaults = _defaults(kind) if "type" in entry else {}
            keys = list(dict.fromkeys(k for it in its if it is not None for k in it.values))
            for key in keys:
                vals = [it.values.get(key, defaults.get(key)) if it is not None else None for it in its]
                known = {_freeze(v) for v, p in zip(vals, present, strict=True) if p}
                if len(known) == 1:
                    value = known.pop()
                    if "type" not in entry or defaults.get(key, REQUIRED) != value:
                        entry[key] = _thaw(value)
                    continue
                entry[key] = self._param(key, name, kind, vals, params)
            if not all(present):
                entry["if"] = "$" + self._flag(name, present, flags, params)
            entries.append(entry)
            notes.append(next((it.node.note for it in its if it is not None and it.node is not None and it.node.note),
                              ""))
            prev_name, prev_always = name, all(present)
        block = Block(self._block_name(members[0]), {}, entries, notes)
        for pname, vals in params.items():
            # a flag defaults to its usual value, a size to the layer type's default (stride 1) if that is
            # its usual value, and so does a value of a layer some uses lack (they need not say it); other
            # sizes are required, so that every use says them
            common = Counter(_freeze(v) for v in vals if v is not None).most_common(1)
            value = common[0][0] if common else None
            usual = isinstance(value, bool) or value == self.type_defaults.get(pname, REQUIRED) \
                or value is not None and _absent_only(pname, vals, entries, rows)
            block.params[pname] = _thaw(value) if usual else None
        self.blocks.append(block)
        for k, c in enumerate(members):
            c.block = block
            c.values = {p: _thaw(_freeze(v[k])) for p, v in params.items() if v[k] is not None}
        return True

    def _choice(self, vals: list[Any], present: tuple[bool, ...], flags: dict[tuple[bool, ...], str],
                params: dict[str, list[Any]]) -> str | None:
        """One input reference of a template item: a name, or `${'a' if flag else 'b'}` when it follows
        the presence of an optional layer."""
        known = {v for v, p in zip(vals, present, strict=True) if p}
        if len(known) == 1:
            return known.pop()
        if len(known) != 2:
            return None
        for pattern, flag in flags.items():
            when = {v for v, p, f in zip(vals, present, pattern, strict=True) if p and f}
            other = {v for v, p, f in zip(vals, present, pattern, strict=True) if p and not f}
            if len(when) == 1 and len(other) == 1:
                return f"${{{_quote(when.pop())} if {flag} else {_quote(other.pop())}}}"
        return None

    def _flag(self, name: str, present: tuple[bool, ...], flags: dict[tuple[bool, ...], str],
              params: dict[str, list[Any]]) -> str:
        if present not in flags:
            flag = self._free(_ident(name.split(".")[0]), params)
            flags[present] = flag
            params[flag] = list(present)
        return flags[present]

    def _param(self, key: str, name: str, kind: str, vals: list[Any], params: dict[str, list[Any]]) -> str:
        """`$p` for a block parameter p holding these values (an existing one where they agree),
        or `${p * k}` when they are k times an existing integer parameter."""
        for pname, have in params.items():
            if all(v is None or (h is not None and _freeze(h) == _freeze(v)) for v, h in zip(vals, have, strict=True)):
                return "$" + pname
        ints = [v for v in vals if v is not None]
        if all(type(v) is int for v in ints):
            for pname, have in params.items():
                pairs = [(v, h) for v, h in zip(vals, have, strict=True) if v is not None]
                if all(type(h) is int and h > 0 for _, h in pairs):
                    ratio = {v // h if v % h == 0 else None for v, h in pairs}
                    if len(ratio) == 1 and (r := ratio.pop()) is not None and r > 1:
                        return f"${{{pname} * {r}}}"
        pname = self._free(_ident(key), params) if key not in params else self._free(_ident(f"{name}_{key}"), params)
        params[pname] = list(vals)
        self.type_defaults[pname] = _defaults(kind).get(key, REQUIRED)
        return "$" + pname

    @staticmethod
    def _free(base: str, taken: dict[str, Any]) -> str:
        out, n = base, 1
        while out in taken or out == "i":
            n += 1
            out = f"{base}{n}"
        return out

    def _block_name(self, c: Cand) -> str:
        cls = self.classes.get(c.prefix, "")
        if cls:
            base = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls).lower()
        else:
            segs = [s for s in c.prefix.split(".") if not s.isdigit()]
            base = re.sub(r"\d.*$", "", segs[-1] if segs else "").strip("_-") or "block"
            if not base.endswith("block"):
                base += "_block"
        base = _ident(base)
        out, n = base, 1
        while out in self.block_names:
            n += 1
            out = f"{base}_{n}"
        self.block_names.add(out)
        return out

    # ---- the top level --------------------------------------------------------------------
    def emit_top(self, items: list[Item]) -> tuple[list[dict[str, Any]], list[str]]:
        entries: list[dict[str, Any]] = []
        notes: list[str] = []
        prev = INPUT
        k = 0
        while k < len(items):
            it = items[k]
            if it.cand is None:
                assert it.node is not None
                entry: dict[str, Any] = {"type": it.kind, "name": it.local}
                if it.node.shares:
                    entry = {"share": it.node.shares, "name": it.local}
                defaults = _defaults(it.kind)
                for key, value in it.node.params.items():
                    if not it.node.shares and defaults.get(key, REQUIRED) != _freeze(value):
                        entry[key] = value
                if it.inputs != [prev]:
                    entry["inputs"] = it.inputs
                entries.append(entry)
                notes.append(it.node.note)
                prev = it.local
                k += 1
                continue
            run = self._run(items, k)
            entries.extend(self._uses(items[k:k + run], prev))
            notes.extend([""] * (len(entries) - len(notes)))
            prev = items[k + run - 1].local
            k += run
        return entries, notes

    @staticmethod
    def _index(item: Item) -> tuple[str, int] | None:
        head, _, tail = item.local.rpartition(".")
        return (head, int(tail)) if head and tail.isdigit() and str(int(tail)) == tail else None

    def _run(self, items: list[Item], k: int) -> int:
        """How many uses from items[k] on form one chain P.s, P.s+1, ... of one block."""
        first = self._index(items[k])
        if first is None:
            return 1
        n = 1
        while k + n < len(items):
            it = items[k + n]
            idx = self._index(it)
            if (it.cand is None or it.kind != items[k].kind or idx != (first[0], first[1] + n)
                    or it.inputs != [items[k + n - 1].local]):
                break
            n += 1
        return n

    def _uses(self, run: list[Item], prev: str) -> list[dict[str, Any]]:
        """The entries for a chain of uses: one `repeat:` entry per stretch whose values can be
        written with `i`."""
        out: list[dict[str, Any]] = []
        k = 0
        while k < len(run):
            n = len(run) - k
            while n > 1 and self._pattern(run[k:k + n]) is None:
                n -= 1
            values = self._pattern(run[k:k + n]) if n > 1 else dict(run[k].values)
            cand = run[k].cand
            assert values is not None and cand is not None and cand.block is not None
            block = cand.block
            entry: dict[str, Any] = {"block": block.name}
            if n == 1:
                entry["name"] = run[k].local
            else:
                head, start = self._index(run[k]) or ("", 0)
                entry["name"] = head if start == 0 else f"{head}.${{i + {start}}}"
                entry["repeat"] = n
            if run[k].inputs != [prev]:
                entry["inputs"] = run[k].inputs
            for pname, v in values.items():
                if isinstance(v, str) and v.startswith("${") or _freeze(v) != _freeze(block.params.get(pname)):
                    entry[pname] = v
            out.append(entry)
            prev = run[k + n - 1].local
            k += n
        return out

    @staticmethod
    def _pattern(uses: list[Item]) -> dict[str, Any] | None:
        """Each block parameter over the copies: one value, or `${a if i == 0 else b}`; None if another
        pattern is needed."""
        out: dict[str, Any] = {}
        keys = dict.fromkeys(k for u in uses for k in u.values)
        for key in keys:
            vals = [_freeze(u.values.get(key)) for u in uses]
            if len(set(vals)) == 1:
                out[key] = _thaw(vals[0])
            elif len(set(vals[1:])) == 1:
                a, b = vals[0], vals[1]
                if a is True and b is False:
                    out[key] = "${i == 0}"
                elif a is False and b is True:
                    out[key] = "${i != 0}"
                elif isinstance(a, int | float | str) and isinstance(b, int | float | str):
                    out[key] = f"${{{a!r} if i == 0 else {b!r}}}"
                else:
                    return None
            else:
                return None
        return out


def _absent_only(pname: str, vals: list[Any], entries: list[dict[str, Any]], rows: list[dict[str, Item]]) -> bool:
    """Whether every member without a value of block parameter `pname` lacks all the layers that use it."""
    word = re.compile(rf"\$(?:{re.escape(pname)}\b|{{.*\b{re.escape(pname)}\b)")
    users = [e["name"] for e in entries if any(isinstance(v, str) and word.match(v) for key, v in e.items()
                                               if key not in ("name", "inputs", "if"))]
    return any(v is None for v in vals) and all(all(u not in row for u in users)
                                                for v, row in zip(vals, rows, strict=True) if v is None)


def _quote(name: str) -> str:
    """A layer name as a string in an expression (layer names hold no quote or backslash)."""
    return f'"{name}"'


def _thaw(v: Any) -> Any:
    return [_thaw(x) for x in v] if isinstance(v, tuple) else v
