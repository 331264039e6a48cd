"""The shipped torchvision architectures against the figures torchvision publishes with its weights:
`num_params` and `_ops` (its "GFLOPS": multiply-accumulates of convolutions, linear layers and
attention matmuls, in billions, rounded to 3 decimals), read from the weights' metadata without
downloading them."""

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
}


@pytest.mark.parametrize("arch", sorted(WEIGHTS))
def test_params_and_gflops_equal_torchvisions_published_figures(arch, torchvision):
    meta = getattr(torchvision.models, WEIGHTS[arch]).IMAGENET1K_V1.meta
    a = cnncalc.analyse(ARCH / f"{arch}.yaml", convention="torchvision")
    assert a.totals["trainable_params"] == meta["num_params"]
    assert round(a.totals["macs"] / 1e9, 3) == meta["_ops"]


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
