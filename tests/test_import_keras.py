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

ARCHS = sorted(p.stem for p in ARCH.glob("*.yaml"))  # every shipped architecture
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


def test_activation_functions_with_arguments_save_load_and_import(tmp_path):
    """An activation whose arguments keras.layers.Activation cannot pass on is exported as cnncalc's
    ActivationFunction; Keras loads the saved archive again, the outputs equal the original's, and the
    import reads each back with its spec parameters."""
    import numpy as np

    text = ("name: acts\ninput: 6x6x3\nlayers:\n"
            "  - {type: celu, name: c, alpha: 0.5}\n"
            "  - {type: threshold, name: t, threshold: 0.1, value: 20.0}\n"
            "  - {type: hardshrink, name: h, lambd: 0.25}\n"
            "  - {type: softshrink, name: s}\n"
            "  - {type: gelu, name: g, approximate: tanh}\n"
            "  - {type: log_softmax, name: l, axis: 1}\n")
    a = cnncalc.analyse(cnncalc.loads(text, "acts.yaml"))
    e = export(a, "keras")
    assert e.code.count("ActivationFunction(") == 6  # the class and five layers; softshrink's default is plain
    module = load_module(e.code, "cnncalc_export_keras_acts")
    model = getattr(module, e.builder)()
    path = tmp_path / "acts.keras"
    model.save(path)
    again = keras.saving.load_model(path, custom_objects={"ActivationFunction": module.ActivationFunction})
    assert [type(layer).__name__ for layer in again.layers[1:]] == ["ActivationFunction"] * 3 + ["Activation"] + ["ActivationFunction"] * 2
    x = np.linspace(-2, 2, 108, dtype="float32").reshape(1, 6, 6, 3)
    assert np.array_equal(keras.ops.convert_to_numpy(again(x)), keras.ops.convert_to_numpy(model(x)))
    text_back, b = importers.to_spec(importers.read(str(path)))
    layers = cnncalc.loads(text_back, "back.yaml").layers
    assert [(layer.type.name, {k: v for k, v in layer.params.items() if k in ("alpha", "threshold", "value", "lambd", "axis")})
            for layer in layers] == [("celu", {"alpha": 0.5}), ("threshold", {"threshold": 0.1, "value": 20.0}),
                                     ("hardshrink", {"lambd": 0.25}), ("softshrink", {"lambd": 0.5}),
                                     ("gelu", {}), ("log_softmax", {"axis": 1})]
    assert [layer.params.get("approximate") for layer in layers][-2:] == ["tanh", None]
    assert verify(b, "keras").ok
