"""Activations against real PyTorch and Keras: every type's output shape and learned parameters over
a grid of inputs and layouts, PReLU's slopes in both frameworks' terms, the values the exported
layers compute (the PyTorch module and the Keras layer cnncalc writes for one type agree), and
Keras's `activation=` on convolutions and dense layers with the new names."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import numpy as np  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.export.verify import load_module, verify  # noqa: E402
from cnncalc.layers import all_types  # noqa: E402
from cnncalc.layers.activations import ACTIVATION_FUNCTION_KERAS, Activation  # noqa: E402
from cnncalc.layers.mapping import Site  # noqa: E402
from cnncalc.layers.softmax import LogSoftmax, Softmax  # noqa: E402

SHAPES = [(7,), (5, 6), (4, 5, 6)]  # channels first: a vector, a sequence, an image
# a value for each required parameter, and a non-default one for each optional parameter
SETTINGS = {"threshold": {"threshold": 0.1, "value": 20.0}, "leaky_relu": {"negative_slope": 0.2},
            "elu": {"alpha": 0.5}, "celu": {"alpha": 2.0}, "gelu": {"approximate": "tanh"},
            "hardtanh": {"min_val": -2.0, "max_val": 3.0}, "softplus": {"beta": 2.0, "threshold": 10.0},
            "hardshrink": {"lambd": 0.3}, "softshrink": {"lambd": 0.7}}
KERAS_LACKS = {"hardtanh", "softplus"}  # their non-default settings have no Keras form (export says so)


def elementwise() -> list[type]:
    return [c for c in all_types().values() if issubclass(c, Activation) and c.name != "prelu"]


def one(layer: str, dims: tuple[int, ...], layout: str = "channels_first"):
    a = cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n  - {layer}\n", "t.yaml"))
    return a.layers[0]


def flow(values: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"


def torch_module(cls, values):
    call = cls.torch(Site(values, [], None, "channels_first"))  # type: ignore[arg-type]
    args = [a.value for a in call.args if a.positional]
    kwargs = {a.name: a.value for a in call.args if not a.positional}
    return getattr(torch.nn, call.func.removeprefix("nn."))(*args, **kwargs)


def keras_layer(cls, values, x_shape):
    from cnncalc.layers.tensor import Tensor

    site = Site(values, [Tensor.from_dims(x_shape, "channels_last")], None, "channels_last")  # type: ignore[arg-type]
    [(_, call)] = cls.keras(site)
    helpers = {"keras": keras, "layers": keras.layers}
    exec(ACTIVATION_FUNCTION_KERAS, helpers)  # noqa: S102 - cnncalc's own export helper
    args = [a.value for a in call.args if a.positional]
    kwargs = {a.name: a.value for a in call.args if not a.positional}
    factory = helpers["ActivationFunction"] if call.func == "ActivationFunction" else \
        getattr(keras.layers, call.func.removeprefix("layers."))
    return factory(*args, **kwargs)


def checked(cls, given: dict) -> dict:
    values = {k: p.default for k, p in cls.params.items()}
    values.update(given)
    return values


@pytest.mark.parametrize("cls", elementwise(), ids=lambda c: c.name)
@pytest.mark.parametrize("dims", SHAPES, ids=len)
def test_shape_and_no_weights_as_torch(cls, dims):
    given = SETTINGS.get(cls.name, {})
    module = torch_module(cls, checked(cls, given))
    y = module.to("meta")(torch.zeros(2, *dims, device="meta"))
    got = one(flow({"type": cls.name, **given}), dims)
    assert (got.output_shape, got.trainable_params, got.non_trainable_params) == \
        (tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), 0)
    assert got.to_dict()["ops"]["act"] == int(np.prod(dims))


@pytest.mark.parametrize("cls", elementwise(), ids=lambda c: c.name)
def test_the_keras_layer_computes_what_the_torch_module_does(cls):
    """The export mappings of one type mean the same function in both frameworks."""
    given = {} if cls.name in KERAS_LACKS else SETTINGS.get(cls.name, {})
    values = checked(cls, given)
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32") * 3
    ref = torch_module(cls, values)(torch.from_numpy(x.copy())).numpy()
    ours = keras.ops.convert_to_numpy(keras_layer(cls, values, x.shape[1:])(x))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(KERAS_LACKS))
def test_settings_keras_cannot_compute_are_refused_in_keras_export(name):
    from cnncalc.errors import Unsupported

    cls = all_types()[name]
    with pytest.raises(Unsupported):
        keras_layer(cls, checked(cls, SETTINGS[name]), (4, 5, 3))


@pytest.mark.parametrize("cls,axis", [(Softmax, -1), (Softmax, 1), (LogSoftmax, -1), (LogSoftmax, 1), (LogSoftmax, 2)])
def test_softmax_axes_compute_what_torch_does(cls, axis):
    """On a channels-last spec: the Keras layer on (N, H, W, C), PyTorch on (N, C, H, W)."""
    site_values = {"axis": axis}
    from cnncalc.layers.tensor import Tensor

    site = Site(site_values, [Tensor(5, (3, 4))], Tensor(5, (3, 4)), "channels_last")
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype("float32")
    call = cls.torch(site)
    module = getattr(torch.nn, call.func.removeprefix("nn."))(**{a.name: a.value for a in call.args})
    ref = module(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    ours = keras.ops.convert_to_numpy(keras_layer(cls, site_values, (3, 4, 5))(x))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    a = one(f"{{type: {cls.name}, axis: {axis}}}", (3, 4, 5), "channels_last")
    groups = 60 // (3, 4, 5)[axis if axis < 0 else axis - 1]
    ops = a.to_dict()["ops"]
    if cls is Softmax:
        assert (ops["exp"], ops["add"], ops["div"]) == (60, 60 - groups, 60)
    else:  # exps and one log per group; sums and one subtraction per element
        assert (ops["exp"], ops["add"]) == (60 + groups, 60 - groups + 60)


# PReLU: (spec, dims in the layout, layout) → the slopes PyTorch or Keras learn
PRELU = [("prelu", (4, 5, 6), "channels_first"), ("{type: prelu, num_parameters: 4}", (4, 5, 6), "channels_first"),
         ("{type: prelu, num_parameters: 6}", (4, 5, 6), "channels_last"),
         ("{type: prelu, num_parameters: 9}", (9,), "channels_first"),
         ("{type: prelu, shared_axes: []}", (4, 5, 6), "channels_last"),
         ("{type: prelu, shared_axes: [1, 2]}", (4, 5, 6), "channels_last"),
         ("{type: prelu, shared_axes: [2, 3]}", (4, 5, 6), "channels_first"),
         ("{type: prelu, shared_axes: [1]}", (5, 6), "channels_last"),
         ("{type: prelu, shared_axes: [3]}", (4, 5, 6), "channels_last")]


@pytest.mark.parametrize("spec,dims,layout", PRELU)
def test_prelu_slopes_equal_keras(spec, dims, layout):
    got = one(spec, dims, layout)
    a = cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n  - {spec}\n", "p.yaml"))
    assert verify(a, "keras").mismatches == []
    model = load_module(__import__("cnncalc.export", fromlist=["export"]).export(a, "keras").code, "p").build_model()
    assert got.trainable_params == model.count_params()


@pytest.mark.parametrize("spec,dims,layout", PRELU)
def test_prelu_slopes_equal_torch_where_it_can_learn_them(spec, dims, layout):
    """PyTorch learns one slope or one per channel; cnncalc's export refuses the other Keras sharings."""
    got = one(spec, dims, layout)
    c = got.tensor.c
    if got.trainable_params not in (1, c):
        a = cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n  - {spec}\n", "p.yaml"))
        with pytest.raises(cnncalc.SpecError, match="one slope or one per channel"):
            verify(a, "torch")
        return
    module = torch.nn.PReLU(got.trainable_params)
    x = torch.zeros(1, *got.tensor.dims("channels_first"))
    assert module(x).shape[1:] == x.shape[1:]  # torch accepts that many slopes for that input
    assert got.trainable_params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("spec,message,value", [
    ("{type: prelu, num_parameters: 5}", "num_parameters 5, but its input has 4 channels; use 1 or 4", "5}"),
    ("{type: prelu, shared_axes: [4]}", "shared_axes [4]: the input 4x5x6 has axes 1 to 3 (0 is the batch)", "[4]"),
    ("{type: prelu, shared_axes: [0]}", "shared_axes must be a list of axis numbers ≥ 1", "[0]"),
    ("{type: prelu, num_parameters: 4, shared_axes: [1]}", "give num_parameters (PyTorch) or shared_axes (Keras)",
     "[1]"),
])
def test_prelu_refusals_are_located(spec, message, value):
    with pytest.raises(cnncalc.SpecError) as info:
        one(spec, (4, 5, 6))
    d = info.value.first
    assert message in d.message and (d.loc.line, d.loc.col) == (4, len("  - ") + spec.index(value) + 1), d.format()


def test_prelu_matches_torch_refusing_a_wrong_slope_count():
    with pytest.raises(RuntimeError):
        torch.nn.PReLU(5)(torch.zeros(1, 4, 5, 6))


FUSED = ["mish", "selu", "celu", "softplus", "softsign", "hard_tanh", "log_sigmoid", "tanh_shrink", "hard_shrink",
         "soft_shrink", "log_softmax", "hard_silu", "gelu", "swish", "hard_sigmoid"]


@pytest.mark.parametrize("name", FUSED)
def test_keras_activation_names_on_a_convolution_verify_in_both_frameworks(name):
    text = (f"input: [6, 6, 3]\nlayers:\n  - {{type: conv2d, filters: 4, kernel: 3, activation: {name}}}\n"
            f"  - flatten\n  - {{type: dense, units: 5, activation: {name}}}\n")
    a = cnncalc.analyse(cnncalc.loads(text, "f.yaml"))
    assert verify(a, "torch").mismatches == [] and verify(a, "keras").mismatches == []
    assert a.layers[0].stages[0][1]["exp" if name == "log_softmax" else "act"] >= 4 * 4 * 4


@pytest.mark.parametrize("name,why", [("prelu", "is no activation function of Keras"),
                                      ("threshold", "is no activation function of Keras"),
                                      ("dense", "is not an activation")])
def test_activations_without_a_keras_function_are_refused_as_activation(name, why):
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(f"input: [8]\nlayers:\n  - {{type: dense, units: 4, activation: {name}}}\n"))
    assert f"activation {name!r} {why}" in info.value.first.message
