"""Renderers: analysis → text. `table` uses rich; json, markdown and csv use only the stdlib."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis

FORMATS = ("table", "json", "markdown", "csv")


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(map(str, shape))


def human(n: int) -> str:
    """724,406,816 → 724.41M (used beside exact numbers, never instead of them)."""
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def to_json(a: Analysis) -> str:
    import json

    return json.dumps(a.to_dict(), indent=2)


ROW_HEAD = ("layer", "type", "output_shape", "params", "trainable_params", "non_trainable_params", "macs", "flops")


def rows(a: Analysis) -> list[tuple[str, ...]]:
    return [(layer.name, layer.type, shape_text(layer.output_shape), str(layer.params), str(layer.trainable_params),
             str(layer.non_trainable_params), str(layer.macs), str(layer.flops)) for layer in a.layers]


def to_csv(a: Analysis) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ROW_HEAD)
    w.writerows(rows(a))
    t = a.totals
    w.writerow(("(total)", "", shape_text(a.output_shape), t["params"], t["trainable_params"],
                t["non_trainable_params"], t["macs"], t["flops"]))
    return buf.getvalue()


def to_markdown(a: Analysis) -> str:
    t = a.totals
    lines = [f"### {a.name}", "",
             f"Input {shape_text(a.input_shape)} ({a.layout}), output {shape_text(a.output_shape)}.", "",
             "| # | layer | type | output shape | params | MACs | FLOPs |",
             "|---:|---|---|---|---:|---:|---:|"]
    for i, layer in enumerate(a.layers, 1):
        lines.append(f"| {i} | {layer.name} | {layer.type} | {shape_text(layer.output_shape)} | {layer.params:,} | "
                     f"{layer.macs:,} | {layer.flops:,} |")
    lines.append(f"| | **total** | | **{shape_text(a.output_shape)}** | **{t['params']:,}** | **{t['macs']:,}** | "
                 f"**{t['flops']:,}** |")
    lines += ["", f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable "
              f"{t['non_trainable_params']:,}). MACs: {t['macs']:,} ({human(t['macs'])}). "
              f"FLOPs: {t['flops']:,} ({human(t['flops'])}), convention `{a.convention}`."]
    for w in a.warnings:
        lines.append(f"\n> warning: {w.format()}")
    return "\n".join(lines) + "\n"
