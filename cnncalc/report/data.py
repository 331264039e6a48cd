"""What a report page shows, as one JSON-ready dict: every number comes from the library.

`doc` is exactly the `cnncalc show --format json` document (docs/json.md); the rest is what the
page needs besides: each convention's per-layer MACs and FLOPs (what `show --convention NAME`
prints), each layer's `--explain` lines under every convention, the table's receptive-field cells
as `show --columns rf,jump,start` writes them, the block structure, the spec lines of each layer,
the warnings and unmet `expect:` values, every input and output of the network (the `inputs` and
`outputs` of the JSON document are there only when the spec names them), and the spec's source text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import conventions
from .. import explain as ex
from ..expect import check as expect_check
from ..expect import count as expect_count
from ..render import json_doc
from ..version import __version__

if TYPE_CHECKING:
    from ..analysis import Analysis, LayerResult
    from ..errors import Diagnostic
    from ..memory import MemoryConfig

_USED_AT = re.compile(r"used at line (\d+)")


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {**d.to_dict(), "text": d.format()}


def _groups(a: Analysis) -> tuple[list[dict[str, Any]], list[int]]:
    """Every block use (outermost first) and, per layer, the index of its innermost block use (-1: none)."""
    index: dict[str, int] = {}
    groups: list[dict[str, Any]] = []
    inner: list[int] = []
    for layer in a.layers:
        spec = layer.spec
        uses = [int(m) for m in _USED_AT.findall(spec.origin)][::-1]  # the origin lists the innermost first
        parent = -1
        for depth, (instance, block) in enumerate(spec.blocks):
            g = index.get(instance)
            if g is None:
                g = index[instance] = len(groups)
                groups.append({"name": instance, "block": block, "parent": parent,
                               "line": uses[depth] if depth < len(uses) else None, "layers": []})
            groups[g]["layers"].append(len(inner))
            parent = g
        inner.append(parent)
    return groups, inner


def _spec_lines(layer: LayerResult) -> list[int]:
    """The lines of the spec that define `layer`: its entry (to its last parameter) and its block uses."""
    spec = layer.spec
    last = max((loc.line for loc in spec.param_locs.values() if loc.file == spec.loc.file), default=spec.loc.line)
    for loc in (spec.inputs_loc, spec.expect.loc if spec.expect is not None else None):
        if loc is not None and loc.file == spec.loc.file:
            last = max(last, loc.line)
    lines = list(range(spec.loc.line, max(last, spec.loc.line) + 1))[:40]
    uses = [int(m) for m in _USED_AT.findall(spec.origin)]
    return sorted(set(lines) | set(uses))


def explain_lines(a: Analysis, numbers: list[dict[str, Any]]) -> tuple[list[list[str]], dict[str, list[list[str] | None]]]:
    """Each layer's `--explain` lines under every convention, as (common part, per-convention ending).

    Under a convention, `show --convention NAME --explain` writes a layer's derivation and then, when the
    layer has MACs or FLOPs under it, the line that adds its FLOPs up; the derivation is the same for all.
    """
    base: list[list[str]] = []
    tails: dict[str, list[list[str] | None]] = {c["name"]: [] for c in numbers}
    convs = [(conventions.get(c["name"]), c["macs"], c["flops"]) for c in numbers]
    for layer in a.layers:
        base.append(ex.derivation_lines(layer))
        for conv, _, _ in convs:
            tails[conv.name].append(ex.convention_lines(layer, conv.name) or None)
    return base, tails


def convention_numbers(a: Analysis) -> list[dict[str, Any]]:
    """Every convention's one-line definition and per-layer MACs and FLOPs, with their totals."""
    out = []
    costs = [[layer.cost, *layer.stage_costs] for layer in a.layers]  # a fused activation counts as its type
    for name in conventions.names():
        conv = conventions.get(name)
        counts = [tuple(sum(n) for n in zip(*(conv.count(c) for c in cs), strict=True)) for cs in costs]
        macs = [m for m, _ in counts]
        flops = [f for _, f in counts]
        out.append({"name": name, "summary": conv.summary, "macs": macs, "flops": flops,
                    "total_macs": sum(macs), "total_flops": sum(flops)})
    return out


def report_data(a: Analysis, memory: MemoryConfig | None = None, source: str | None = None,
                with_explain: bool = True) -> dict[str, Any]:
    """The dict a report page is drawn from (see the module docstring)."""
    from ..render.columns import Extra

    doc = json_doc(a, memory, memory.batch_size if memory is not None and memory.batch_size > 1 else None)
    extra = Extra.of(a, memory)
    groups, inner = _groups(a)
    numbers = convention_numbers(a)
    out: dict[str, Any] = {
        "doc": doc,
        "conventions": numbers,
        "cells": {c: [extra.cell(layer, c) for layer in a.layers] for c in ("rf", "jump", "start")},
        "groups": groups,
        "layer_group": inner,
        "layer_lines": [_spec_lines(layer) for layer in a.layers],
        "layer_loc": [[layer.spec.loc.line, layer.spec.loc.col] for layer in a.layers],
        "captions": [_caption(layer) for layer in a.layers],
        "warnings": [diagnostic(d) for d in a.warnings],
        "expect": {"stated": expect_count(a), "unmet": [diagnostic(d) for d in expect_check(a)]},
        "memory_summary": extra.summary(),
        "source": {"file": a.file, "text": source},
        **io_data(a),
    }
    if with_explain:
        base, tails = explain_lines(a, numbers)
        out["explain"] = {"headers": [ex.header(layer) for layer in a.layers], "lines": base, "tails": tails}
    return out


def io_data(a: Analysis) -> dict[str, Any]:
    """Every input (name, shape) and output (name, shape, index of its layer) of `a`, each in the spec's
    order, and whether the spec names them (`inputs:`, `outputs:`) or has the one `input` and last layer."""
    index = {layer.name: i for i, layer in enumerate(a.layers)}
    return {"inputs": [{"name": n, "shape": list(s)} for n, s in a.inputs],
            "outputs": [{"name": n, "shape": list(s), "layer": index[n]} for n, s in a.outputs],
            "named_inputs": a.network.named_inputs, "named_outputs": a.network.named_outputs}


SHARED = " (shared)"


def _caption(layer: LayerResult) -> str:
    """The diagram's operation line, without its `(shared)`: the node says so in its numbers line."""
    from ..diagram import caption

    try:
        text = caption(layer)
    except (KeyError, TypeError, ValueError, IndexError):  # a layer type the diagram has no caption for
        return layer.type
    return text[:-len(SHARED)] if layer.shares and text.endswith(SHARED) else text


def page_data(a: Analysis, memory: MemoryConfig | None = None, source: str | None = None,
              compare: tuple[Analysis, str | None] | None = None, watch: str | None = None) -> dict[str, Any]:
    """Everything one page embeds: the report of `a`, and with `compare` the other spec and the diff under
    every convention."""
    data: dict[str, Any] = {"tool": f"cnncalc {__version__}", "kind": "report", "watch": watch,
                            "convention": a.convention, "report": report_data(a, memory, source)}
    if compare is not None:
        from ..diff import diff

        b, b_source = compare
        data["kind"] = "compare"
        data["other"] = report_data(b, memory, b_source, with_explain=False)
        data.update(compact_diffs({name: diff(a, b, name, memory) for name in conventions.names()}))
    return data


CONVENTION_FIELDS = ("macs", "flops")


def compact_diffs(diffs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `cnncalc diff --format json` documents under every convention, without repeating what does not
    depend on the convention: `pairs` (every matched layer pair, to link the two graphs), `entries` (each
    layer that differs under some convention, its convention-free fields) and per convention `diffs`:
    the totals, the summary and `rows` = [entry index, status, changed fields, [MACs A, B], [FLOPs A, B]]."""
    names = list(diffs)
    first = diffs[names[0]]
    pairs = [[e["a"], e["b"]] for e in first["layers"] if e["a"] is not None and e["b"] is not None]
    keys = [(e["a"], e["b"]) for e in first["layers"]]
    differs = [any(d["layers"][k]["status"] != "unchanged" for d in diffs.values()) for k in range(len(keys))]
    index = {k: n for n, k in enumerate(k for k, x in zip(range(len(keys)), differs, strict=True) if x)}
    entries = [{f: v for f, v in e.items() if f not in CONVENTION_FIELDS and f not in ("status", "changed")}
               for k, e in enumerate(first["layers"]) if differs[k]]
    out: dict[str, Any] = {}
    for name, d in diffs.items():
        assert [(e["a"], e["b"]) for e in d["layers"]] == keys  # the matching does not depend on the convention
        rows = [[index[k], e["status"], e["changed"], e["macs"], e["flops"]]
                for k, e in enumerate(d["layers"]) if k in index and e["status"] != "unchanged"]
        out[name] = {**{f: v for f, v in d.items() if f != "layers"}, "rows": rows}
    return {"pairs": pairs, "entries": entries, "diffs": out}


def error_data(diagnostics: list[Diagnostic], file: str, source: str | None, watch: str | None = None) -> dict[str, Any]:
    """The page of a spec that cannot be analysed: its located errors (and its source)."""
    return {"tool": f"cnncalc {__version__}", "kind": "errors", "watch": watch, "file": file,
            "errors": [diagnostic(d) for d in diagnostics], "source": {"file": file, "text": source}}
