"""The JSON Schema is generated from the layer registry: every shipped spec validates, mistakes don't."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.layers import all_types
from cnncalc.schema import build

jsonschema = pytest.importorskip("jsonschema")
ARCH = Path(__file__).resolve().parent.parent / "architectures"


@pytest.fixture(scope="module")
def validator():
    schema = build()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def valid(validator, text: str) -> bool:
    return validator.is_valid(yaml.safe_load(text))


@pytest.mark.parametrize("path", sorted(ARCH.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_architectures_validate(validator, path):
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_every_layer_type_and_param_is_in_the_schema():
    defs = build()["definitions"]
    for name, cls in all_types().items():
        props = defs[f"layer_{name}"]["properties"]
        assert set(props["type"]["examples"]) == {name, *cls.aliases}
        for pname, p in cls.params.items():
            for key in (pname, *p.aliases):
                assert key in props, (name, key)


@pytest.mark.parametrize("text", [
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 5, padding: 2}\n",
    "input: 32x32x3\nlayers:\n  - {type: conv, out_channels: 10, kernel_size: 5, padding: same}\n",  # aliases
    "input: [8, 8, 3]\nparams: {k: 3}\nlayers:\n  - {type: conv2d, filters: $k, kernel: '${k + 2}', stride: [1, $k]}\n",
    "input: [8, 8, 3]\nlayers: [relu, flatten, {type: dense, units: 10, expect: {output_shape: 10, params: 1930}}]\n",
])
def test_accepts(validator, text):
    assert valid(validator, text)


@pytest.mark.parametrize("text", [
    "input: [32, 32, 3]\nlayers:\n  - {type: conv4d, filters: 10, kernel: 5}\n",       # unknown type
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernal: 5}\n",       # unknown param
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10}\n",                  # missing kernel
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 2.5}\n",     # float kernel
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: 10, kernel: 3, stride: -1}\n",
    "input: [32, 32, 3]\nlayers:\n  - {type: conv2d, filters: true, kernel: 3}\n",
    "input: [32, 32, 3]\nlayers:\n  - {type: dense, units: 10, expect: {parms: 1}}\n",
    "input: [32, 32, 3]\nlayers: [conv2d]\n",                                           # needs filters, kernel
    "input: [32, 32, 3]\nlayer: [relu]\nlayers: [relu]\n",
    "layers: [relu]\n",
])
def test_rejects(validator, text):
    assert not valid(validator, text)


def test_schema_command(tmp_path):
    r = CliRunner().invoke(main, ["schema"])
    assert r.exit_code == 0 and json.loads(r.stdout) == build()
    out = tmp_path / "cnncalc.schema.json"
    assert CliRunner().invoke(main, ["schema", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == build()
