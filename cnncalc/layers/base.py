"""What a layer type declares, and the numbers its rule returns.

A layer type is one class in one file of this package: its names (the spec's, the aliases and the
frameworks' class names), its parameters, its counting family, and `rule`, which maps checked
parameters and input tensors to a `Result` of numbers only: output shape, trainable and
non-trainable parameters, named operation counts, the sliding windows it used, its receptive-field
step and warnings. Everything else derives from that declaration: the spec parser and the JSON
Schema read `params`; the conventions weigh `Result.ops` by `family`; `--explain` writes out the
`Count`s and windows; `export` calls the `torch` and `keras` mappings. See docs/adding-a-layer.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import LayerError, Unsupported
from .count import ZERO, Count
from .params import Param
from .tensor import Tensor

if TYPE_CHECKING:
    from .geometry import Dim
    from .mapping import Call, Site




@dataclass(frozen=True, slots=True)
class ReceptiveStep:
    """A layer's receptive-field step along each spatial dim: kernel extent, stride, padding at start."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[int, ...]
    global_: bool = False  # the output sees the whole input (global pooling, flatten, dense)
    opaque: bool = False  # moves pixels in a way no (kernel, stride, pad) step describes

    @staticmethod
    def whole() -> ReceptiveStep:
        return ReceptiveStep((), (), (), global_=True)

    @staticmethod
    def unknown() -> ReceptiveStep:
        return ReceptiveStep((), (), (), opaque=True)


@dataclass(slots=True)
class Result:
    """What a layer's rule computes for one set of inputs: numbers only.

    `params`/`non_trainable` and the values of `ops` (by kind, see conventions.OP_KINDS) and
    `sizes` (derived sizes worth showing, e.g. a concat's channels) are `Count`s, so `--explain`
    can write their arithmetic; `windows` are the sliding-window dims the output size came from.
    `rf` None means elementwise: the receptive field is unchanged. `then` lists what the layer
    applies to its output afterwards, as another layer type would (Keras's `activation=` on a
    convolution): each convention counts it as that type."""

    shape: Tensor
    params: Count = ZERO
    non_trainable: Count = ZERO
    ops: dict[str, Count] = field(default_factory=dict)
    sizes: dict[str, Count] = field(default_factory=dict)
    windows: tuple[Dim, ...] = ()
    rf: ReceptiveStep | None = None
    warnings: tuple[str, ...] = ()
    then: tuple[Stage, ...] = ()


@dataclass(frozen=True, slots=True)
class Uncounted:
    """A counting rule (in `Layer.counting`) saying that a tool counts nothing for a layer type, and
    why: the layer counts 0 in that convention, and `cnncalc conventions NAME` says so."""

    why: str


# A layer type's rule for a convention whose tool counts none of its operations (`Layer.counting`):
# zero MACs and FLOPs, said so by `cnncalc conventions NAME` rather than left to a table that does
# not name the type.
NOT_COUNTED = {"macs": Uncounted("the tool counts no operation of this layer"),
               "flops": Uncounted("the tool counts no operation of this layer")}


def not_counted(*tools: str) -> dict[str, dict[str, Uncounted]]:
    """`Layer.counting` entries for tools that count neither MACs nor FLOPs for the layer type."""
    return {tool: NOT_COUNTED for tool in tools}


@dataclass(frozen=True, slots=True)
class Stage:
    """An elementwise layer type a layer applies to its own output, and its operation counts."""

    layer: type[Layer]
    ops: dict[str, Count]


class Layer:
    """Base class of every layer type: a declaration plus `rule`.

    name      the canonical type name in specs (`conv2d`)
    aliases   other spellings accepted for `type:`, incl. the frameworks' class names
    prefix    automatic layer names are prefix + counter (`conv1`, `conv2`, ...)
    family    how the MACs/FLOPs conventions group it (`conv`, `max_pool`, ...); defaults to `name`
    group     where the catalogue lists it (convolution, pooling, normalization, ...)
    params    the parameters, by canonical name
    min_inputs, max_inputs   how many tensors it reads (None: any number)
    rf_input  for several inputs: the one whose values it passes on (None: all, a merge)
    ndim      spatial dims of its size and padding parameters
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    prefix: ClassVar[str] = "layer"
    family: ClassVar[str] = ""
    group: ClassVar[str] = "other"  # the section of docs/layers.md and `cnncalc types` it is listed in
    doc: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    # the one input whose values a layer of several inputs passes on (a crop to another tensor's size
    # reads only the size of the other): its receptive field is that input's, stepped by `rf`
    rf_input: ClassVar[int | None] = None
    ndim: ClassVar[int] = 2
    # source of helper modules/layers the generated code defines when a mapping calls them, by name
    torch_helpers: ClassVar[dict[str, str]] = {}
    keras_helpers: ClassVar[dict[str, str]] = {}
    # per-convention rules for this type that its family's rule does not give (see conventions.py)
    counting: ClassVar[dict[str, Any]] = {}
    # the rule id of the warnings its rule returns
    warning_rule: ClassVar[str] = "stride-not-fitting"
    # the function of keras.activations this type computes, if any: Keras's activation= on other layers
    keras_name: ClassVar[str] = ""

    @classmethod
    def rule(cls, values: dict[str, Any], inputs: list[Tensor], layout: str) -> Result:
        """The output and counts for `inputs` with the checked parameter `values`; raises LayerError."""
        raise NotImplementedError

    @classmethod
    def output_warning(cls, values: dict[str, Any], inputs: list[Tensor], output: Tensor,
                       layout: str) -> tuple[str, str] | None:
        """(message, rule id) of a warning for when this layer makes the network's output (a dense layer
        applied per position: a classifier missing its flatten); None when there is nothing to say."""
        return None

    @classmethod
    def torch(cls, site: Site) -> Call:
        """The PyTorch module that computes this layer (see mapping.py); Unsupported if none."""
        raise Unsupported(f"layer type {cls.name} has no PyTorch export")

    @classmethod
    def keras(cls, site: Site) -> list[tuple[str, Call]]:
        """The Keras layers that compute this layer, as (role, call): role "" is the layer itself;
        extra layers (an explicit padding, say) get a role and the name `<layer>__<role>`."""
        raise Unsupported(f"layer type {cls.name} has no Keras export")


def need_spatial(t: Tensor, ndim: int, layer: str) -> tuple[int, ...]:
    """The spatial sizes of `t`, which must have `ndim` of them (else a worded LayerError)."""
    if len(t.spatial) != ndim:
        want = {1: "a sequence (length and channels)", 2: "an image (height, width, channels)",
                3: "a volume (depth, height, width, channels)"}[ndim]
        raise LayerError(f"{layer} needs {want} input, got a tensor of {len(t.spatial) + 1} dims "
                         f"({'flat vector' if t.flat else 'spatial'})", "shape-mismatch")
    return t.spatial
