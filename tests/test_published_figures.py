"""The shipped torchvision architectures against the figures torchvision publishes with its weights:
`num_params` and `_ops` (its "GFLOPS": multiply-accumulates of convolutions, linear layers and
attention matmuls, in billions, rounded to 3 decimals), read from the weights' metadata without
downloading them.

The `torchvision` convention counts what `_ops` counts, and agrees with it on every network. For
ViT-B/16 that includes the attention's own matmuls: 12 blocks x (Q·Kᵀ + A·V) = 12 x 2 x 12 heads x
197² x 64 = 715,327,488 multiply-accumulates beside the projections and MLPs; without them the network
would be 16.849 G, not torchvision's 17.564. Layer norms, GELU, softmax, the residual sums and ConvNeXt's
layer scale are counted by neither (their operations are in cnncalc's FLOPs, not its MACs)."""

from __future__ import annotations

import pytest
from conftest import ARCH

import cnncalc

WEIGHTS = {  # spec → the torchvision weights enum that describes it
    "alexnet_torchvision": "AlexNet_Weights",
    "vgg16": "VGG16_Weights",
    "resnet18": "ResNet18_Weights",
    "resnet50": "ResNet50_Weights",
    "googlenet": "GoogLeNet_Weights",
    "mobilenet_v2": "MobileNet_V2_Weights",
    "mobilenet_v3_large": "MobileNet_V3_Large_Weights",
    "efficientnet_b0": "EfficientNet_B0_Weights",
    "vit_b_16": "ViT_B_16_Weights",
    "convnext_tiny": "ConvNeXt_Tiny_Weights",
}


@pytest.mark.parametrize("arch", sorted(WEIGHTS))
def test_params_and_gflops_equal_torchvisions_published_figures(arch, torchvision):
    meta = getattr(torchvision.models, WEIGHTS[arch]).IMAGENET1K_V1.meta
    a = cnncalc.analyse(ARCH / f"{arch}.yaml", convention="torchvision")
    assert a.totals["trainable_params"] == meta["num_params"]
    assert round(a.totals["macs"] / 1e9, 3) == meta["_ops"]


def test_vit_b_16_published_gflops_count_the_attention_matmuls(torchvision):
    """17,563,828,224 MACs round to torchvision's 17.564 only with Q·Kᵀ and A·V; the projections and MLPs
    alone (what fvcore and calflops see of nn.MultiheadAttention off torch's fused path) are 16.849 G."""
    meta = torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1.meta
    a = cnncalc.analyse(ARCH / "vit_b_16.yaml", convention="torchvision")
    attention = [layer for layer in a.layers if layer.type == "multi_head_attention"]
    matmuls = sum(int(layer.result().sizes["Q·Kᵀ MACs"]) + int(layer.result().sizes["A·V MACs"]) for layer in attention)
    assert matmuls == 12 * 2 * 12 * 197 * 197 * 64 == 715_327_488
    assert (a.totals["macs"], meta["_ops"], meta["num_params"]) == (17_563_828_224, 17.564, 86_567_656)
    assert round((a.totals["macs"] - matmuls) / 1e9, 3) == 16.849 != meta["_ops"]


def test_readme_table_of_shipped_architectures_is_current(archs):
    """Every row of the README's table: trainable params and MACs as cnncalc computes them today."""
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)\.yaml` \| .* \| ([\d,]+) \| ([\d,]+) \|$", readme, re.M)
    assert {stem for stem, _, _ in rows} == set(archs)
    for stem, params, macs in rows:
        t = archs[stem].totals
        assert (t["trainable_params"], t["macs"]) == (int(params.replace(",", "")), int(macs.replace(",", ""))), stem


@pytest.mark.parametrize("arch", ["mobilenet_v3_large", "efficientnet_b0"])
def test_exported_state_dict_has_torchvisions_keys_and_shapes(arch, torchvision):
    """The PyTorch export of a spec named by torchvision's module paths loads torchvision's weights."""
    import torch

    from cnncalc.export import export
    from cnncalc.export.verify import load_module

    e = export(cnncalc.analyse(ARCH / f"{arch}.yaml"), "pytorch")
    with torch.device("meta"):
        ours = getattr(load_module(e.code, arch), e.builder)()
        theirs = getattr(torchvision.models, arch)(weights=None)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def test_flops_md_table_of_whole_networks_is_current():
    """Every row of docs/flops.md's whole-network table: MACs in each convention (calflops: its FLOPs), as
    cnncalc computes them today."""
    import re

    from conftest import ROOT

    text = (ROOT / "docs" / "flops.md").read_text(encoding="utf-8").split("## Whole networks", 1)[1]
    rows = re.findall(r"^\| (\w+)[^|]* \|((?: [\d,]+ \|){6})$", text, re.M)
    assert len(rows) >= 15
    columns = [("torchvision", "macs"), ("fvcore", "macs"), ("thop", "macs"), ("torchinfo", "macs"),
               ("ptflops", "macs"), ("calflops", "flops")]
    for stem, cells in rows:
        figures = [int(c.strip().replace(",", "")) for c in cells.strip(" |").split("|")]
        want = [cnncalc.analyse(ARCH / f"{stem}.yaml", convention=c).totals[key] for c, key in columns]
        assert figures == want, stem
