"""Never a silent zero: in every tool preset, each layer type that computes something is either counted
by a rule (the type's own or the convention table's) or declared not counted by that tool, so that
`cnncalc conventions TOOL` names it. The tool presets' rules themselves are measured against the tools
in the tests/test_conventions_oracle*.py files."""

from __future__ import annotations

import pytest

from cnncalc import conventions
from cnncalc.layers import all_types
from cnncalc.layers.base import Uncounted

TOOLS = ("fvcore", "thop", "torchinfo", "ptflops", "calflops")

# Types whose only operations are their weights' multiply-accumulates (and bias adds): every
# convention's "*: mac" rule counts them.
WEIGHTED = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
            "depthwise_conv2d", "separable_conv2d", "dense", "patch_embedding"}
# Types that compute nothing in cnncalc's own convention either (a view, an index, a no-op at
# inference) and `opaque`, whose zero is warned about in every output.
NOTHING = {"flatten", "reshape", "identity", "dropout", "select_token", "opaque"}


def declared(conv: conventions.Convention, cls) -> bool:
    own = cls.counting.get(conv.name, {})
    if own:  # the type's own rule for this tool, an empty one included: written down, not defaulted
        return True
    tables = [conv.mac_rules or {}, conv.flop_rules or {}]
    return any(key in t for t in tables for key in (cls.name, cls.family or cls.name)) or any(
        isinstance(r, Uncounted) or callable(r) for r in (conv.rule(w, cls) for w in ("macs", "flops")))


@pytest.mark.parametrize("tool", TOOLS)
def test_every_type_is_counted_or_said_not_to_be(tool):
    conv = conventions.get(tool)
    silent = [cls.name for cls in all_types().values()
              if cls.name not in WEIGHTED | NOTHING and not declared(conv, cls)]
    assert silent == [], f"{tool} falls to a default zero for {silent}"


def test_the_lists_above_name_real_types():
    names = set(all_types())
    assert WEIGHTED | NOTHING <= names


@pytest.mark.parametrize("tool", TOOLS)
def test_conventions_command_names_every_uncounted_type(tool):
    conv = conventions.get(tool)
    text = " ".join(conventions.describe(conv))
    listed = {n.strip(" ,") for n in text.split("not counted (0, the tool does not see an operation):", 1)[1].split()}
    for cls in all_types().values():
        rules = [conv.rule(w, cls) for w in ("macs", "flops")]
        if all(isinstance(r, Uncounted) for r in rules):
            assert cls.name in listed, (tool, cls.name)
