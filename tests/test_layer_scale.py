"""The layer scale of ConvNeXt (and CaiT): a learned scale per channel, against torchvision's C x 1 x 1
parameter and Keras's own LayerScale (keras.applications.convnext); its exports compute what
torchvision's ConvNeXt computes, in both frameworks and both layouts.
"""

from __future__ import annotations

import itertools
import os

import pytest

import cnncalc
from cnncalc.export import export
from cnncalc.export.verify import load_module, verify

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")

from test_oracle_resize_rearrange import ours, theirs  # noqa: E402

SHAPES = [(4,), (6, 5), (4, 3, 5), (8, 2, 3)]


class TorchvisionLayerScale(torch.nn.Module):
    """torchvision's CNBlock: `self.layer_scale * x` with a C x 1 x 1 (x ... ) parameter."""

    def __init__(self, shape):
        super().__init__()
        self.layer_scale = torch.nn.Parameter(torch.ones(shape[0], *[1] * (len(shape) - 1)) * 1e-6)

    def forward(self, x):
        return self.layer_scale * x


def test_layer_scale_equals_torchvisions_parameter_on_the_channels():
    for shape in SHAPES:
        assert ours("{type: layer_scale, init_values: 1.0e-6}", shape) == \
            theirs(lambda shape=shape: TorchvisionLayerScale(shape), shape), shape
        layer = one("{type: layer_scale}", shape)
        assert layer.to_dict()["ops"]["mul"] == layer.macs + torch.zeros(shape).numel()  # one per element, 0 MACs


def one(layer: str, shape, layout: str = "channels_first"):
    return cnncalc.analyse(cnncalc.loads(f"input: {list(shape)}\nlayout: {layout}\nlayers:\n  - {layer}\n")).layers[0]


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_layer_scale_equals_keras_convnext_layer_scale(layout):
    """Keras's own LayerScale (keras.applications.convnext) scales the last axis by projection_dim values."""
    keras = pytest.importorskip("keras")
    from keras.src.applications.convnext import LayerScale

    for shape in SHAPES:
        scale = LayerScale(1e-6, shape[-1])
        y = scale(keras.Input(shape=shape))
        got = one(f"{{type: LayerScale, init_values: 1.0e-6, projection_dim: {shape[-1]}, axis: -1}}", shape, layout)
        assert (got.output_shape, got.trainable_params) == (tuple(y.shape[1:]), scale.count_params())
    assert one("{type: LayerScale}", (5, 6, 7), "channels_last").trainable_params == 7  # the channels are last


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_exported_layer_scale_and_channel_layer_norm_compute_torchvisions_values(layout, torchvision):
    """The PyTorch and Keras exports of a LayerNorm2d (a layer norm over the channels) and a layer scale
    compute what torchvision's ConvNeXt does (LayerNorm2d, then `layer_scale * x`) with the same γ, β:
    both frameworks, both layouts."""
    keras = pytest.importorskip("keras")
    import numpy as np
    from torchvision.models.convnext import LayerNorm2d

    first = layout == "channels_first"
    a = cnncalc.analyse(cnncalc.loads(
        f"input: {[4, 5, 6] if first else [5, 6, 4]}\nlayout: {layout}\nlayers:\n"
        f"  - {{type: layer_norm, name: norm, axis: {1 if first else -1}, eps: 1.0e-6}}\n"
        "  - {type: layer_scale, name: scale}\n"))
    g = torch.Generator().manual_seed(0)
    gamma, beta, scale = (torch.randn(4, generator=g) for _ in range(3))
    x = torch.randn(2, 4, 5, 6, generator=g)
    norm = LayerNorm2d(4, eps=1e-6)
    with torch.no_grad():
        norm.weight.copy_(gamma)
        norm.bias.copy_(beta)
        want = scale.reshape(4, 1, 1) * norm(x)
    e = export(a, "pytorch")
    model = getattr(load_module(e.code, "ln_scale"), e.builder)().eval()
    model.load_state_dict({"norm.norm.weight": gamma, "norm.norm.bias": beta, "scale.gamma": scale})
    with torch.no_grad():
        torch.testing.assert_close(model(x), want)
    k = export(a, "keras")
    kmodel = getattr(load_module(k.code, "ln_scale_keras"), k.builder)()
    kmodel.get_layer("norm").set_weights([gamma.numpy(), beta.numpy()])
    kmodel.get_layer("scale").set_weights([scale.numpy()])
    got = keras.ops.convert_to_numpy(kmodel(x.numpy() if first else x.permute(0, 2, 3, 1).numpy()))
    np.testing.assert_allclose(got if first else got.transpose(0, 3, 1, 2), want.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer,message,value", [
    ("{type: layer_scale, projection_dim: 5}", "projection_dim 5, but the scaled axis of 4x3x5 has 4", "5}"),
    ("{type: layer_scale, axis: 4}", "axis 4 does not exist for a tensor of shape 4x3x5", "4}"),
    ("{type: layer_scale, axis: 0}", "axis 0 does not exist", "0}"),
])
def test_layer_scale_refusals_are_located(layer, message, value):
    text = f"input: [4, 3, 5]\nlayout: channels_first\nlayers:\n  - {layer}\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "s.yaml"))
    d = info.value.first
    assert message in d.message and (d.loc.line, d.loc.col) == (4, text.splitlines()[3].index(value) + 1)


def test_layer_scale_is_declared_not_counted_by_every_tool():
    from cnncalc import conventions

    layer = one("{type: layer_scale}", (4, 3, 5))
    assert (layer.params, layer.macs, layer.flops) == (4, 0, 60)
    for tool in ("fvcore", "thop", "torchinfo", "ptflops", "calflops"):
        assert cnncalc.analyse(cnncalc.loads("input: [4, 3, 5]\nlayout: channels_first\nlayers:\n  - layer_scale\n"),
                               convention=tool).totals["macs"] == 0
        assert "layer_scale" in "\n".join(conventions.describe(conventions.get(tool))).split("not counted", 1)[1]


def test_layer_scale_explains_its_numbers():
    from cnncalc.explain import layer_lines

    text = "\n".join(layer_lines(one("{type: layer_scale}", (96, 56, 56))))
    assert "params = 96 channels" in text and "301,056" in text


def test_layer_scale_verifies_in_both_frameworks_in_every_layout():
    for (layout, dims), axis in itertools.product([("channels_last", (5, 6, 4)), ("channels_first", (4, 5, 6))],
                                                  [None, 1, 2, -1, -3]):
        layer = "{type: layer_scale}" if axis is None else f"{{type: layer_scale, axis: {axis}}}"
        a = cnncalc.analyse(cnncalc.loads(f"input: {list(dims)}\nlayout: {layout}\nlayers:\n  - {layer}\n"))
        for framework in ("torch", "keras"):
            assert verify(a, framework).mismatches == [], (layout, axis, framework)
