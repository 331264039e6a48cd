"""render/jsontext.dumps writes exactly what json.dumps(indent=2) writes."""

from __future__ import annotations

import json
import math

import pytest
from conftest import ARCH
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import render
from cnncalc.render.jsontext import dumps

SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True)
           | st.text(st.characters(), max_size=8) | st.sampled_from([math.inf, -math.inf, -0.0, 1e300, 5e-324]))
TREES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4) | st.tuples(kids, kids)
                     | st.dictionaries(st.text(max_size=5), kids, max_size=4), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(TREES, st.booleans())
def test_same_text_as_json(tree, ascii_only):
    assert dumps(tree, ensure_ascii=ascii_only) == json.dumps(tree, indent=2, ensure_ascii=ascii_only)


@pytest.mark.parametrize("odd", [{1: "int key"}, {"a": {(1, 2)}}, [b"bytes"], {"deep": [[[[[]]]]]}])
def test_other_types_go_to_json_itself(odd):
    try:
        want = json.dumps(odd, indent=2)
    except TypeError:
        with pytest.raises(TypeError):
            dumps(odd)
    else:
        assert dumps(odd) == want


@pytest.mark.parametrize("path", sorted(ARCH.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_architecture(path):
    doc = render.json_doc(cnncalc.analyse(path))
    assert render.to_json(cnncalc.analyse(path)) == json.dumps(doc, indent=2)
