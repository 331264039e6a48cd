"""Receptive-field and memory columns: extra JSON keys and the `--columns` of the table and csv.

JSON always carries every key; the table and csv show the columns named by `--columns`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from ..analysis import Analysis, LayerResult
    from ..memory import MemoryConfig
    from ..receptive import ReceptiveField

# key → (header, what it shows); the order here is the display order
COLUMNS = {
    "rf": ("RF", "receptive field size in input pixels (HxW when they differ)"),
    "jump": ("Jump", "input pixels between adjacent output units (effective stride)"),
    "start": ("Start", "input pixel at the centre of output unit 0's receptive field"),
    "act": ("Activations", "output values per sample"),
    "act_mem": ("Act. bytes", "output bytes for --batch-size and --dtype"),
    "param_mem": ("Param bytes", "parameter bytes for --dtype"),
}
MEMORY_COLUMNS = frozenset({"act", "act_mem", "param_mem"})
# standard table columns a narrow terminal may leave out; naming them in --columns keeps them
STANDARD = ("type", "flops")


def parse_columns(text: str | None) -> tuple[str, ...]:
    """'rf,jump' → ('rf', 'jump'); 'all' selects every column. Raises ValueError on unknown names."""
    if not text:
        return ()
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if "all" in names:
        return (*STANDARD, *COLUMNS)
    bad = [n for n in names if n not in COLUMNS and n not in STANDARD]
    if bad:
        raise ValueError(f"unknown column {bad[0]!r}; choose from {', '.join((*STANDARD, *COLUMNS))} "
                         "(comma-separated) or all")
    return tuple(dict.fromkeys(names))  # drop repeats, keep order


def extra_columns(names: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of `names` that are added to the standard ones (csv and markdown always have those)."""
    return tuple(n for n in names if n in COLUMNS)


def _dims(values: tuple[Any, ...]) -> str:
    text = [_num(v) for v in values]
    return text[0] if len(set(text)) == 1 else "x".join(text)


def _num(v: int | float) -> str:
    return str(v)  # an int, or a float for a half pixel (receptive field starts)


def _rf_cell(f: ReceptiveField, what: str) -> str:
    if f.kind == "global":
        return "global" if what == "rf" else "-"
    value = {"rf": f.size, "jump": f.jump, "start": f.start}[what]
    return _dims(value) if value else "-"


class Extra:
    """Everything the extra columns need, computed once per analysis."""

    __slots__ = ("fields", "cfg", "memory", "named_inputs")

    def __init__(self, fields: dict[str, ReceptiveField], cfg: MemoryConfig, memory: dict[str, Any],
                 named_inputs: bool = False):
        self.fields = fields
        self.cfg = cfg
        self.memory = memory
        self.named_inputs = named_inputs  # the spec names its inputs: say which one each field is in

    @staticmethod
    def of(a: Analysis, cfg: MemoryConfig | None = None) -> Extra:
        from ..memory import MemoryConfig, memory
        from ..receptive import receptive_fields

        cfg = cfg or MemoryConfig()
        return Extra(receptive_fields(a), cfg, memory(a, cfg), a.network.named_inputs)

    def layer_dict(self, layer: LayerResult) -> dict[str, Any]:
        from ..memory import activation_elements

        n = activation_elements(layer)
        f = self.fields[layer.name]
        d = {**f.to_dict(), "activation_elements": n,
             "activation_bytes": self.cfg.bytes(n), "param_bytes": layer.params * self.cfg.bytes_per_element}
        if self.named_inputs:
            d["receptive_field_input"] = f.input
        return d

    def cell(self, layer: LayerResult, column: str, commas: bool = True) -> str:
        if column in ("rf", "jump", "start"):
            return _rf_cell(self.fields[layer.name], column)
        d = self.layer_dict(layer)
        value = {"act": d["activation_elements"], "act_mem": d["activation_bytes"], "param_mem": d["param_bytes"]}
        if not commas:
            return str(value[column])
        return f"{value[column]:,}" if value[column] else "-"

    def footer(self, column: str, commas: bool = True) -> str:
        m = self.memory
        value = {"act": m["activation_elements"], "act_mem": m["activation_bytes"], "param_mem": m["param_bytes"]}
        if column not in value:
            return ""
        return f"{value[column]:,}" if commas else str(value[column])

    def summary(self) -> str:
        """Two lines for the table and markdown: parameter and activation memory, then training."""
        m, t = self.memory, self.memory["training"]

        def b(n: int) -> str:
            return f"{n:,} B ({human_bytes(n)})"

        return (f"Memory (batch {m['batch_size']}, {m['dtype']}): params {b(m['param_bytes'])}  activations "
                f"{b(m['activation_bytes'])}  forward total {b(m['forward_bytes'])}\n"
                f"Training ({m['optimizer']}): {b(t['total_bytes'])} = params + gradients + optimizer state "
                f"+ saved activations + gradient workspace (docs/memory.md)")


def human_bytes(n: int) -> str:
    """12,845,056 → '12.25 MiB' (binary units)."""
    for div, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n} B"


def extend_json(a: Analysis, d: dict[str, Any], cfg: MemoryConfig | None = None) -> dict[str, Any]:
    """Add the receptive-field and memory keys to `a.to_dict()` output (existing keys untouched)."""
    extra = Extra.of(a, cfg)
    for layer, ld in zip(a.layers, d["layers"], strict=True):
        ld.update(extra.layer_dict(layer))
    d["memory"] = extra.memory
    return d

