"""Round trip through Keras: each shipped architecture exported as Keras code, built, saved (a .keras
archive, or its JSON config for the largest), imported back. The imported spec must analyse to the
original's per-layer shapes, params and MACs, matched through the export's layer names (cnncalc's
`<layer>__<role>` extra layers are read back into their layer), and pass `verify` in Keras; Keras itself
loads the saved model again (cnncalc's own layers from their configs)."""

from __future__ import annotations

import os
import warnings

import pytest
from conftest import ARCH
from test_import_onnx import call_names

import cnncalc
from cnncalc import importers
from cnncalc.export import export
from cnncalc.export.verify import load_module, verify

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

# what the importers do not read yet (strict: each mark fails once they do, and must go)
PENDING: dict[str, str] = {}
ARCHS = [pytest.param(a, marks=pytest.mark.xfail(strict=True, reason=PENDING[a])) if a in PENDING else a
         for a in sorted(p.stem for p in ARCH.glob("*.yaml"))]
LARGE = 30_000_000  # params: saved as the JSON config only, not a weights archive


@pytest.mark.parametrize("arch", ARCHS)
def test_round_trip_through_keras(arch, tmp_path):
    a = cnncalc.analyse(ARCH / f"{arch}.yaml")
    e = export(a, "keras")
    module = load_module(e.code, "cnncalc_export_keras_rt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(module, e.builder)()
    if a.totals["params"] > LARGE:
        path = tmp_path / f"{arch}.json"
        path.write_text(model.to_json(), encoding="utf-8")
    else:
        path = tmp_path / f"{arch}.keras"
        model.save(path)
    imp = importers.read(str(path))
    assert imp.layout == a.layout
    text, b = importers.to_spec(imp)
    by_name = {layer.name: layer for layer in b.layers}
    names = call_names(a, e.names)  # a Keras layer called again (`share:`) is read back as `<layer>_<call>`
    for layer in a.layers:
        got = by_name[names[layer.name]]
        assert (got.output_shape, got.trainable_params, got.non_trainable_params, got.macs) == \
            (layer.output_shape, layer.trainable_params, layer.non_trainable_params, layer.macs), layer.name
    assert len(b.layers) == len(a.layers)
    assert b.totals["params"] == a.totals["params"] == (model.count_params() if path.suffix == ".keras"
                                                        else a.totals["params"])
    report = verify(b, "keras")
    assert report.ok, [r.name for r in report.mismatches]
    # Keras rebuilds the saved model, cnncalc's own layers from their get_config (weights loaded from the archive)
    custom = {n: c for n, c in vars(module).items() if isinstance(c, type) and issubclass(c, keras.layers.Layer)}
    if not custom:
        return  # Keras's own layers only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = keras.saving.load_model(path, custom_objects=custom) if path.suffix == ".keras" else \
            keras.models.model_from_json(path.read_text(encoding="utf-8"), custom_objects=custom)
    assert again.count_params() == model.count_params() == a.totals["params"]
