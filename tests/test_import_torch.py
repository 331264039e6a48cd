"""Round trip through a PyTorch factory: every shipped architecture exported as PyTorch code, built on
the meta device and imported by tracing it (torch.fx), as `cnncalc import file.py:factory` does. The
imported spec must analyse to the original's per-layer shapes, params and MACs (matched by module path;
a module called again, `share:` in the spec, by its later call) and pass `verify` in PyTorch."""

from __future__ import annotations

import pytest
from conftest import ARCH
from test_import_onnx import compare

import cnncalc
from cnncalc import importers
from cnncalc.export import export
from cnncalc.export.verify import load_module, verify
from cnncalc.importers.factory import read_module
from cnncalc.importers.model import Options

torch = pytest.importorskip("torch")

ARCHS = sorted(p.stem for p in ARCH.glob("*.yaml"))


@pytest.mark.parametrize("arch", ARCHS)  # every shipped architecture
def test_round_trip_through_a_pytorch_factory(arch):
    a = cnncalc.analyse(ARCH / f"{arch}.yaml")
    e = export(a, "pytorch")
    module = load_module(e.code, "cnncalc_export_factory_rt")
    with torch.device("meta"):
        model = getattr(module, e.builder)()
    shapes = list(e.input_shapes or [e.input_shape])
    imp = read_module(model, f"{arch}.py:{e.builder}", Options(input_shapes=shapes), arch)
    assert len(imp.inputs) == (len(shapes) if len(shapes) > 1 else 0)
    text, b = importers.to_spec(imp)
    compare(a, b, e.names)
    assert b.totals["params"] == sum(p.numel() for p in model.parameters()) + sum(
        t.numel() for n, t in model.named_buffers() if not n.endswith("num_batches_tracked"))
    again = cnncalc.analyse(cnncalc.loads(text, "imported.yaml"))
    assert again.totals == b.totals
    report = verify(b, "torch")
    assert report.ok, [r.name for r in report.mismatches]


def test_shared_modules_are_written_with_share_and_the_outputs_named():
    """two_heads: the encoder stages called on the image and on the mask are one module each; their second
    calls read `share:`, the two heads are the spec's `outputs:`, the two tensors its named `inputs:`."""
    a = cnncalc.analyse(ARCH / "two_heads.yaml")
    e = export(a, "pytorch")
    module = load_module(e.code, "cnncalc_export_factory_shared")
    with torch.device("meta"):
        model = getattr(module, e.builder)()
    text, b = importers.to_spec(read_module(model, "two_heads.py:TwoHeads", Options(input_shapes=e.input_shapes),
                                            "two_heads"))
    assert "\ninputs: {image: [3, 128, 128], mask: [1, 128, 128]}\noutputs: [seg, cls]\n" in text
    assert "{share: enc1.conv1, name: enc1.conv1_1, inputs: [mask_stem]}" in text
    assert "{share: enc2.bn2, name: enc2.bn2_1}" in text
    assert b.layer("enc1.conv1_1").params == 0 and b.layer("enc1.conv1_1").macs == b.layer("enc1.conv1").macs
    assert b.totals["trainable_params"] == 108_892 and b.totals["macs"] == 498_598_528


def exported_and_read(a, name):  # type: ignore[no-untyped-def]
    """`a` exported to PyTorch, built on the meta device and read back by the factory importer:
    (the module, the export, the imported spec's text and its analysis)."""
    e = export(a, "pytorch")
    module = load_module(e.code, f"cnncalc_export_{name}")
    with torch.device("meta"):
        model = getattr(module, e.builder)()
    text, b = importers.to_spec(read_module(model, f"{name}.py:build", Options(e.input_shape), name))
    return model, e, text, b


def test_cnncalc_export_modules_are_read_back_as_their_layers():
    """A ViT-like spec: patch_embedding, attention, select_token and dense on the last axis, exported to
    PyTorch (cnncalc's PatchEmbedding, SelfAttention, SelectToken modules) and imported from that code."""
    spec = cnncalc.loads("""
name: tiny vit
input: [3, 32, 32]
layout: channels_first
layers:
  - {type: patch_embedding, name: embed, dim: 16, patch: 8, class_token: true, position_embedding: true}
  - {type: multi_head_attention, name: attn, heads: 4}
  - {type: dense, name: mlp, units: 16}
  - {type: select_token, name: cls}
  - {type: dense, name: head, units: 10}
""", "vit.yaml")
    a = cnncalc.analyse(spec)
    model, e, text, b = exported_and_read(a, "vit")
    assert [(layer.name, layer.type) for layer in b.layers] == [(layer.name, layer.type) for layer in a.layers]
    compare(a, b, e.names)
    assert b.totals["params"] == sum(p.numel() for p in model.parameters())
    assert verify(b, "torch").ok


def test_layer_scale_and_layer_norm_axes_modules_are_leaves_read_as_their_layers():
    """cnncalc's LayerScale and LayerNormAxes compute their shapes from x.dim(), which torch.fx cannot
    trace: they are leaves, read from their attributes (the scaled axis, the normalised axes)."""
    spec = cnncalc.loads("""
name: scales
input: [4, 6, 8]
layout: channels_first
layers:
  - {type: layer_scale, name: channels}
  - {type: layer_scale, name: width, axis: 3}
  - {type: layer_norm, name: norm, axis: [1, 2], eps: 1.0e-06}
""", "scales.yaml")
    a = cnncalc.analyse(spec)
    model, e, text, b = exported_and_read(a, "scales")
    assert [(layer.name, layer.type, layer.params) for layer in b.layers] == \
        [("channels", "layer_scale", 4), ("width", "layer_scale", 8), ("norm", "layer_norm", 2 * 4 * 6)]
    assert "{type: layer_scale, name: width, axis: 3}" in text and "axis: [1, 2]" in text
    assert b.totals == a.totals
    assert verify(b, "torch").ok


class Seq(torch.nn.Sequential):
    """A subclass of nn.Sequential: a block of its own (torchvision's Conv2dNormActivation is one)."""


class Twice(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.ReLU())

    def forward(self, x):
        return self.conv(self.conv(x))


def _layers(make, shape=(3, 16, 16)):
    with torch.device("meta"):
        model = make().eval()
    _, b = importers.to_spec(read_module(model, "m.py:make", Options(shape), "m"))
    assert b.totals["params"] == sum(p.numel() for p in model.parameters()) + sum(
        t.numel() for n, t in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return [(layer.name, layer.type, layer.spec.params.get("activation")) for layer in b.layers]


def test_a_layer_and_its_activation_in_an_nn_sequential_are_one_layer_with_activation():
    """nn.Sequential(layer, activation at its defaults), as the export writes a layer's activation=: one
    layer named after the Sequential. Its own class's children, an activation with other settings, more
    children or a Sequential called twice keep their own layers."""
    nn = torch.nn
    assert _layers(lambda: nn.Sequential(nn.Conv2d(3, 8, 3), nn.Sequential(nn.Conv2d(8, 8, 1), nn.Hardswish()),
                                         nn.Flatten(), nn.Sequential(nn.Linear(8 * 14 * 14, 10), nn.Softmax(-1)))) \
        == [("0", "conv2d", None), ("1", "conv2d", "hardswish"), ("2", "flatten", None), ("3", "dense", "softmax")]
    assert _layers(lambda: nn.Sequential(Seq(nn.Conv2d(3, 8, 3), nn.ReLU()))) == \
        [("0.0", "conv2d", None), ("0.1", "relu", None)]
    assert _layers(lambda: nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3), nn.LeakyReLU(0.3)))) == \
        [("0.0", "conv2d", None), ("0.1", "leaky_relu", None)]
    assert _layers(lambda: nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()))) == \
        [("0.0", "conv2d", None), ("0.1", "batch_norm", None), ("0.2", "relu", None)]
    assert _layers(lambda: nn.Sequential(nn.Sequential(nn.BatchNorm2d(3), nn.ReLU()))) == \
        [("0.0", "batch_norm", None), ("0.1", "relu", None)]
    assert _layers(Twice, (4, 8, 8)) == [("conv.0", "conv2d", None), ("conv.1", "relu", None),
                                         ("conv.0_1", "conv2d", None), ("conv.1_1", "relu", None)]


def test_torchvisions_conv_norm_activation_keeps_its_layers(torchvision):
    """Conv2dNormActivation is an nn.Sequential of its own class: without a norm layer, still two layers."""
    from torchvision.ops import Conv2dNormActivation

    assert _layers(lambda: torch.nn.Sequential(Conv2dNormActivation(3, 8, norm_layer=None))) == \
        [("0.0", "conv2d", None), ("0.1", "relu", None)]
