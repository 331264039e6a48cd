"""Renderers: analysis → text. `table` uses rich; json, markdown and csv use only the stdlib."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import visible

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..memory import MemoryConfig

FORMATS = ("table", "json", "markdown", "csv")


_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(text: str) -> str:
    """Untrusted text (a network name, a file name in a warning) as markdown that shows exactly that
    text: visible (one line), `<`, `>` and `&` as HTML entities (no tag, comment or entity can open)
    and markdown's code, emphasis, link and table-cell characters escaped with a backslash."""
    import html

    return _MARKDOWN.sub(r"\\\1", html.escape(visible(text), quote=False))



def shape_text(shape: tuple[int, ...] | list[int], batch: int | None = None) -> str:
    """`32x32x10`; with a batch size, `64x32x32x10`."""
    return "x".join(map(str, shape if batch is None else (batch, *shape)))


def inputs_text(a: Analysis, batch: int | None = None) -> str:
    """The input shape, or every named input as `image 224x224x3, mask 224x224x1`."""
    if not a.network.named_inputs:
        return shape_text(a.input_shape, batch)
    return ", ".join(f"{n} {shape_text(s, batch)}" for n, s in a.inputs)


def outputs_text(a: Analysis, batch: int | None = None) -> str:
    """The output shape, or every named output as `seg 64x64x2, cls 10`."""
    if not a.network.named_outputs:
        return shape_text(a.output_shape, batch)
    return ", ".join(f"{n} {shape_text(s, batch)}" for n, s in a.outputs)


def shared_text(a: Analysis) -> str:
    """`enc_mask → enc_img, cls2 → cls`: what calls which layers again (empty if nothing shares):
    a block use given as `share:` once, other shared layers one by one."""
    uses = a.network.shared_uses
    parts = [f"{use} → {owner}" for use, owner in uses.items()]
    for layer in a.layers:
        parts_of = layer.name.split(".")
        if layer.shares and not any(".".join(parts_of[:d]) in uses for d in range(1, len(parts_of))):
            parts.append(f"{layer.name} → {layer.shares}")
    return ", ".join(parts)


def batched(layer_value: int, batch: int | None) -> int:
    return layer_value if batch is None else layer_value * batch


def human(n: int) -> str:
    """724,406,816 → 724.41M (used beside exact numbers, never instead of them)."""
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def json_doc(a: Analysis, memory: MemoryConfig | None = None, batch: int | None = None) -> dict:
    """The JSON output as a dict (docs/json.md); `batch` adds the `batch` objects (shapes with the
    batch dimension, MACs and FLOPs of the whole batch)."""
    from .columns import extend_json

    d = extend_json(a, a.to_dict(), memory)
    if batch is not None:
        t = a.totals
        top: dict = {"size": batch, "input_shape": [batch, *a.input_shape],
                     "output_shape": [batch, *a.output_shape]}
        if a.network.named_inputs:
            top["inputs"] = [{"name": n, "shape": [batch, *s]} for n, s in a.inputs]
        if a.network.named_outputs:
            top["outputs"] = [{"name": n, "shape": [batch, *s]} for n, s in a.outputs]
        top.update(macs=t["macs"] * batch, flops=t["flops"] * batch)
        d["batch"] = top
        for layer, ld in zip(a.layers, d["layers"], strict=True):
            ld["batch"] = {"output_shape": [batch, *layer.output_shape], "macs": layer.macs * batch,
                           "flops": layer.flops * batch}
    return d


def to_json(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None,
            batch: int | None = None) -> str:
    """Every key, always: `columns` only concerns the table and csv."""
    import json

    return json.dumps(json_doc(a, memory, batch), indent=2)


ROW_HEAD = ("layer", "type", "output_shape", "params", "trainable_params", "non_trainable_params", "macs", "flops")


def rows(a: Analysis, batch: int | None = None) -> list[tuple[str, ...]]:
    return [(visible(layer.name), layer.type, shape_text(layer.output_shape, batch), str(layer.params),
             str(layer.trainable_params), str(layer.non_trainable_params), str(batched(layer.macs, batch)),
             str(batched(layer.flops, batch))) for layer in a.layers]


def to_csv(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None,
           batch: int | None = None) -> str:
    """One row per layer and a `(total)` row. A spec that shares weights gets a `shares` column (the
    layer whose parameters a row's are), and `batch` puts the batch in the shapes, MACs and FLOPs."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    t = a.totals
    outputs = outputs_text(a, batch).replace(", ", ";").replace(" ", "=")
    total = ("(total)", "", outputs, t["params"], t["trainable_params"],
             t["non_trainable_params"], batched(t["macs"], batch), batched(t["flops"], batch))
    shares = any(layer.shares for layer in a.layers)
    head = (*ROW_HEAD, *(("shares",) if shares else ()))
    body = [(*row, *((layer.shares or "",) if shares else ())) for layer, row in zip(a.layers, rows(a, batch),
                                                                                      strict=True)]
    total = (*total, *(("",) if shares else ()))
    if not columns:
        w.writerow(head)
        w.writerows(body)
        w.writerow(total)
        return buf.getvalue()
    from .columns import Extra

    x = Extra.of(a, memory)
    w.writerow((*head, *columns))
    for layer, row in zip(a.layers, body, strict=True):
        w.writerow((*row, *(x.cell(layer, c, commas=False) for c in columns)))
    w.writerow((*total, *(x.footer(c, commas=False) for c in columns)))
    return buf.getvalue()


def to_markdown(a: Analysis, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None,
                batch: int | None = None) -> str:
    from .columns import COLUMNS, MEMORY_COLUMNS, Extra

    t = a.totals
    x = Extra.of(a, memory) if columns else None
    macs, flops = batched(t["macs"], batch), batched(t["flops"], batch)

    def extra(cells) -> str:  # the --columns cells, appended to a row
        return "".join(f" {c} |" for c in cells) if x else ""

    ins = "Inputs" if a.network.named_inputs else "Input"
    outs = "outputs" if a.network.named_outputs else "output"
    per = f", batch {batch}" if batch is not None else ""
    lines = [f"### {markdown_text(a.name)}", "",
             f"{ins} {inputs_text(a, batch)} ({a.layout}{per}), {outs} {outputs_text(a, batch)}.", "",
             "| # | layer | type | output shape | params | MACs | FLOPs |" + extra(COLUMNS[c][0] for c in columns),
             "|---:|---|---|---|---:|---:|---:|" + "---:|" * len(columns)]
    for i, layer in enumerate(a.layers, 1):
        owner = a.layer(layer.shares) if layer.shares else None
        params = f"shared ({layer.shares})" if owner is not None and owner.params else f"{layer.params:,}"
        lines.append(f"| {i} | {visible(layer.name)} | {layer.type} | {shape_text(layer.output_shape, batch)} | {params} | "
                     f"{batched(layer.macs, batch):,} | {batched(layer.flops, batch):,} |"
                     + extra(x.cell(layer, c) for c in columns if x))
    lines.append(f"| | **total** | | **{outputs_text(a, batch)}** | **{t['params']:,}** | **{macs:,}** | "
                 f"**{flops:,}** |" + extra(x.footer(c) and f"**{x.footer(c)}**" for c in columns if x))
    whole = f" for a batch of {batch}" if batch is not None else ""
    lines += ["", f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable "
              f"{t['non_trainable_params']:,}). MACs{whole}: {macs:,} ({human(macs)}). "
              f"FLOPs{whole}: {flops:,} ({human(flops)}), convention `{a.convention}`."]
    shared = shared_text(a)
    if shared:
        lines += ["", f"Shared weights (the parameters are counted once, the operations at every call): {shared}."]
    if x and MEMORY_COLUMNS & set(columns):
        lines += ["", x.summary().replace("\n", "\n\n")]
    for w in a.warnings:
        lines.append(f"\n> warning: {markdown_text(w.format())}")
    return "\n".join(lines) + "\n"
