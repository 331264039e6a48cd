"""How raw operation counts become the reported MACs and FLOPs.

Every layer reports its operations by kind (`OP_KINDS`: multiply-accumulates, bias adds,
additions, comparisons, ...). A *convention* is data: for each layer type or family it gives
the weight of each *term* (an op kind, or a size of the layer's tensors) in the reported MACs
and FLOPs. A handful of tools do something no weighted sum expresses; those few special cases
are small functions, next to the table that uses them. See docs/flops.md.

The tool conventions were measured by running each tool (versions in `Convention.verified`)
on single-layer PyTorch modules and on the shipped architectures (tests/test_conventions_oracle.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .layers.base import Uncounted

if TYPE_CHECKING:
    from .layers import Layer, Tensor

    Ops = dict[str, int]
    Special = Callable[["LayerCost"], int]
    Rule = Mapping[str, int] | Special | Uncounted

# Operation kinds a layer may report in `Out.ops` (and in JSON "ops", always in this order).
OP_KINDS = ("mac", "bias", "add", "mul", "div", "cmp", "exp", "pow", "act")

# Terms a rule can weigh besides the op kinds.
TERMS = {
    "in": "elements of the (first) input tensor",
    "out": "elements of the output tensor",
    "params": "trainable parameters of the layer",
    "affine_in": "input elements if the layer has a learned scale/shift (batch norm γ, β), else 0",
    "mac_by_output": "multiply-accumulates counted from the output side (output elements × taps reaching each); "
                     "differs from `mac` only for a transposed convolution",
}

TERM_WORDS = {"mac": "MACs", "bias": "bias adds", "add": "adds", "mul": "multiplies", "div": "divides",
              "cmp": "comparisons", "exp": "exps", "pow": "powers", "act": "activations", "in": "input elements",
              "out": "output elements", "params": "params", "affine_in": "input elements (affine)",
              "mac_by_output": "MACs (output side)"}

# Rules name a layer type, else its family (`Layer.family`, e.g. every convolution is "conv"), else "*";
# a layer type may also carry its own rule for a convention (`Layer.counting`).
@dataclass(frozen=True, slots=True)
class LayerCost:
    """What a convention may look at: the layer's type, op counts and tensors."""

    layer: type[Layer]
    ops: Mapping[str, int]
    inputs: tuple[Tensor, ...] = ()
    output: Tensor | None = None
    trainable: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    layout: str = "channels_last"  # the spec's: which axis is the last one (dense, attention)

    @property
    def type(self) -> str:
        return self.layer.name

    def term(self, name: str) -> int:
        if name in OP_KINDS:
            return self.ops.get(name, 0)
        if self.output is None or not self.inputs:
            raise ValueError(f"term {name!r} needs the layer's tensors; use Convention.count with a LayerCost")
        x, y = self.inputs[0], self.output
        if name == "in":
            return x.numel
        if name == "out":
            return y.numel
        if name == "params":
            return self.trainable
        if name == "affine_in":
            return x.numel if self.trainable else 0
        if name == "mac_by_output":
            mac = self.ops.get("mac", 0)
            if self.layer.family != "conv_transpose":
                return mac
            # mac = in_positions · C_in · (C_out/g) · k  →  out_positions · C_in · (C_out/g) · k
            return mac // math.prod(x.spatial) * math.prod(y.spatial)
        raise KeyError(f"unknown term {name!r}")


_OP_KIND_SET = frozenset(OP_KINDS)


def _apply(rule: Rule, cost: LayerCost) -> int:
    if isinstance(rule, Uncounted):
        return 0
    if callable(rule):
        return rule(cost)
    ops = cost.ops
    total = 0
    for term, weight in rule.items():
        total += weight * (ops.get(term, 0) if term in _OP_KIND_SET else cost.term(term))
    return total


@dataclass(eq=False)
class Convention:
    """A named way of turning a layer's op counts into reported MACs and FLOPs: rule tables keyed by
    layer type, family or "*" (see `rule`)."""

    name: str
    summary: str  # one line, printed by `cnncalc conventions`
    mac_rules: Mapping[str, Rule]
    flop_rules: Mapping[str, Rule] | None = None  # None: FLOPs = 2 · MACs
    verified: str = ""  # the tool version the rules were measured against

    def rule(self, what: str, layer: type[Layer]) -> Rule | None:
        """The rule for `what` ("macs" or "flops") of `layer`: the layer's own for this convention
        (`Layer.counting`), else its type's, its family's or "*" in the table. None: FLOPs = 2 · MACs."""
        own = layer.counting.get(self.name, {}).get(what)
        if own is not None:
            return own
        table = self.mac_rules if what == "macs" else self.flop_rules
        if table is None:
            return None
        for key in (layer.name, layer.family or layer.name, "*"):
            if key in table:
                return table[key]
        return {}

    def count(self, cost: LayerCost) -> tuple[int, int]:
        """(MACs, FLOPs) of one layer."""
        macs = _apply(self.rule("macs", cost.layer) or {}, cost)
        flop_rule = self.rule("flops", cost.layer)
        return macs, 2 * macs if flop_rule is None else _apply(flop_rule, cost)

    def macs(self, layer: type[Layer], ops: Ops) -> int:
        """MACs of a layer's op counts alone (rules on tensor sizes need a full LayerCost)."""
        return self.count(LayerCost(layer, ops))[0]

    def flops(self, layer: type[Layer], ops: Ops) -> int:
        return self.count(LayerCost(layer, ops))[1]


# --------------------------------------------------------------------------- special cases


def _lrn_tensor_ops(c: LayerCost) -> int:
    """3·in + (C + size − 1)·positions: the patched torch calls inside F.local_response_norm.

    ptflops and calflops count torch functions, not the LRN module: x.mul(x) (n elements), an
    avg_pool over the channel-padded squares ((C + size − 1)·positions), .mul(alpha) (n) and
    .add(k) (n), each by its input elements."""
    x = c.inputs[0]
    return 3 * x.numel + (x.c + c.params["size"] - 1) * math.prod(x.spatial)


def _thop_adaptive_avg(c: LayerCost) -> int:
    """int((Π input size / output size + 1) · out), in float64 like thop (window adds + 1 divide)."""
    x, y = c.inputs[0], c.output
    assert y is not None
    out_spatial = y.spatial or tuple(1 for _ in x.spatial)  # global pooling: 1x1
    window = 1.0
    for i, o in zip(x.spatial, out_spatial, strict=True):
        window *= i / o
    return int((window + 1) * y.numel)


def _calflops_transposed(c: LayerCost) -> int:
    """2·mac + bias adds over the positions of a *forward* conv of the input (calflops's formula).

    calflops sizes a transposed convolution's bias term with the forward-convolution output
    formula, (I + 2p − d(k − 1) − 1)//s + 1 per dim, instead of the real (larger) output."""
    x, y, p = c.inputs[0], c.output, c.params
    assert y is not None
    positions = 1
    for i, size in enumerate(x.spatial):
        pad = p["padding"][i][0] if isinstance(p["padding"], tuple) else 0
        positions *= (size + 2 * pad - (p["dilation"][i] * (p["kernel"][i] - 1) + 1)) // p["stride"][i] + 1
    return 2 * c.ops.get("mac", 0) + (y.c * positions if c.ops.get("bias") else 0)


# --------------------------------------------------------------------------- the conventions

_EVERY_OP = {k: 1 for k in OP_KINDS} | {"mac": 2}

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention(
        "cnncalc",
        "MACs: conv/dense multiply-accumulates, bias excluded (as torchvision); FLOPs: 2 per MAC + every other "
        "arithmetic op (bias adds, normalisation, pooling, activations, merges). The default.",
        mac_rules={"*": {"mac": 1}}, flop_rules={"*": _EVERY_OP}),
    Convention(
        "torchvision",
        "MACs: conv/dense multiply-accumulates, no bias: the number torchvision's model docs call \"GFLOPS\" "
        "(AlexNet 0.714, VGG-16 15.47, ResNet-50 4.089); FLOPs = 2 x MACs.",
        mac_rules={"*": {"mac": 1}}),
    Convention(
        "fvcore",
        "MACs: fvcore FlopCountAnalysis.total() (its \"flops\", one per multiply-add): conv/dense "
        "multiply-accumulates + batch norm per input element (x2 if affine) + adaptive avg pool per input "
        "element; FLOPs = 2 x MACs.",
        mac_rules={"*": {"mac": 1},
              "batch_norm": {"in": 1, "affine_in": 1},  # eval mode; training mode would differ
              "adaptive_avg_pool": {"in": 1}},  # aten::adaptive_avg_pool2d; max/avg_pool2d, ReLU are not counted
        verified="fvcore 0.1.5.post20221221"),
    Convention(
        "thop",
        "MACs: thop.profile()'s first result: conv/dense multiply-accumulates (no bias) + batch norm 2 per input "
        "element (x2 if affine) + avg pool 1 per output + adaptive avg pool (window + 1) per output + softmax; "
        "ReLU and max pool are free; FLOPs = 2 x MACs.",
        mac_rules={"*": {"mac": 1},
              "conv_transpose": {"mac_by_output": 1},  # thop uses the forward-conv formula on the output
              "batch_norm": {"in": 2, "affine_in": 2},
              "avg_pool": {"out": 1},
              "adaptive_avg_pool": _thop_adaptive_avg,
              "softmax": {"exp": 1, "add": 1, "div": 1}},  # exp n + add (n − groups) + div n
        verified="thop 0.1.1.post2209072238"),
    Convention(
        "torchinfo",
        "MACs: torchinfo's \"Total mult-adds\": a conv's weights and bias used once per output position, i.e. "
        "conv multiply-accumulates + bias adds, + the parameters of dense layers, batch norm and PReLU once each "
        "(however many positions they map); nothing else; FLOPs = 2 x MACs.",
        mac_rules={"*": {"mac": 1, "bias": 1},
              "conv_transpose": {"mac_by_output": 1, "bias": 1},  # (weights + bias) x output positions
              "batch_norm": {"params": 1}},  # a non-conv module: parameters x batch size
        verified="torchinfo 1.8.0"),
    Convention(
        "ptflops",
        "MACs: ptflops get_model_complexity_info() (pytorch backend): conv/dense multiply-accumulates + bias adds "
        "+ batch norm per input element (x2 if affine) + pooling 2 per input element + ReLU/ELU/GELU 2 and "
        "ReLU6/LeakyReLU/SiLU 1 per element + softmax + LRN; FLOPs = 2 x MACs.",
        # The doubled counts are real: ptflops hooks nn.ReLU/nn.MaxPool2d/... *and* patches the
        # torch.nn.functional call each of them makes, so both count.
        mac_rules={"*": {"mac": 1, "bias": 1},
              "batch_norm": {"in": 1, "affine_in": 1},
              "relu": {"out": 2}, "elu": {"out": 2}, "gelu": {"out": 2},
              "relu6": {"out": 1}, "leaky_relu": {"out": 1}, "silu": {"out": 1},  # one of the two hooks only
              "max_pool": {"in": 2}, "avg_pool": {"in": 2},
              "adaptive_avg_pool": {"in": 2}, "adaptive_max_pool": {"in": 2},
              "softmax": {"out": 1},
              "lrn": _lrn_tensor_ops},
        verified="ptflops 0.7.5"),
    Convention(
        "calflops",
        "calflops calculate_flops(): MACs = conv/dense multiply-accumulates; FLOPs = 2 per MAC + conv bias adds "
        "(not dense bias) + batch norm per input element (x2 if affine) + ReLU/ELU/GELU/LeakyReLU/SiLU per "
        "element + pooling per input element + softmax + LRN.",
        mac_rules={"*": {"mac": 1}},
        flop_rules={"*": {"mac": 2},  # dense: F.linear is counted as 2·in·out, its bias ignored
               "conv": {"mac": 2, "bias": 1}, "conv_transpose": _calflops_transposed,
               "batch_norm": {"in": 1, "affine_in": 1},
               "relu": {"out": 1}, "elu": {"out": 1}, "gelu": {"out": 1}, "leaky_relu": {"out": 1},
               "silu": {"out": 1},  # ReLU6 is F.hardtanh, which calflops does not patch
               "max_pool": {"in": 1}, "avg_pool": {"in": 1},
               "adaptive_avg_pool": {"in": 1}, "adaptive_max_pool": {"in": 1},
               "softmax": {"out": 1},
               "lrn": _lrn_tensor_ops},
        verified="calflops 0.3.2"),
)}
DEFAULT = "cnncalc"


def names() -> list[str]:
    return list(CONVENTIONS)


def get(name: str | None) -> Convention:
    """The convention called `name` (None: the default); ValueError names the choices."""
    key = (name or DEFAULT).strip().lower()
    if key not in CONVENTIONS:
        raise ValueError(f"unknown convention {name!r}; choose one of {', '.join(CONVENTIONS)} "
                         "(see `cnncalc conventions`)")
    return CONVENTIONS[key]


def describe(conv: Convention) -> list[str]:
    """The rule table of a convention as text lines (for `cnncalc conventions NAME`)."""
    def show(rule: Rule) -> str:
        if isinstance(rule, Uncounted):
            return "not counted"
        if callable(rule):
            return (rule.__doc__ or rule.__name__).split("\n")[0].strip()
        return " + ".join(f"{w}·{t}" if w != 1 else t for t, w in rule.items()) or "not counted"

    lines = [f"{conv.name}: {conv.summary}"]
    if conv.verified:
        lines.append(f"  verified against {conv.verified}")
    for title, table in (("MACs", conv.mac_rules), ("FLOPs", conv.flop_rules)):
        if table is None:
            lines.append(f"  {title} = 2 · MACs")
            continue
        lines.append(f"  {title} per layer (first match: type, family, *):")
        for key, rule in table.items():
            lines.append(f"    {key:<18} {show(rule)}")
    from .layers import all_types

    # the layer types' own rules, which come before the tables
    own = {name: {what: show(rule) for what, rule in cls.counting[conv.name].items()}
           for name, cls in all_types().items() if conv.name in cls.counting}
    uncounted = sorted(name for name, shown in own.items() if set(shown.values()) == {"not counted"})
    for name, shown in own.items():
        if name not in uncounted:
            lines += [f"  {name} {what}: {text}" for what, text in shown.items()]
    if uncounted:
        import textwrap

        lines += textwrap.wrap(f"not counted (0, the tool does not see an operation): {', '.join(uncounted)}",
                               100, initial_indent="  ", subsequent_indent="    ")
    return lines
