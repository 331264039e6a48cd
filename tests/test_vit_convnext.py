"""ViT-B/16 and ConvNeXt-Tiny compute what torchvision's models compute.

tests/test_oracle_torchvision.py compares every layer's shapes, parameters and multiply-accumulates with
torchvision's modules; here the PyTorch model `cnncalc export` writes for each spec, given torchvision's
weights, must compute torchvision's output: the wiring (residual sums, the class token, the permutes
around ConvNeXt's MLP, the layer scale) is right, not only the sizes.
"""

from __future__ import annotations

import pytest
from conftest import ARCH

import cnncalc
from cnncalc.export import export
from cnncalc.export.verify import load_module

torch = pytest.importorskip("torch")


def vit_key(key: str) -> str:
    """torchvision's state_dict key for the exported ViT's: the patch embedding is conv_proj, the class token
    and encoder.pos_embedding; the SelfAttention helper holds the nn.MultiheadAttention as `attn`; the
    export writes `layers` as `layers_` (a name its generated code uses)."""
    key = {"patch_embedding.proj.weight": "conv_proj.weight", "patch_embedding.proj.bias": "conv_proj.bias",
           "patch_embedding.class_token": "class_token",
           "patch_embedding.pos_embedding": "encoder.pos_embedding"}.get(key, key)
    return key.replace("encoder.layers_.", "encoder.layers.").replace(".self_attention.attn.", ".self_attention.")


def convnext_key(key: str) -> str:
    """torchvision's key for the exported ConvNeXt's: LayerNormAxes holds its nn.LayerNorm as `norm`, the
    LayerScale helper its γ as `gamma` (torchvision: the block's `layer_scale` parameter, C x 1 x 1)."""
    return key.replace(".norm.", ".").replace("layer_scale.gamma", "layer_scale")


@pytest.mark.parametrize("arch,rename", [("vit_b_16", vit_key), ("convnext_tiny", convnext_key)])
def test_exported_model_with_torchvisions_weights_computes_torchvisions_output(arch, rename, torchvision):
    e = export(cnncalc.analyse(ARCH / f"{arch}.yaml"), "pytorch")
    ours_model = getattr(load_module(e.code, arch), e.builder)().eval()
    theirs_model = getattr(torchvision.models, arch)(weights=None).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs_model.parameters():  # not torchvision's init: zero heads, γ = 1e-6 would hide wiring
            p.copy_(torch.randn(p.shape, generator=generator) * (0.05 if p.dim() > 1 else 0.5))
    state = theirs_model.state_dict()
    mine = ours_model.state_dict()
    assert {rename(k) for k in mine} == set(state)
    ours_model.load_state_dict({k: state[rename(k)].reshape(v.shape) for k, v in mine.items()})
    x = torch.randn(2, 3, 224, 224, generator=generator)
    with torch.no_grad():
        want = theirs_model(x)
        got = ours_model(x)
    assert (want[0] - want[1]).abs().max() > 1e-2  # the output depends on the input: a signal to compare
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
