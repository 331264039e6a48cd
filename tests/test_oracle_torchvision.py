"""The shipped torchvision architectures against torchvision's own model builders, layer by layer.

Every spec layer whose name is a module path of the torchvision model is compared with that module
(forward hooks, one sample of zeros, meta device): output and input shape, trainable and
non-trainable (buffer) parameter counts, and multiply-accumulates, which torch's own FlopCounterMode
attributes to each module (2 FLOPs per multiply-add of every convolution and matmul it runs; the
attention matmuls run as the bmm it counts, not through torch's fused kernels). A spec layer named
as a parameter (ConvNeXt's layer_scale) holds that parameter; ViT's patch embedding holds conv_proj,
the class token and the position embedding. What torchvision computes without a module (residual
sums, the class token's selection, a flatten) must have no parameters and no multiply-accumulates;
its shape is checked through the modules that read it. The totals must equal torchvision's
`parameters()`, buffers and FlopCounterMode's total.
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
    "vit_b_16": ("vit_b_16", {}),
    "convnext_tiny": ("convnext_tiny", {}),
}
# spec layers that stand for several pieces of the torchvision model: (modules, parameters)
COMPOSED = {"vit_b_16": {"patch_embedding": (["conv_proj"], ["class_token", "encoder.pos_embedding"])}}


def measure(model, input_shape, names):
    """Per module of `names`: (output shape, input shape) from forward hooks, and every module's MACs
    (FlopCounterMode's FLOPs / 2, by module path) of one forward pass of a zero sample."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    modules = dict(model.named_modules())
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def hook(_m, inputs, out, name):
        out = out[0] if isinstance(out, tuple) else out  # nn.MultiheadAttention returns (output, weights)
        shapes[name] = (tuple(out.shape[1:]), tuple(inputs[0].shape[1:]))

    hooks = [modules[n].register_forward_hook(lambda m, i, o, name=n: hook(m, i, o, name)) for n in names]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # MultiheadAttention's fused path hides its matmuls
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
            model(torch.zeros(1, *input_shape, device="meta"))
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for h in hooks:
            h.remove()
    root = type(model).__name__
    flops = {key.removeprefix(root).removeprefix("."): sum(ops.values())
             for key, ops in counter.get_flop_counts().items() if key != "Global"}
    assert all(v % 2 == 0 for v in flops.values())
    return shapes, {k: v // 2 for k, v in flops.items()}, counter.get_total_flops() // 2


def params_of(model, modules, parameters):
    trainable = sum(p.numel() for m in modules for p in model.get_submodule(m).parameters())
    trainable += sum(model.get_parameter(p).numel() for p in parameters)
    buffers = sum(b.numel() for m in modules for n, b in model.get_submodule(m).named_buffers()
                  if not n.endswith("num_batches_tracked"))
    return trainable, buffers


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_every_layer_equals_the_torchvision_module_of_that_name(arch, torchvision):
    import torch

    builder, kwargs = MODELS[arch]
    with torch.device("meta"):
        model = getattr(torchvision.models, builder)(weights=None, **kwargs).eval()
    a = cnncalc.analyse(ARCH / f"{arch}.yaml")
    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    shapes, macs, total_macs = measure(model, a.input_shape, [la.name for la in a.layers if la.name in modules])
    composed = COMPOSED.get(arch, {})
    compared = 0
    for layer in a.layers:
        if layer.name in modules:
            got = (layer.output_shape, layer.input_shapes[0], *params_of(model, [layer.name], []), layer.macs)
            assert got == (*shapes[layer.name], *params_of(model, [layer.name], []), macs.get(layer.name, 0)), \
                layer.name
            compared += 1
        elif layer.name in composed:
            parts, params = composed[layer.name]
            want = (*params_of(model, parts, params), sum(macs.get(m, 0) for m in parts))
            assert (layer.trainable_params, layer.non_trainable_params, layer.macs) == want, layer.name
        elif layer.name in parameters:
            assert (layer.trainable_params, layer.non_trainable_params, layer.macs) == \
                (parameters[layer.name].numel(), 0, 0), layer.name
        else:
            assert (layer.params, layer.macs) == (0, 0), f"{layer.name} ({layer.type}) is no torchvision module"
    assert compared >= len(a.layers) // 2, f"only {compared} of {len(a.layers)} layers are torchvision modules"
    assert set(shapes) == {layer.name for layer in a.layers if layer.name in modules}
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters())
    assert t["non_trainable_params"] == sum(b.numel() for n, b in model.named_buffers()
                                            if not n.endswith("num_batches_tracked"))
    assert t["macs"] == total_macs
