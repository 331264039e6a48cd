"""Real networks built by their frameworks' own code, imported: torchvision's model builders (traced on
the meta device), Keras applications (weights=None) and the published Caffe model definitions. Totals
must equal the framework's own parameters() / buffers / count_params(), and MACs the multiply-adds
torch's FlopCounterMode counts while the real model runs (convolutions and matrix products, 2 FLOPs
each); torchvision's published GFLOPS agree to their three decimals."""

from __future__ import annotations

import os
import warnings

import pytest
from conftest import ROOT

from cnncalc import importers
from cnncalc.importers.factory import read_module
from cnncalc.importers.keras_reader import from_config
from cnncalc.importers.model import Options

TORCHVISION = {  # builder → (keyword arguments, input)
    "alexnet": ({}, (3, 224, 224)),
    "vgg11_bn": ({}, (3, 224, 224)),
    "resnet50": ({}, (3, 224, 224)),
    "resnext50_32x4d": ({}, (3, 224, 224)),
    "googlenet": ({"aux_logits": False, "init_weights": False}, (3, 224, 224)),
    "inception_v3": ({"aux_logits": False, "init_weights": False}, (3, 299, 299)),
    "mobilenet_v2": ({}, (3, 224, 224)),
    "mobilenet_v3_small": ({}, (3, 224, 224)),
    "squeezenet1_0": ({}, (3, 224, 224)),
    "densenet121": ({}, (3, 224, 224)),
    "mnasnet0_5": ({}, (3, 224, 224)),
    "efficientnet_b0": ({}, (3, 224, 224)),
    "convnext_tiny": ({}, (3, 224, 224)),  # LayerNorm2d (permute, layer_norm, permute); layer_scale * block(x)
    "shufflenet_v2_x1_0": ({}, (3, 224, 224)),  # chunk, and channel_shuffle as view, transpose, view
    "vit_b_16": ({}, (3, 224, 224)),  # conv_proj, reshape, permute, cat(class token), + pos_embedding: one layer
    "vit_b_32": ({}, (3, 224, 224)),
}


def flop_macs(run):  # type: ignore[no-untyped-def]
    """Half the FLOPs torch's FlopCounterMode counts while `run()` executes (conv and matmul: 2 per MAC)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        run()
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("builder", sorted(TORCHVISION))
def test_torchvision_model_imports_with_its_own_counts(builder, torchvision):
    import torch

    kwargs, shape = TORCHVISION[builder]
    with torch.device("meta"):
        model = getattr(torchvision.models, builder)(weights=None, **kwargs).eval()
    text, a = importers.to_spec(read_module(model, f"torchvision.models:{builder}", Options(shape), builder))
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters())
    assert t["non_trainable_params"] == sum(b.numel() for n, b in model.named_buffers()
                                            if not n.endswith("num_batches_tracked"))
    assert t["macs"] == flop_macs(lambda: model(torch.zeros(1, *shape, device="meta")))
    if not kwargs:  # the published figures are of the models with their auxiliary heads
        weights = torchvision.models.get_model_weights(builder).DEFAULT.meta
        assert t["trainable_params"] == weights["num_params"]
        assert t["macs"] / 1e9 == pytest.approx(weights["_ops"], abs=0.0006)
    assert text.startswith(f"# {builder}: imported by cnncalc")


def test_torchvision_resnet50_is_written_as_the_shipped_spec(torchvision):
    import torch

    with torch.device("meta"):
        model = torchvision.models.resnet50(weights=None)
    text, _ = importers.to_spec(read_module(model, "torchvision.models:resnet50", Options((3, 224, 224)),
                                            "resnet50"))
    assert "  bottleneck:\n" in text  # the block is named after torchvision's class
    assert "{block: bottleneck, name: layer3, repeat: 6, filters: 256, stride: '${2 if i == 0 else 1}', " \
           "downsample: '${i == 0}'}" in text
    assert "{type: conv2d, name: downsample.0, inputs: [input], filters: '${filters * 4}', kernel: 1, " \
           "stride: $stride, bias: false, if: $downsample}" in text


def test_torchvision_shufflenet_is_the_shipped_spec(torchvision):
    """torchvision's ShuffleNet V2 x1.0 (chunk, cat and channel_shuffle called in forward) imports as the
    shipped spec: the same layer types, each module's layer alike, the same totals, FLOPs included."""
    import torch

    import cnncalc

    with torch.device("meta"):
        model = torchvision.models.shufflenet_v2_x1_0(weights=None)
    _, a = importers.to_spec(read_module(model, "torchvision.models:shufflenet_v2_x1_0", Options((3, 224, 224)),
                                         "shufflenet_v2_x1_0"))
    shipped = cnncalc.analyse(ROOT / "architectures" / "shufflenet_v2.yaml")
    assert a.totals == shipped.totals
    assert sorted(layer.type for layer in a.layers) == sorted(layer.type for layer in shipped.layers)
    by_name = {layer.name: layer for layer in a.layers}
    same = [layer.name for layer in shipped.layers if layer.name in by_name]
    assert len(same) == len(shipped.layers) - 13 * 3 - 3  # split1, split2, shuffle; stage*.0's shuffle
    for name in same:
        x, y = by_name[name], shipped.layer(name)
        assert (x.type, x.tensor, x.params, x.macs) == (y.type, y.tensor, y.params, y.macs), name
    assert a.layer("stage2.1.chunk_2").inputs == a.layer("stage2.1.chunk").inputs == ["stage2.0.channel_shuffle"]


def test_torchvision_convnext_layer_scale_is_a_layer_named_after_its_parameter(torchvision):
    """CNBlock multiplies its block's output by the parameter `layer_scale` (C x 1 x 1) in forward: one
    layer_scale of C weights named after it, as the shipped spec names it."""
    import torch

    with torch.device("meta"):
        model = torchvision.models.convnext_tiny(weights=None)
    imp = read_module(model, "torchvision.models:convnext_tiny", Options((3, 224, 224)), "convnext_tiny")
    scales = [n for n in imp.nodes if n.type == "layer_scale"]
    assert len(scales) == 18 and all(n.params == {} for n in scales)
    assert (scales[0].name, scales[0].inputs, scales[0].weights) == \
        ("features.1.0.layer_scale", ["features.1.0.block.6"], 96)
    assert (scales[-1].name, scales[-1].weights) == ("features.7.2.layer_scale", 768)



def test_torchvision_vit_patch_embedding_is_one_layer_named_after_conv_proj(torchvision):
    """VisionTransformer's conv_proj, the reshape and permute of _process_input, the class token expanded and
    concatenated in front and Encoder's `+ pos_embedding`: one patch_embedding named after the convolution's
    module, as the shipped spec has it; MultiheadAttention a multi_head_attention, `x[:, 0]` a select_token,
    the MACs those of the shipped spec."""
    import torch

    import cnncalc

    with torch.device("meta"):
        model = torchvision.models.vit_b_16(weights=None)
    imp = read_module(model, "torchvision.models:vit_b_16", Options((3, 224, 224)), "vit_b_16")
    first = imp.nodes[0]
    assert (first.name, first.type, first.inputs, first.weights) == ("conv_proj", "patch_embedding", ["input"],
                                                                     768 * (3 * 16 * 16 + 1) + 768 + 197 * 768)
    assert first.params == {"dim": 768, "patch": 16, "class_token": True, "position_embedding": True, "bias": True}
    assert imp.nodes[1].inputs == ["conv_proj"]
    types = [n.type for n in imp.nodes]
    assert (types.count("multi_head_attention"), types.count("select_token"), types.count("patch_embedding")) == \
        (12, 1, 1)
    _, a = importers.to_spec(imp)
    shipped = cnncalc.analyse(ROOT / "architectures" / "vit_b_16.yaml")
    assert (a.totals["params"], a.totals["macs"]) == (86_567_656, 17_563_828_224) == \
        (shipped.totals["params"], shipped.totals["macs"])
    assert a.layers[0].tensor == shipped.layers[0].tensor

KERAS = {  # application → input
    "VGG16": (224, 224, 3),
    "ResNet50": (224, 224, 3),
    "ResNet50V2": (224, 224, 3),
    "MobileNet": (224, 224, 3),
    "MobileNetV2": (224, 224, 3),
    "DenseNet121": (224, 224, 3),
    "Xception": (299, 299, 3),
    "InceptionV3": (299, 299, 3),  # BatchNormalization(scale=False): β without γ
    "EfficientNetB0": (224, 224, 3),  # Rescaling, Normalization, ZeroPadding2D; squeeze-excite: Reshape, Multiply
    "EfficientNetV2B0": (224, 224, 3),
    "ConvNeXtTiny": (224, 224, 3),  # a Sequential stem and downsampling blocks inside; Keras's own LayerScale
}


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("app", sorted(KERAS))
def test_keras_application_imports_with_its_own_counts(app, keras):
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(keras.applications, app)(weights=None, input_shape=KERAS[app])
    text, a = importers.to_spec(from_config(model.get_config(), app, Options(), "Keras", model=model))
    t = a.totals
    assert t["params"] == model.count_params()
    assert t["trainable_params"] == sum(int(torch.numel(w.value)) for w in model.trainable_weights)
    assert t["macs"] == flop_macs(lambda: model(torch.zeros(1, *KERAS[app]), training=False))
    assert a.layout == "channels_last" and "\nlayout: channels_last\n" in text


def test_keras_file_is_read_without_building_it(keras, tmp_path):
    """A saved .keras archive: config.json read as data, weights counted from the HDF5 shapes."""
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    path = tmp_path / "mobilenet_v2.keras"
    model.save(path)
    imp = importers.read(str(path))
    assert imp.total_weights == model.count_params()
    text, a = importers.to_spec(imp)
    assert a.totals["params"] == model.count_params() == 3_538_984
    assert a.layer("out_relu").output_shape == (3, 3, 1280)


CAFFE = ROOT / "tests" / "data" / "caffe"


@pytest.mark.parametrize("net, params", [("bvlc_alexnet", 60_965_224), ("bvlc_reference_caffenet", 60_965_224),
                                         ("bvlc_googlenet", 6_998_552)])
def test_published_caffe_definitions_have_their_known_parameter_counts(net, params):
    pytest.importorskip("google.protobuf")
    text, a = importers.to_spec(importers.read(str(CAFFE / f"{net}.prototxt")))
    assert a.totals["params"] == params
    if net == "bvlc_googlenet":
        assert a.layer("inception_5b.output").output_shape == (1024, 7, 7)
        assert text.count("{block: inception_block,") == 9
        assert a.layer("prob").output_shape == (1000,)
    else:
        assert a.layer("conv1").output_shape == (96, 55, 55)
        assert a.layer("pool5").output_shape == (256, 6, 6)
        assert a.layer("conv2").trainable_params == 256 * (48 * 5 * 5 + 1)  # group: 2


def test_readme_shows_what_import_writes(torchvision):
    """The README's folded ResNet-50 is what `cnncalc import torchvision.models:resnet50` writes (the
    header's torch version aside)."""
    import torch

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\n# resnet50: imported by cnncalc") + len("```yaml\n")
    shown = readme[start:readme.index("```", start)]
    with torch.device("meta"):
        model = torchvision.models.resnet50(weights=None)
    command = "cnncalc import torchvision.models:resnet50 --input 3x224x224 -o resnet50.yaml"
    text, a = importers.to_spec(read_module(model, "torchvision.models:resnet50", Options((3, 224, 224)),
                                            "resnet50"), command=command)
    body = lambda t: t[t.index("\nname: "):]  # noqa: E731
    assert body(shown) == body(text)
    assert shown.splitlines()[:2] == text.splitlines()[:2]
    summary = f"resnet50.yaml: {len(a.layers)} layers from PyTorch; params {a.totals['params']:,} " \
              f"({a.totals['trainable_params']:,} trainable), MACs {a.totals['macs']:,}"
    assert summary in readme
