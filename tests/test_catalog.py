"""The catalogue of layer types is written from the declarations: docs/layers.md is current, and
every name it lists is one the parser accepts."""

from __future__ import annotations

from pathlib import Path

import cnncalc
from cnncalc import catalog
from cnncalc.layers import all_types, lookup

ROOT = Path(__file__).resolve().parent.parent


def test_docs_layers_md_is_generated_from_the_declarations():
    assert (ROOT / "docs" / "layers.md").read_text(encoding="utf-8") == catalog.markdown(), \
        "regenerate it: cnncalc types --format markdown > docs/layers.md"


def test_every_listed_name_and_alias_is_accepted_by_the_parser():
    for name, cls in all_types().items():
        assert f"### `{name}`" in catalog.markdown()
        for spelling in (name, *cls.aliases, name.upper()):
            assert lookup(spelling) is cls, spelling
            if not any(p.required for p in cls.params.values()):  # a bare type name is a layer
                net = cnncalc.loads(f"input: [8, 8, 4]\nlayers:\n  - {spelling}\n", "t.yaml")
                assert net.layers[0].type is cls, spelling


def test_the_text_catalogue_lists_every_parameter_with_its_default():
    text = catalog.text()
    assert "conv2d (aliases: conv, Conv2d, Conv2D, Convolution2D): 2-D convolution" in text
    assert "    stride [strides]: default 1 - step between windows" in text
    assert "    filters [out_channels]: required - number of filters (output channels)" in text
    assert "    bias [use_bias]: default true - true, false or per_position" in text
