"""The shipped torchvision architectures against torchvision's own model builders, layer by layer.

Every spec layer whose name is a module path of the torchvision model is compared with that module:
output shape (forward hooks, one sample of zeros, meta device) and trainable / non-trainable
(buffer) parameter counts; the totals must equal torchvision's `parameters()` and buffers.
"""

from __future__ import annotations

import pytest
from conftest import ARCH

import cnncalc

MODELS = {  # spec → (builder, keyword arguments)
    "alexnet_torchvision": ("alexnet", {}),
    "vgg16": ("vgg16", {}),
    "resnet18": ("resnet18", {}),
    "resnet50": ("resnet50", {}),
    "googlenet": ("googlenet", {"aux_logits": False, "init_weights": False}),
    "mobilenet_v2": ("mobilenet_v2", {}),
    "mobilenet_v3_large": ("mobilenet_v3_large", {}),
    "efficientnet_b0": ("efficientnet_b0", {}),
}


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_every_layer_equals_the_torchvision_module_of_that_name(arch, torchvision):
    import torch

    builder, kwargs = MODELS[arch]
    with torch.device("meta"):
        model = getattr(torchvision.models, builder)(weights=None, **kwargs).eval()
    a = cnncalc.analyse(ARCH / f"{arch}.yaml")
    modules = dict(model.named_modules())
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [modules[layer.name].register_forward_hook(
        lambda _m, _i, out, name=layer.name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for layer in a.layers if layer.name in modules]
    with torch.no_grad():
        model(torch.zeros(1, *a.input_shape, device="meta"))
    for h in hooks:
        h.remove()
    compared = 0
    for layer in a.layers:
        m = modules.get(layer.name)
        if m is None or not shapes.get(layer.name):
            continue
        trainable = sum(p.numel() for p in m.parameters())
        buffers = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
        assert (layer.output_shape, layer.trainable_params, layer.non_trainable_params) == \
            (shapes[layer.name], trainable, buffers), layer.name
        compared += 1
    assert compared >= len(a.layers) // 2, f"only {compared} of {len(a.layers)} layers are torchvision modules"
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters())
    assert t["non_trainable_params"] == sum(b.numel() for n, b in model.named_buffers()
                                            if not n.endswith("num_batches_tracked"))
