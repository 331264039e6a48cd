"""What every importer produces: the network as spec layers, before folding and writing.

An importer reads its source (an ONNX graph, a traced PyTorch module, a Keras config, a Caffe
prototxt) and maps each operation to one spec layer, a `Node`. It records what the source itself
declares for each node, its output shape and the number of weights it holds, so that the imported
spec can be checked against the source layer by layer (`check.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic, Loc, SpecError

INPUT = "input"
MAX_NODES = 50_000  # operations read from one source (the spec itself stops at limits.MAX_LAYERS)
MAX_SOURCE_BYTES = 2**31  # protobuf's own limit for one message


@dataclass
class Node:
    """One spec layer as an importer found it."""

    name: str
    type: str  # a cnncalc layer type
    params: dict[str, Any] = field(default_factory=dict)  # spec parameters; defaults may be left out
    inputs: list[str] = field(default_factory=list)  # node names, or INPUT
    shape: tuple[int, ...] | None = None  # the output shape the source declares (no batch), spec layout
    weights: int | None = None  # elements of the weights the source holds for this node
    note: str = ""  # a comment: what was approximated here
    where: str = ""  # its place in the source, for messages: "node 12 (Conv '/conv1/Conv')"
    cls: str = ""  # the source's class of the module it belongs to (names blocks), if known
    shares: str = ""  # the node whose weights this one uses (the same module or layer called again)


@dataclass
class Imported:
    """A whole imported network."""

    name: str
    layout: str
    input: tuple[int, ...]
    nodes: list[Node]
    source: str  # the file or factory, as the user named it
    kind: str  # "ONNX", "PyTorch", "Keras", "Caffe"
    notes: list[str] = field(default_factory=list)  # header comments
    warnings: list[str] = field(default_factory=list)  # printed, and written into the spec
    classes: dict[str, str] = field(default_factory=dict)  # module path → class name (block names)
    total_weights: int | None = None  # all weights the source holds, where it says (checked against the totals)
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)  # several named inputs (node inputs name them)
    outputs: list[str] = field(default_factory=list)  # the nodes the network returns (empty: its last node)


class ImportFailure(SpecError):
    """A source cnncalc cannot import: one located message."""

    def __init__(self, file: str, message: str, rule: str = "import-error"):
        super().__init__(Diagnostic("error", message, Loc(file), rule))


def unreadable(file: str, message: str) -> ImportFailure:
    """The source cannot be read at all (exit status 2, like an unreadable spec)."""
    return ImportFailure(file, message, "unreadable")


def missing(file: str, package: str, extra: str) -> ImportFailure:
    """The optional framework a source needs is not installed: a one-line install hint."""
    return unreadable(file, f"reading this file needs the {package} package, which is not installed; "
                            f"install it with: pip install 'cnncalc[{extra}]'")


# what a mapping function returns: (layer type, spec parameters[, a note on what was approximated])
Mapped = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


class Unmapped(Exception):
    """Raised by a mapping function: the operation has no layer type; why, and the layer type it awaits
    (one being added), if any."""

    def __init__(self, reason: str, awaits: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.awaits = awaits


def pending(awaits: str) -> Callable[..., Mapped]:
    """The mapping of an operation whose layer type is being added: an error naming the type. When the
    type lands, this entry of the source's table becomes the mapping."""
    def mapped(*_: Any) -> Mapped:
        raise Unmapped("no cnncalc layer type computes it yet", awaits)
    return mapped


def unpack(m: Mapped) -> tuple[str, dict[str, Any], str]:
    """(type, params, note) of a mapping's result."""
    return (m[0], m[1], m[2] if len(m) > 2 else "")  # type: ignore[misc]


def compact(value: Any) -> Any:
    """A size as a person writes it: 3 for (3, 3), [1, 7] otherwise."""
    values = [int(v) for v in value] if isinstance(value, list | tuple) else [int(value)]
    return values[0] if len(set(values)) == 1 else values


def f32(value: float) -> float:
    """A float32 value (an ONNX attribute, a protobuf `float`) as its shortest decimal: 1e-05, not
    9.999999747378752e-06."""
    import struct

    v = float(value)
    for digits in range(1, 18):
        short = float(f"{v:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == struct.unpack("f", struct.pack("f", v))[0]:
            return short
    return v


def input_name(name: str, taken: set[str]) -> str:
    """A source's input name as a spec input name (no `.`, which would read as a module path)."""
    return unique_name(name.replace(".", "_"), taken)


def unique_name(name: str, taken: set[str]) -> str:
    """`name` made a valid spec layer name (letters, digits, `_`, `.`, `-`) and unique in `taken`."""
    clean = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in name).strip(".-") or "layer"
    if clean == INPUT:
        clean = "input_"
    out, n = clean, 1
    while out in taken:
        n += 1
        out = f"{clean}_{n}"
    taken.add(out)
    return out


@dataclass
class Options:
    """What the user said about the import."""

    input_shape: tuple[int, ...] | None = None  # the input without batch, in the source's layout
    allow_unknown: bool = False  # an operation without a layer type becomes an `opaque` layer
    args: dict[str, Any] = field(default_factory=dict)  # keyword arguments of a Python factory
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)  # every input's, for several inputs

    def __post_init__(self) -> None:
        if self.input_shape is not None and not self.input_shapes:
            self.input_shapes = [self.input_shape]
        elif self.input_shapes and self.input_shape is None:
            self.input_shape = self.input_shapes[0]


class Context:
    """Shared by the mapping functions of one import: the options, the names taken, the warnings."""

    def __init__(self, file: str, options: Options):
        self.file = file
        self.options = options
        self.taken: set[str] = set()
        self.warnings: list[str] = []
        self.notes: list[str] = []

    def fail(self, message: str, rule: str = "import-error") -> ImportFailure:
        return ImportFailure(self.file, message, rule)

    def unknown(self, where: str, op: str, reason: str, name: str, inputs: list[str],
                shape: tuple[int, ...] | None, weights: int | None, awaits: str = "") -> Node:
        """An operation no layer type expresses: an error naming it, or with --allow-unknown an
        `opaque` layer with the source's output shape and a warning."""
        why = f"{reason}" + (f" (awaits the layer type `{awaits}`)" if awaits else "")
        if not self.options.allow_unknown or shape is None or not shape:
            hint = ("; --allow-unknown keeps it as an `opaque` layer counted as zero" if shape
                    else "; its output shape is not known, so it cannot be kept even as `opaque`")
            raise self.fail(f"{where}: {op}: {why}{hint}", "unknown-op")
        held = f", holding {weights:,} weights" if weights else ""
        self.warnings.append(f"{name} ({op}) is an opaque layer: {why}; counted as 0 params and 0 MACs{held}")
        return Node(name, "opaque", {"shape": list(shape)}, inputs, shape, None,
                    f"{op}: not expressible, counted as 0{held}", where)
