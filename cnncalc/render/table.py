"""The rich table of `cnncalc show`."""

from __future__ import annotations

from . import human, shape_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.console import Console

    from ..analysis import Analysis
    from ..memory import MemoryConfig


def console(stderr: bool = False) -> Console:
    """A rich console that respects NO_COLOR and does not wrap tables when piped."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_table(a: Analysis, console: Console, columns: tuple[str, ...] = (), memory: MemoryConfig | None = None,
                memory_summary: bool = False) -> None:
    """`columns`: extra columns (render.columns.COLUMNS); `memory_summary` adds the memory line."""
    from rich import box
    from rich.table import Table

    from .columns import COLUMNS, MEMORY_COLUMNS, Extra

    x = Extra.of(a, memory) if columns or memory_summary else None

    t = a.totals
    table = Table(title=f"{a.name}  [dim]input {shape_text(a.input_shape)} ({a.layout})[/dim]",
                  box=box.SIMPLE_HEAD, show_footer=True, title_justify="left")
    table.add_column("#", justify="right", style="dim", footer="")
    table.add_column("Layer", style="bold", footer="Total")
    table.add_column("Type", style="cyan")
    table.add_column("Output shape", footer=shape_text(a.output_shape))
    table.add_column("Params", justify="right", footer=f"{t['params']:,}")
    table.add_column("MACs", justify="right", footer=f"{t['macs']:,}")
    table.add_column("FLOPs", justify="right", footer=f"{t['flops']:,}")
    for c in columns:
        table.add_column(COLUMNS[c][0], justify="right", footer=x.footer(c) if x else "")
    for i, layer in enumerate(a.layers, 1):
        table.add_row(str(i), layer.name, layer.type, shape_text(layer.output_shape),
                      f"{layer.params:,}" if layer.params else "-",
                      f"{layer.macs:,}" if layer.macs else "-", f"{layer.flops:,}" if layer.flops else "-",
                      *(x.cell(layer, c) for c in columns if x))
    console.print(table)
    console.print(f"Params: {t['params']:,} ({human(t['params'])})  trainable {t['trainable_params']:,}  "
                  f"non-trainable {t['non_trainable_params']:,}", highlight=False)
    console.print(f"MACs:   {t['macs']:,} ({human(t['macs'])})  FLOPs: {t['flops']:,} ({human(t['flops'])})  "
                  f"[dim]convention: {a.convention} (see `cnncalc conventions`)[/dim]", highlight=False)
    if x and (memory_summary or MEMORY_COLUMNS & set(columns)):
        console.print(x.summary(), highlight=False)
