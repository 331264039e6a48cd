"""`show --sweep`: one row per value of the swept param, in every output format.

Each row is the whole network at that value: the input and output shapes, params (trainable and
non-trainable in json and csv) and the MACs and FLOPs under the convention; with a batch size the
shapes carry the batch dimension and the MACs and FLOPs are those of the whole batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import batched, human, inputs_text, outputs_text

if TYPE_CHECKING:
    from rich.console import Console

    from ..analysis import Analysis
    from ..sweep import Point

FORMATS = ("table", "json", "markdown", "csv")


def _value(p: Point) -> str:
    from ..sweep import text_of

    return text_of(p.value)


def _counts(a: Analysis, batch: int | None) -> dict[str, int]:
    t = a.totals
    return {**t, "macs": batched(t["macs"], batch), "flops": batched(t["flops"], batch)}


def to_dict(points: list[Point], name: str, batch: int | None = None) -> dict[str, Any]:
    """The JSON object of a sweep (docs/json.md, "--sweep")."""
    first = points[0].analysis
    rows = []
    for p in points:
        a = p.analysis
        row: dict[str, Any] = {"value": p.value, "input_shape": list(a.input_shape), "output_shape": list(a.output_shape)}
        if a.network.named_inputs:
            row["inputs"] = [{"name": n, "shape": list(s)} for n, s in a.inputs]
        if a.network.named_outputs:
            row["outputs"] = [{"name": n, "shape": list(s)} for n, s in a.outputs]
        row["totals"] = a.totals
        if batch is not None:
            t = a.totals
            row["batch"] = {"size": batch, "input_shape": [batch, *a.input_shape],
                            "output_shape": [batch, *a.output_shape], "macs": t["macs"] * batch,
                            "flops": t["flops"] * batch}
        row["warnings"] = [w.to_dict() for w in a.warnings]
        rows.append(row)
    return {"name": first.name, "layout": first.layout, "convention": first.convention, "sweep": name, "rows": rows}


def to_json(points: list[Point], name: str, batch: int | None = None) -> str:
    import json

    return json.dumps(to_dict(points, name, batch), indent=2)


def to_csv(points: list[Point], name: str, batch: int | None = None) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow((name, "input_shape", "output_shape", "params", "trainable_params", "non_trainable_params", "macs",
                "flops"))
    for p in points:
        a = p.analysis
        c = _counts(a, batch)
        w.writerow((_value(p), _cell(inputs_text(a, batch)), _cell(outputs_text(a, batch)), c["params"],
                    c["trainable_params"], c["non_trainable_params"], c["macs"], c["flops"]))
    return buf.getvalue()


def _cell(text: str) -> str:
    """`image 224x224x3, mask 224x224x1` as one csv cell: `image=224x224x3;mask=224x224x1`."""
    return text.replace(", ", ";").replace(" ", "=")


def _title(points: list[Point], name: str, batch: int | None) -> str:
    a = points[0].analysis
    per = f", batch {batch}" if batch is not None else ""
    whole = f" (MACs and FLOPs of the whole batch of {batch})" if batch is not None else ""
    return f"{a.name}: sweep of {name} ({a.layout}{per}, convention {a.convention}){whole}"


def to_markdown(points: list[Point], name: str, batch: int | None = None) -> str:
    lines = [f"### {_title(points, name, batch)}", "",
             f"| {name} | input shape | output shape | params | MACs | FLOPs |",
             "|---:|---|---|---:|---:|---:|"]
    for p in points:
        a = p.analysis
        c = _counts(a, batch)
        lines.append(f"| {_value(p)} | {inputs_text(a, batch)} | {outputs_text(a, batch)} | {c['params']:,} | "
                     f"{c['macs']:,} ({human(c['macs'])}) | {c['flops']:,} ({human(c['flops'])}) |")
    return "\n".join(lines) + "\n"


def print_table(points: list[Point], name: str, console: Console, batch: int | None = None) -> None:
    """A rich table; like `show`'s, no cell is ever cut: a terminal narrower than the table gets longer lines."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    from .table import table_width

    heads = ((name, True), ("Input shape", False), ("Output shape", False), ("Params", True), ("MACs", True),
             ("FLOPs", True))
    rows = []
    for p in points:
        a = p.analysis
        c = _counts(a, batch)
        rows.append((_value(p), inputs_text(a, batch), outputs_text(a, batch), f"{c['params']:,}",
                     f"{c['macs']:,} ({human(c['macs'])})", f"{c['flops']:,} ({human(c['flops'])})"))
    widths = [max(cell_len(h), *(cell_len(r[i]) for r in rows)) for i, (h, _) in enumerate(heads)]
    table = Table(title=Text(_title(points, name, batch), style="table.title"), box=box.SIMPLE_HEAD,
                  title_justify="left")
    for (header, right), w in zip(heads, widths, strict=True):
        table.add_column(Text(header), justify="right" if right else "left", no_wrap=True, width=w)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    total = table_width(widths)
    if total > console.width:
        table.width = total
    console.print(table, crop=False)
