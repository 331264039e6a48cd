"""`cnncalc diff A B`: what changed between two analysed networks, layer by layer and in total.

Layers are matched by name first; the layers left over are matched by their position in the graph:
a layer of B whose inputs are the counterparts of an unmatched layer of A's inputs (and of the same
type, or the only candidate on both sides) is that layer renamed; the same walks backwards from
matched consumers. What remains is added (only in B) or removed (only in A). A matched pair is
`changed` when its type, output shape, params, MACs, FLOPs or receptive field differ, when it reads
other layers (its inputs, mapped through the matching, differ: a skip connection rewired) or when it
starts or stops sharing another layer's weights (or shares another one's).

The network's inputs are matched by name, then by the matched layers that read them, and its outputs
through their layers; each is added, removed or changed (shape, position, or another layer).

Every number is the one `cnncalc show --format json` gives for A and for B (under one convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import conventions
from .errors import Diagnostic, Loc, visible
from .render import json_doc, shape_text

if TYPE_CHECKING:
    from .analysis import Analysis
    from .memory import MemoryConfig

INPUT = "input"
TOTALS = ("params", "trainable_params", "non_trainable_params", "macs", "flops", "activation_elements")
FIELDS = ("type", "output_shape", "params", "trainable_params", "non_trainable_params", "macs", "flops",
          "receptive_field", "inputs", "shares")
LINKS = ("inputs", "shares")  # names of layers (or network inputs): compared through the matching
STATUSES = ("changed", "added", "removed", "renamed", "unchanged")


def _layers(a: Analysis, convention: str | None, memory: MemoryConfig | None, layout: str) -> list[dict[str, Any]]:
    """`show --format json --convention NAME` layers of `a` (MACs and FLOPs re-weighed by the convention),
    output shapes in `layout` (A's, so that two specs written in different layouts compare)."""
    doc = json_doc(a, memory)
    conv = conventions.get(convention)
    for layer, d in zip(a.layers, doc["layers"], strict=True):
        d["macs"], d["flops"] = conv.count(layer.cost)
        d["output_shape"] = list(layer.tensor.dims(layout))
        d["receptive_field"] = "global" if d["receptive_field_kind"] == "global" else d["receptive_field"]
        d.setdefault("shares", None)
    return doc["layers"]


def match(la: list[dict[str, Any]], lb: list[dict[str, Any]]) -> tuple[dict[int, int], set[int]]:
    """Pairs (index in A → index in B), by name, then by position in the graph (the same matched inputs,
    or the same place among a matched layer's inputs, and the same type), finally by aligning the
    types of the layers still unmatched between two matched ones; and the B indices matched by position."""
    ia = {d["name"]: i for i, d in enumerate(la)}
    ib = {d["name"]: i for i, d in enumerate(lb)}
    a2b: dict[int, int] = {ia[n]: ib[n] for n in ia if n in ib}
    b2a = {j: i for i, j in a2b.items()}
    by_position: set[int] = set()

    def inputs_a(i: int) -> list[Any]:
        return [INPUT if s == INPUT else a2b.get(ia[s], ("a", ia[s])) if s in ia else s for s in la[i]["inputs"]]

    def inputs_b(j: int) -> list[Any]:
        return [INPUT if s == INPUT else ib.get(s, s) for s in lb[j]["inputs"]]

    def pair(i: int, j: int) -> None:
        a2b[i] = j
        b2a[j] = i
        by_position.add(j)

    consumers_a: dict[Any, list[int]] = {}
    consumers_b: dict[Any, list[int]] = {}
    for i, d in enumerate(la):
        for s in d["inputs"]:
            consumers_a.setdefault(ia.get(s, INPUT), []).append(i)
    for j, d in enumerate(lb):
        for s in d["inputs"]:
            consumers_b.setdefault(ib.get(s, INPUT), []).append(j)
    changed = True
    while changed:
        changed = False
        # forwards: same (matched) inputs
        free_a: dict[tuple[str, ...], list[int]] = {}
        free_b: dict[tuple[str, ...], list[int]] = {}
        for i in range(len(la)):
            if i not in a2b:
                free_a.setdefault(tuple(map(str, inputs_a(i))), []).append(i)
        for j in range(len(lb)):
            if j not in b2a:
                free_b.setdefault(tuple(map(str, inputs_b(j))), []).append(j)
        for key, js in free_b.items():
            for j in js:
                if j in b2a:
                    continue
                cands = [i for i in free_a.get(key, []) if i not in a2b]
                rivals = [k for k in js if k != j and k not in b2a]
                same = [i for i in cands if la[i]["type"] == lb[j]["type"]]
                if len(same) == 1 and not [k for k in rivals if lb[k]["type"] == lb[j]["type"]]:
                    pair(same[0], j)
                    changed = True
        # backwards: the unmatched input, at the same place, of matched consumers
        for j in range(len(lb) - 1, -1, -1):
            if j in b2a:
                continue
            for c in consumers_b.get(j, []):
                if c not in b2a:
                    continue
                pos = [k for k, s in enumerate(lb[c]["inputs"]) if ib.get(s) == j]
                ins_a = la[b2a[c]]["inputs"]
                for k in pos:
                    if k < len(ins_a) and ins_a[k] in ia:
                        i = ia[ins_a[k]]
                        if i not in a2b and la[i]["type"] == lb[j]["type"]:
                            pair(i, j)
                            changed = True
                            break
                if j in b2a:
                    break
        if not changed:
            # last: between consecutive matched layers (in graph order on both sides), align the types of
            # the layers still unmatched
            import difflib

            anchors = [(-1, -1)]
            for j in range(len(lb)):
                if j in b2a and b2a[j] > anchors[-1][0]:
                    anchors.append((b2a[j], j))
            anchors.append((len(la), len(lb)))
            for (pa, pb), (na, nb) in zip(anchors, anchors[1:], strict=False):
                run_a = [i for i in range(pa + 1, na) if i not in a2b]
                run_b = [j for j in range(pb + 1, nb) if j not in b2a]
                if not run_a or not run_b:
                    continue
                sm = difflib.SequenceMatcher(None, [la[i]["type"] for i in run_a], [lb[j]["type"] for j in run_b],
                                             autojunk=False)
                for block in sm.get_matching_blocks():
                    for k in range(block.size):
                        pair(run_a[block.a + k], run_b[block.b + k])
                        changed = True
    return a2b, by_position


def _value(d: dict[str, Any] | None, key: str) -> Any:
    return None if d is None else d[key]


def _entry(da: dict[str, Any] | None, db: dict[str, Any] | None, by_position: bool,
           names: dict[str, str]) -> dict[str, Any]:
    """One layer pair; `names` maps A's layer and input names to their counterparts in B."""
    e: dict[str, Any] = {"a": _value(da, "name"), "b": _value(db, "name")}
    for key in FIELDS:
        e[key] = [_value(da, key), _value(db, key)]
    if da is None:
        e["status"], e["changed"] = "added", list(FIELDS)
    elif db is None:
        e["status"], e["changed"] = "removed", list(FIELDS)
    else:
        def mapped(v: Any) -> Any:
            if v is None:
                return None
            if isinstance(v, list):
                return [mapped(x) for x in v]
            return names.get(v, ("no counterpart", v))  # equal to no name of B

        e["changed"] = [k for k in FIELDS if (mapped(e[k][0]) if k in LINKS else e[k][0]) != e[k][1]]
        e["status"] = "changed" if e["changed"] else "renamed" if da["name"] != db["name"] else "unchanged"
    e["matched_by"] = None if da is None or db is None else "position" if by_position else "name"
    return e


def relative(a: int, b: int) -> float | None:
    """(b − a) / a; None when a is 0."""
    return None if a == 0 else (b - a) / a


def relative_text(a: int, b: int) -> str:
    r = relative(a, b)
    if r is None:
        return "0.00%" if b == 0 else "new"
    return f"{r * 100:+.2f}%"


def diff(a: Analysis, b: Analysis, convention: str | None = None, memory: MemoryConfig | None = None) -> dict[str, Any]:
    """The `cnncalc diff --format json` document: every layer pair (unchanged ones too), every input and
    output pair, the totals, a summary."""
    la, lb = _layers(a, convention, memory, a.layout), _layers(b, convention, memory, a.layout)
    a2b, by_position = match(la, lb)
    b2a = {j: i for i, j in a2b.items()}
    inputs, input_names = _inputs(a, b, la, lb, a2b)
    names = {la[i]["name"]: lb[j]["name"] for i, j in a2b.items()} | input_names
    keyed: list[tuple[tuple[float, int], dict[str, Any]]] = []
    for j, db in enumerate(lb):
        i = b2a.get(j)
        keyed.append(((j, 0), _entry(la[i] if i is not None else None, db, j in by_position, names)))
    last_b = -1
    for i, da in enumerate(la):
        if i in a2b:
            last_b = a2b[i]
        else:
            keyed.append(((last_b + 0.5, i), _entry(da, None, False, names)))
    layers = [e for _, e in sorted(keyed, key=lambda t: t[0])]
    ta = _totals(a, convention, la)
    tb = _totals(b, convention, lb)
    totals = {k: {"a": ta[k], "b": tb[k], "change": tb[k] - ta[k], "relative": relative(ta[k], tb[k]),
                  "relative_text": relative_text(ta[k], tb[k])} for k in TOTALS}
    summary = {s: sum(1 for e in layers if e["status"] == s) for s in STATUSES}
    return {"a": _side(a), "b": _side(b), "convention": conventions.get(convention).name,
            "layout": a.layout, "summary": summary, "totals": totals, "inputs": inputs,
            "outputs": _outputs(a, b, la, lb, a2b), "layers": layers}


def _io_entry(a: tuple[int, str, list[int]] | None, b: tuple[int, str, list[int]] | None, how: str | None,
              other_layer: bool = False) -> dict[str, Any]:
    """One pair of network inputs or outputs, each (position, name, shape in A's layout) or None."""
    e: dict[str, Any] = {"a": a[1] if a else None, "b": b[1] if b else None,
                         "shape": [a[2] if a else None, b[2] if b else None],
                         "index": [a[0] if a else None, b[0] if b else None]}
    if a is None or b is None:
        e["status"], e["changed"] = ("added" if a is None else "removed"), ["shape", "index"]
    else:
        e["changed"] = (["layer"] if other_layer else []) + [k for k in ("shape", "index") if e[k][0] != e[k][1]]
        e["status"] = "changed" if e["changed"] else "renamed" if a[1] != b[1] else "unchanged"
    e["matched_by"] = how
    return e


def _inputs(a: Analysis, b: Analysis, la: list[dict[str, Any]], lb: list[dict[str, Any]],
            a2b: dict[int, int]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The pairs of network inputs (in B's order, a removed one after its predecessor) and A's input names
    mapped to B's. Matched by name, then by the place where a matched layer pair reads them, and the only
    input left on each side is the other one renamed."""
    ins_a = [(k, n, list(t.dims(a.layout))) for k, (n, t, _) in enumerate(a.network.inputs)]
    ins_b = [(k, n, list(t.dims(a.layout))) for k, (n, t, _) in enumerate(b.network.inputs)]
    names_b = {n for _, n, _ in ins_b}
    pairs = {n: n for _, n, _ in ins_a if n in names_b}
    how = dict.fromkeys(pairs, "name")
    free_a = {n for _, n, _ in ins_a if n not in pairs}
    free_b = names_b - set(pairs.values())
    for i, j in sorted(a2b.items()):
        for sa, sb in zip(la[i]["inputs"], lb[j]["inputs"], strict=False):
            if sa in free_a and sb in free_b:
                pairs[sa], how[sa] = sb, "position"
                free_a.discard(sa)
                free_b.discard(sb)
    if len(free_a) == 1 and len(free_b) == 1:
        sa, sb = free_a.pop(), free_b.pop()
        pairs[sa], how[sa] = sb, "position"
    at_a = {x[1]: x for x in ins_a}
    b2a = {v: k for k, v in pairs.items()}
    out = [_io_entry(at_a[b2a[x[1]]], x, how[b2a[x[1]]]) if x[1] in b2a else _io_entry(None, x, None)
           for x in ins_b]
    _insert_removed(out, ins_a, set(pairs))
    return out, pairs


def _outputs(a: Analysis, b: Analysis, la: list[dict[str, Any]], lb: list[dict[str, Any]],
             a2b: dict[int, int]) -> list[dict[str, Any]]:
    """The pairs of network outputs: an output of A whose layer's counterpart is an output of B is that
    output; the only output left on each side is the other one, now another layer."""
    ia = {d["name"]: i for i, d in enumerate(la)}
    ib = {d["name"]: j for j, d in enumerate(lb)}
    outs_a = [(k, n, la[ia[n]]["output_shape"]) for k, (n, _) in enumerate(a.outputs)]
    outs_b = [(k, n, lb[ib[n]]["output_shape"]) for k, (n, _) in enumerate(b.outputs)]
    at_b = {x[1]: x for x in outs_b}
    pairs: dict[str, tuple[str, str, bool]] = {}  # B name -> (A name, how, another layer)
    for _, n, _ in outs_a:
        j = a2b.get(ia[n])
        if j is not None and lb[j]["name"] in at_b and lb[j]["name"] not in pairs:
            pairs[lb[j]["name"]] = (n, "name" if lb[j]["name"] == n else "position", False)
    taken = {v[0] for v in pairs.values()}
    free_a = [x for x in outs_a if x[1] not in taken]
    free_b = [x for x in outs_b if x[1] not in pairs]
    if len(free_a) == 1 and len(free_b) == 1:
        pairs[free_b[0][1]] = (free_a[0][1], "position", True)
    at_a = {x[1]: x for x in outs_a}
    out = [_io_entry(at_a[pairs[x[1]][0]], x, pairs[x[1]][1], pairs[x[1]][2]) if x[1] in pairs
           else _io_entry(None, x, None) for x in outs_b]
    _insert_removed(out, outs_a, {v[0] for v in pairs.values()})
    return out


def _insert_removed(out: list[dict[str, Any]], side_a: list[tuple[int, str, list[int]]], paired: set[str]) -> None:
    """Put each unpaired input or output of A into `out` after the one before it in A."""
    for k, x in enumerate(side_a):
        if x[1] not in paired:
            after = next((j for j, e in enumerate(out) if k > 0 and e["a"] == side_a[k - 1][1]), -1)
            out.insert(after + 1, _io_entry(x, None, None))


def _totals(a: Analysis, convention: str | None, layers: list[dict[str, Any]]) -> dict[str, int]:
    t = dict(a.totals)
    t["macs"] = sum(d["macs"] for d in layers)
    t["flops"] = sum(d["flops"] for d in layers)
    t["activation_elements"] = sum(d["activation_elements"] for d in layers)
    return t


def _side(a: Analysis) -> dict[str, Any]:
    """One spec: its name, file and size, and every input and output with its shape (in its own layout)."""
    return {"name": a.name, "file": a.file, "layers": len(a.layers), "input_shape": list(a.input_shape),
            "output_shape": list(a.output_shape), "inputs": [{"name": n, "shape": list(s)} for n, s in a.inputs],
            "outputs": [{"name": n, "shape": list(s)} for n, s in a.outputs]}


# ---- thresholds for CI: --fail-on 'params>+5%' ------------------------------------------------

_THRESHOLD = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|>|<)\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*(%|[kKmMgGtT])?\s*$")
_SUFFIX = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


@dataclass(frozen=True)
class Threshold:
    """`METRIC OP VALUE`: fail when the change of METRIC (absolute, or relative with %) is OP VALUE."""

    text: str
    metric: str
    op: str
    value: float
    percent: bool

    @staticmethod
    def parse(text: str) -> Threshold:
        """'params>+5%', 'macs>0', 'flops<-10%', 'params>=+1M'; raises ValueError with the reason."""
        m = _THRESHOLD.match(text)
        if not m:
            raise ValueError(f"{text!r} is not METRIC OP CHANGE, e.g. 'params>+5%', 'macs>0' or 'flops<-10%'")
        metric, op, sign, digits, unit = m.groups()
        if metric not in TOTALS:
            raise ValueError(f"{text!r}: unknown metric {metric!r}; choose from {', '.join(TOTALS)}")
        value = float(digits) * (_SUFFIX[unit.lower()] if unit and unit != "%" else 1)
        return Threshold(text.strip(), metric, op, -value if sign == "-" else value, unit == "%")

    def crossed(self, total: dict[str, Any]) -> bool:
        if self.percent:
            r = total["relative"]
            change = (float("inf") if total["b"] > 0 else 0.0) if r is None else r * 100
        else:
            change = total["change"]
        return {">": change > self.value, ">=": change >= self.value, "<": change < self.value,
                "<=": change <= self.value}[self.op]


def check(d: dict[str, Any], thresholds: list[Threshold], a: Analysis, b: Analysis) -> list[Diagnostic]:
    """One located error per crossed threshold, at the layer (in B, or in A if removed) whose change of
    the metric is the largest in the direction of the threshold."""
    out = []
    by_name_a = {layer.name: layer for layer in a.layers}
    by_name_b = {layer.name: layer for layer in b.layers}
    for t in thresholds:
        total = d["totals"][t.metric]
        if not t.crossed(total):
            continue
        sign = 1 if t.op.startswith(">") else -1
        key = "output_shape" if t.metric == "activation_elements" else t.metric
        best, best_change = None, 0
        for e in d["layers"]:
            if e["status"] in ("unchanged", "renamed") or key not in e["changed"]:
                continue
            if key == "output_shape":
                va = _numel(e[key][0])
                vb = _numel(e[key][1])
            else:
                va, vb = e[key][0] or 0, e[key][1] or 0
            change = (vb - va) * sign
            if change > best_change:
                best, best_change = e, change
        loc, where = _loc(best, by_name_a, by_name_b, b)
        tot = total
        detail = f"{t.metric} changed by {tot['relative_text']} ({tot['a']:,} → {tot['b']:,}, {_signed(tot['change'])})"
        out.append(Diagnostic("error", f"{detail}: --fail-on '{t.text}'{where}", loc, "fail-on",
                              best["b"] or best["a"] if best else None))
    return out


def _numel(shape: list[int] | None) -> int:
    n = 1
    for s in shape or [0]:
        n *= s
    return n


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}"


def _loc(e: dict[str, Any] | None, by_a: dict[str, Any], by_b: dict[str, Any], b: Analysis) -> tuple[Loc, str]:
    if e is not None:
        layer = by_b.get(e["b"]) if e["b"] is not None else by_a.get(e["a"])
        if layer is not None:
            return layer.spec.loc, f"; the largest change is at {layer.name}"
    first = b.layers[0].spec.loc if b.layers else Loc(b.file)
    return first, ""


# ---- text formats -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    """Markdown-inert text (a pull-request comment shows names and file names as written, control and
    format characters as their escapes)."""
    return _MD_SPECIAL.sub(r"\\\1", visible(text))


def _cell(e: dict[str, Any], key: str) -> str:
    a, b = e[key]
    fmt = _fmt(key)
    if key in LINKS:  # the reading and sharing of a matched layer only when they changed
        if e["a"] is not None and e["b"] is not None:
            return f"{fmt(a)} → {fmt(b)}" if key in e["changed"] else ""
        return "" if (a if e["b"] is None else b) in (None, []) else fmt(a if e["b"] is None else b)
    if a is None:
        return fmt(b)
    if b is None:
        return fmt(a)
    return f"{fmt(a)} → {fmt(b)}" if key in e["changed"] else fmt(b)


def _fmt(key: str) -> Any:
    if key == "output_shape":
        return lambda v: shape_text(v)
    if key == "receptive_field":
        return _rf_text
    if key == "type":
        return str
    if key == "inputs":
        return lambda v: ", ".join(v) if v else "-"
    if key == "shares":
        return lambda v: "own" if v is None else v  # its own weights
    return lambda v: f"{v:,}"


def _rf_text(v: Any) -> str:
    if v == "global":
        return "global"
    if not v:
        return "-"
    return str(v[0]) if len(set(v)) == 1 else "x".join(map(str, v))


def _name(e: dict[str, Any]) -> str:
    if e["a"] is not None and e["b"] is not None and e["a"] != e["b"]:
        return f"{e['a']} → {e['b']}"
    return e["b"] if e["b"] is not None else e["a"]


MARK = {"changed": "~", "added": "+", "removed": "-", "renamed": "=", "unchanged": ""}
COLUMNS = (("type", "type"), ("output_shape", "output shape"), ("params", "params"), ("macs", "MACs"),
           ("flops", "FLOPs"), ("receptive_field", "RF"), ("inputs", "reads"), ("shares", "shares weights of"))
NUMERIC = ("params", "macs", "flops", "receptive_field")


def columns(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The columns of the layer table: the reading and sharing columns only when a row fills them."""
    return [(k, h) for k, h in COLUMNS if k not in LINKS or any(_cell(e, k) for e in rows)]


IO_FIELDS = ("layer", "shape", "index")  # what each cell of an input or output row shows (a changed one is marked)


def io_rows(d: dict[str, Any], all_rows: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """("input" or "output", pair) for each network input and output that differs (every one with `all_rows`)."""
    return [(kind, e) for kind in ("input", "output") for e in d[kind + "s"] if all_rows or e["status"] != "unchanged"]


def io_cells(e: dict[str, Any]) -> tuple[str, str, str]:
    """The name, shape and position cells of an input or output pair (positions from 1)."""
    return _name(e), _io_value(e, "shape", shape_text), _io_value(e, "index", lambda k: str(k + 1))


def _io_value(e: dict[str, Any], key: str, fmt: Any) -> str:
    a, b = e[key]
    if a is None or b is None:
        return fmt(b if a is None else a)
    return f"{fmt(a)} → {fmt(b)}" if key in e["changed"] else fmt(b)


def io_summary(d: dict[str, Any]) -> str:
    """`inputs: 1 added; outputs: 1 changed`, or '' when every input and output is as it was."""
    parts = []
    for kind in ("inputs", "outputs"):
        counts = [(s, sum(1 for e in d[kind] if e["status"] == s)) for s in STATUSES if s != "unchanged"]
        said = ", ".join(f"{n} {s}" for s, n in counts if n)
        if said:
            parts.append(f"{kind}: {said}")
    return "; ".join(parts)


def summary_line(d: dict[str, Any]) -> str:
    s = d["summary"]
    return (f"{s['changed']} changed, {s['added']} added, {s['removed']} removed, {s['renamed']} renamed, "
            f"{s['unchanged']} unchanged (convention {d['convention']})")


def to_markdown(d: dict[str, Any], all_layers: bool = False) -> str:
    """For a pull-request comment: the totals, the inputs and outputs that differ, then each layer that
    differs (changed values in bold)."""
    a, b = d["a"], d["b"]
    lines = [f"### cnncalc diff: {md(a['name'])} → {md(b['name'])}", "",
             f"{md(a['file'])} → {md(b['file'])}", "",
             "| | A | B | change | relative |", "|---|---:|---:|---:|---:|"]
    for key in TOTALS:
        t = d["totals"][key]
        bold = "**" if t["change"] else ""
        lines.append(f"| {key} | {t['a']:,} | {t['b']:,} | {bold}{_signed(t['change']) if t['change'] else '0'}{bold} | "
                     f"{bold}{t['relative_text']}{bold} |")
    s = d["summary"]
    io = io_summary(d)
    lines += ["", f"**{s['changed']} changed, {s['added']} added, {s['removed']} removed**, {s['renamed']} renamed, "
              f"{s['unchanged']} unchanged (convention `{d['convention']}`)" + (f"; **{md(io)}**" if io else "")]
    ios = io_rows(d, all_layers)
    if ios:
        lines += ["", "| | network | name | shape | position |", "|---|---|---|---|---:|"]
        for kind, e in ios:
            cells = [f"**{md(c)}**" if e["status"] == "changed" and k in e["changed"] else md(c)
                     for c, k in zip(io_cells(e), IO_FIELDS, strict=True)]
            lines.append(f"| {MARK[e['status']] or ' '} | {kind} | " + " | ".join(cells) + " |")
    rows = [e for e in d["layers"] if all_layers or e["status"] != "unchanged"]
    if rows:
        cols = columns(rows)
        lines += ["", "| | layer | " + " | ".join(h for _, h in cols) + " |",
                  "|---|---|" + "".join("---:|" if k in NUMERIC else "---|" for k, _ in cols)]
        for e in rows:
            cells = []
            for key, _ in cols:
                text = md(_cell(e, key))
                cells.append(f"**{text}**" if text and e["status"] == "changed" and key in e["changed"] else text)
            lines.append(f"| {MARK[e['status']] or ' '} | {md(_name(e))} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_table(d: dict[str, Any], console: Any, all_layers: bool = False) -> None:
    """The rich table: changed cells as 'old → new' in yellow, added rows green, removed rows red."""
    from rich.table import Table
    from rich.text import Text

    a, b = d["a"], d["b"]
    console.print(Text(visible(f"A {a['file']} ({a['name']}, {a['layers']} layers)  →  B {b['file']} ({b['name']}, "
                               f"{b['layers']} layers)")))
    tot = Table(box=None, pad_edge=False, header_style="bold")
    for h, just in (("", "left"), ("A", "right"), ("B", "right"), ("change", "right"), ("relative", "right")):
        tot.add_column(h, justify=just)  # type: ignore[arg-type]
    for key in TOTALS:
        t = d["totals"][key]
        style = "yellow" if t["change"] else ""
        tot.add_row(key, f"{t['a']:,}", f"{t['b']:,}", Text(_signed(t["change"]) if t["change"] else "0", style),
                    Text(t["relative_text"], style))
    console.print(tot)
    console.print(Text(summary_line(d)))
    row_style = {"added": "green", "removed": "red"}
    ios = io_rows(d, all_layers)
    if ios:
        io = io_summary(d)
        if io:
            console.print(Text(visible(io), "yellow"))
        t = Table(box=None, pad_edge=False, header_style="bold")
        for h, just in (("", "left"), ("network", "left"), ("name", "left"), ("shape", "left"), ("position", "right")):
            t.add_column(h, justify=just)  # type: ignore[arg-type]
        for kind, e in ios:
            style = row_style.get(e["status"], "")
            cells = [Text(visible(c), "bold yellow" if e["status"] == "changed" and k in e["changed"] else style)
                     for c, k in zip(io_cells(e), IO_FIELDS, strict=True)]
            t.add_row(Text(MARK[e["status"]], row_style.get(e["status"], "yellow")), Text(kind, style), *cells)
        console.print(t)
    rows = [e for e in d["layers"] if all_layers or e["status"] != "unchanged"]
    if not rows:
        return
    cols = columns(rows)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    table.add_column("layer")
    for key, head in cols:
        table.add_column(head, justify="right" if key in NUMERIC else "left")
    for e in rows:
        cells = []
        for key, _ in cols:
            text = visible(_cell(e, key))
            marked = e["status"] in ("changed", "renamed") and key in e["changed"]
            cells.append(Text(text, "bold yellow" if marked else row_style.get(e["status"], "")))
        name = Text(visible(_name(e)), "yellow" if e["status"] == "renamed" else row_style.get(e["status"], ""))
        table.add_row(Text(MARK[e["status"]], row_style.get(e["status"], "yellow")), name, *cells)
    console.print(table)
