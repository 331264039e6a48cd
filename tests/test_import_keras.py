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


HELPERS = """
name: helpers
input: [32, 32, 3]
layers:
  - {type: patch_embedding, name: embed, dim: 16, patch: 8, class_token: true, position_embedding: true}
  - {type: layer_norm, name: ln, axis: [1, 2]}
  - {type: multi_head_attention, name: attn, heads: 4}
  - {type: layer_scale, name: ls}
  - {type: gelu, name: act, approximate: tanh}
  - {type: select_token, name: cls}
  - {type: celu, name: c, alpha: 2.0}
"""
DROP = object()  # the field left out


@pytest.fixture(scope="module")
def helpers_config():  # type: ignore[no-untyped-def]
    """The Keras config of cnncalc's helper layers (PatchEmbedding, SelfAttention, LayerScale, SelectToken,
    ActivationFunction) as model.to_json() writes it."""
    import json

    e = export(cnncalc.analyse(cnncalc.loads(HELPERS, "helpers.yaml")), "keras")
    module = load_module(e.code, "cnncalc_export_keras_helpers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(module, e.builder)()
    return json.loads(model.to_json())


def edited(config, tmp_path, cls, field, value):  # type: ignore[no-untyped-def]
    import copy
    import json

    config = copy.deepcopy(config)
    layer = next(lc for lc in config["config"]["layers"] if lc["class_name"] == cls)
    if value is DROP:
        del layer["config"][field]
    else:
        layer["config"][field] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path, f"layer {config['config']['layers'].index(layer)} ({cls} {layer['config']['name']!r})"


@pytest.mark.parametrize(("cls", "field", "value", "why"), [
    ("SelfAttention", "num_heads", DROP, "its config has no 'num_heads'"),
    ("SelfAttention", "key_dim", DROP, "its config has no 'key_dim'"),
    ("SelfAttention", "output_shape", "x", "ValueError"),
    ("SelfAttention", "dropout", "a", "ValueError"),
    ("SelfAttention", "attention_axes", "x", "ValueError"),
    ("PatchEmbedding", "dim", DROP, "its config has no 'dim'"),
    ("LayerScale", "projection_dim", DROP, "its config has no 'projection_dim'"),
    ("ActivationFunction", "arguments", [1], "TypeError"),
    ("ActivationFunction", "arguments", "s", "ValueError"),
])
def test_a_keras_helper_config_missing_a_field_or_of_the_wrong_type_is_a_located_error(
        helpers_config, tmp_path, cls, field, value, why):
    """Keras itself cannot load such a layer; the import names it, in one line, never a traceback."""
    from cnncalc.importers.model import ImportFailure

    path, where = edited(helpers_config, tmp_path, cls, field, value)
    with pytest.raises(ImportFailure) as err:
        importers.read(str(path))
    message = err.value.diagnostics[0].message
    assert message.startswith(f"{where}: ") and why in message and "\n" not in message, message


@pytest.mark.parametrize(("cls", "field", "value", "why"), [
    ("SelfAttention", "num_heads", 10**12, "heads 1000000000000 is too large"),
    ("SelfAttention", "key_dim", -1, "key_dim must be a positive integer, got -1"),
    ("SelfAttention", "num_heads", "4", "heads must be a positive integer, got '4'"),
    ("PatchEmbedding", "dim", 10**12, "dim 1000000000000 is too large"),
    ("LayerScale", "projection_dim", 17, "projection_dim 17, but the scaled axis of 17x16 has 16"),
    ("LayerScale", "axis", 5, "axis 5 does not exist"),
    ("SelectToken", "index", 100, "index 100 is not one of the 17 tokens"),
    ("SelectToken", "index", 10**30, "is too large"),
])
def test_absurd_sizes_in_a_keras_config_are_refused_at_their_layer(helpers_config, tmp_path, cls, field, value, why):
    """Sizes no layer can have are the file's fault: the message names its layer, not a cnncalc bug."""
    from cnncalc.importers.model import ImportFailure

    path, where = edited(helpers_config, tmp_path, cls, field, value)
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(importers.read(str(path)))
    message = err.value.diagnostics[0].message
    assert message.startswith(f"{where}: ") and why in message and "bug" not in message, message


def _history(value):  # type: ignore[no-untyped-def]
    def edit(layers):  # type: ignore[no-untyped-def]
        layers[2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = value
    return edit


@pytest.mark.parametrize("edit", [
    _history(["embed", "a", 0]), _history(["embed"]), _history({"a": 1}),
    lambda layers: layers[0]["config"].__setitem__("batch_shape", [None, "a", 32, 3]),
    lambda layers: layers[3].__setitem__("config", 5),
    lambda layers: layers[3].__setitem__("inbound_nodes", 5),
    lambda layers: layers[3].__setitem__("inbound_nodes", ["abc"]),
    lambda layers: layers[3].__setitem__("class_name", [1]),
    lambda layers: layers[1]["config"].__setitem__("data_format", [1]),
], ids=["history-index", "history-short", "history-dict", "batch-shape", "config", "inbound",
        "inbound-str", "class-name", "data-format"])
def test_a_damaged_keras_config_is_one_line_never_a_traceback(helpers_config, tmp_path, edit):
    import copy
    import json

    from cnncalc.importers.model import ImportFailure

    config = copy.deepcopy(helpers_config)
    edit(config["config"]["layers"])
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(importers.read(str(path)))
    message = err.value.diagnostics[0].message
    assert "\n" not in message and "bug" not in message, message
    assert message.startswith("layer ") or "config" in message, message  # the damaged layer, or the config


@pytest.mark.parametrize(("shape", "why"), [([None, -32, 32, 3], "-32"), ([None, 10**9, 10**9, 3], "between 1 and 16777216")])
def test_input_sizes_no_model_can_have_are_refused_as_the_model_s(helpers_config, tmp_path, shape, why):
    import copy
    import json

    from cnncalc.importers.model import ImportFailure

    config = copy.deepcopy(helpers_config)
    config["config"]["layers"][0]["config"]["batch_shape"] = shape
    path = tmp_path / "sizes.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(importers.read(str(path)))
    message = err.value.diagnostics[0].message
    assert why in message and "input" in message and "bug" not in message, message


def _nested_model():  # type: ignore[no-untyped-def]
    """A classifier of models used as layers: a Sequential stem, a Functional block of two inputs (a Sequential
    inside it, and Keras's own ConvNeXt LayerScale and StochasticDepth) called twice, a Sequential head."""
    from keras import layers
    from keras.src.applications.convnext import LayerScale, StochasticDepth

    stem = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 3, padding="same", name="conv"),
                             layers.BatchNormalization(name="bn"), layers.ReLU(name="relu")], name="stem")
    a, b = keras.Input((16, 16, 8), name="a"), keras.Input((16, 16, 8), name="b")
    branch = keras.Sequential([layers.DepthwiseConv2D(3, padding="same", name="dw"), layers.Dense(16, name="fc1"),
                               layers.Dense(8, name="fc2")], name="branch")
    x = StochasticDepth(0.1, name="drop")(LayerScale(1e-6, 8, name="scale")(branch(a)))
    block = keras.Model([a, b], layers.Add(name="sum")([x, b]), name="block")
    img = keras.Input((16, 16, 3), name="img")
    y = stem(img)
    y = block([block([y, y]), y])
    head = keras.Sequential([layers.GlobalAveragePooling2D(name="pool"), layers.Dense(10, name="fc")], name="head")
    return keras.Model(img, head(y), name="outer")


@pytest.mark.parametrize("source", ["model", "json", "keras"])
def test_nested_models_are_read_as_their_layers(source, tmp_path):
    """A model used as a layer is read as its layers, `<model>.<layer>`; one called twice is its layers
    called twice, the same weights (`share:`). Totals equal Keras's count_params() and the MACs torch
    counts; the imported spec passes verify in Keras."""
    import torch
    from test_import_real import flop_macs

    from cnncalc.importers.keras_reader import from_config
    from cnncalc.importers.model import Options

    model = _nested_model()
    if source == "model":
        imp = from_config(model.get_config(), "outer", Options(), "Keras", model=model)
    else:
        path = tmp_path / f"outer.{source}"
        model.save(path) if source == "keras" else path.write_text(model.to_json(), encoding="utf-8")
        imp = importers.read(str(path))
    text, a = importers.to_spec(imp)
    assert [(n.name, n.type, n.shares) for n in imp.nodes] == [
        ("stem.conv", "conv2d", ""), ("stem.bn", "batch_norm", ""), ("stem.relu", "relu", ""),
        ("block.branch.dw", "depthwise_conv2d", ""), ("block.branch.fc1", "dense", ""),
        ("block.branch.fc2", "dense", ""), ("block.scale", "layer_scale", ""), ("block.drop", "dropout", ""),
        ("block.sum", "add", ""),
        ("block.branch.dw_1", "depthwise_conv2d", "block.branch.dw"), ("block.branch.fc1_1", "dense", "block.branch.fc1"),
        ("block.branch.fc2_1", "dense", "block.branch.fc2"), ("block.scale_1", "layer_scale", "block.scale"),
        ("block.drop_1", "dropout", "block.drop"), ("block.sum_1", "add", "block.sum"),
        ("head.pool", "global_avg_pool2d", ""), ("head.fc", "dense", "")]
    assert imp.nodes[8].inputs == ["block.drop", "stem.relu"] and imp.nodes[9].inputs == ["block.sum"]
    assert imp.nodes[14].inputs == ["block.drop_1", "stem.relu"]
    t = a.totals
    assert (t["params"], t["trainable_params"]) == (model.count_params(), sum(int(torch.numel(w.value)) for w in
                                                                              model.trainable_weights)) == (714, 698)
    assert t["macs"] == flop_macs(lambda: model(torch.zeros(1, 16, 16, 3), training=False)) == 223_312  # conv 55,296; per block call 83,968; fc 80
    assert a.layer("block.sum_1").macs == 0 and a.layer("block.branch.fc1_1").macs == 256 * 8 * 16
    assert verify(a, "keras").ok


def test_nested_model_outputs_are_the_layers_that_compute_them(tmp_path):
    """A nested Functional of two outputs called twice, its outputs read by a layer and returned by the
    model (Keras's output_layers count a Functional's own node: its second call is node 2 there), and a
    nested Sequential returned."""
    from keras import layers

    i = keras.Input((8,), name="i")
    two = keras.Model(i, [layers.Dense(4, name="a")(i), layers.Dense(3, name="b")(i)], name="two")
    x = keras.Input((8,), name="x")
    (p, q), (p2, q2) = two(x), two(x)
    y = layers.Concatenate(name="cat")([q, p2])
    model = keras.Model(x, [y, p, q2, keras.Sequential([layers.Dense(5, name="d")], name="seq")(y)], name="m")
    assert model.get_config()["output_layers"] == [["cat", 0, 0], ["two", 1, 0], ["two", 2, 1], ["seq", 0, 0]]
    path = tmp_path / "m.json"
    path.write_text(model.to_json(), encoding="utf-8")
    imp = importers.read(str(path))
    assert imp.outputs == ["cat", "two.a", "two.b_1", "seq.d"]
    assert [(n.name, n.shares) for n in imp.nodes] == [("two.a", ""), ("two.a_1", "two.a"), ("two.b", ""),
                                                       ("two.b_1", "two.b"), ("cat", ""), ("seq.d", "")]
    assert imp.nodes[4].inputs == ["two.b", "two.a_1"]
    _, a = importers.to_spec(imp)
    assert a.totals["params"] == model.count_params() == 103
    assert verify(a, "keras").ok


def test_nested_models_deeper_than_the_limit_are_an_error(tmp_path):
    from keras import layers

    from cnncalc.importers.keras_reader import MAX_NESTING
    from cnncalc.importers.model import ImportFailure

    def nest(depth: int):  # type: ignore[no-untyped-def]
        model = keras.Sequential([keras.Input((4,)), layers.Dense(2, name="fc")], name="m0")
        for i in range(1, depth + 1):
            model = keras.Sequential([keras.Input((4,)), model], name=f"m{i}")
        return model

    path = tmp_path / "deep.json"
    path.write_text(nest(MAX_NESTING).to_json(), encoding="utf-8")
    imp = importers.read(str(path))
    assert [n.name for n in imp.nodes] == [".".join(f"m{i}" for i in range(MAX_NESTING - 1, -1, -1)) + ".fc"]
    assert importers.to_spec(imp)[1].totals["params"] == 10
    path.write_text(nest(MAX_NESTING + 1).to_json(), encoding="utf-8")
    with pytest.raises(ImportFailure, match=r"deep\.json:1:1: error: layer 1 \(Sequential 'm32\.m31\..*\.m1\.m0'\): "
                                            r"models nested more than 32 deep"):
        importers.read(str(path))


def test_nested_model_called_beyond_the_node_limit_is_an_error(tmp_path, monkeypatch):
    from keras import layers

    from cnncalc.importers import keras_reader
    from cnncalc.importers.model import ImportFailure

    inner = keras.Sequential([keras.Input((4,)), layers.Dense(4, name="fc"), layers.ReLU(name="relu")], name="inner")
    x = y = keras.Input((4,), name="x")
    for _ in range(6):
        y = inner(y)
    path = tmp_path / "calls.json"
    path.write_text(keras.Model(x, y).to_json(), encoding="utf-8")
    assert len(importers.read(str(path)).nodes) == 12
    monkeypatch.setattr(keras_reader, "MAX_NODES", 11)
    with pytest.raises(ImportFailure, match=r"calls\.json:1:1: error: the nested models expand to 12 layer calls, "
                                            r"more than the 11 cnncalc imports"):
        importers.read(str(path))
    monkeypatch.setattr(keras_reader, "MAX_NODES", 2)  # the work of every level of nesting is bounded as it goes
    with pytest.raises(ImportFailure, match=r"layer 1 \(Sequential 'inner'\): the nested models expand to more than "
                                            r"the 2 layer calls"):
        importers.read(str(path))


@pytest.mark.parametrize("old, new, message", [
    ('"keras_history": ["a", 0, 0]', '"keras_history": ["a", "0", 0]',
     r"layer 1 \(Sequential 'block\.branch'\): \['a', '0', 0\] is not a tensor reference"),
    ('"keras_history": ["stem", 0, 0]', '"keras_history": ["stem", true, 0]',
     r"layer 2 \(Functional 'block'\): \['stem', True, 0\] is not a tensor reference"),
    ('"output_layers": ["sum", 0, 0]', '"output_layers": ["nothing", 0, 0]',
     r"layer 2 \(Functional 'block'\): a layer inside it reads 'nothing', which is not one of its layers")])
def test_damaged_nested_model_config_is_a_located_error(old, new, message, tmp_path):
    from cnncalc.importers.model import ImportFailure

    text = _nested_model().to_json()
    assert old in text
    path = tmp_path / "damaged.json"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ImportFailure, match=r"damaged\.json:1:1: error: " + message):
        importers.read(str(path))
