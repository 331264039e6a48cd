"""Spec text reaches every output as text, never as commands: names that would forge CI annotations,
terminal escapes, markup or markup-like syntax are refused or escaped."""

from __future__ import annotations

import pytest

import cnncalc


def first_error(text: str) -> cnncalc.Diagnostic:
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.loads(text, "bad.yaml")
    return info.value.first


def test_a_block_name_follows_the_layer_name_rule():
    """Unnamed uses of a block are named after it: a newline there would forge lines of lint output."""
    d = first_error('input: [4, 4, 2]\nblocks:\n  "b\\n::error::forged": {layers: [relu]}\n'
                    'layers:\n  - {block: "b\\n::error::forged"}\n')
    assert (d.rule, d.loc.line, d.loc.col) == ("invalid-value", 3, 3)
    assert d.message == "block name must be letters, digits, '_', '.' or '-' (not starting with '.' or '-'), " \
                        "got 'b\\n::error::forged'"
