"""ShuffleNet V2 x1.0 against torchvision's own `shufflenet_v2_x1_0(weights=None)`, module by module,
as tests/test_oracle_torchvision.py checks the other torchvision networks.

Every spec layer named as a torchvision module is compared with it: output shape (forward hooks,
meta device), trainable parameters and buffers, and MACs of its convolutions and linear layer.
What torchvision computes without a module (the channel split, concatenation, channel shuffle and
global mean) is checked through the modules that read it: their input shapes must be equal too.
"""

from __future__ import annotations

from conftest import ARCH

import cnncalc

SPEC = ARCH / "shufflenet_v2.yaml"


def macs(m, inputs, out) -> int:
    import torch

    if isinstance(m, torch.nn.Conv2d):
        return out[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, torch.nn.Linear):
        return out[0].numel() * m.in_features
    return 0


def test_every_layer_equals_the_torchvision_module(torchvision):
    import torch

    with torch.device("meta"):
        model = torchvision.models.shufflenet_v2_x1_0(weights=None).eval()
    a = cnncalc.analyse(SPEC)
    modules = dict(model.named_modules())
    seen: dict[str, tuple] = {}
    hooks = [modules[layer.name].register_forward_hook(
        lambda m, i, o, name=layer.name: seen.__setitem__(name, (tuple(o.shape[1:]), tuple(i[0].shape[1:]),
                                                                  macs(m, i, o))))
        for layer in a.layers if layer.name in modules]
    with torch.no_grad():
        model(torch.zeros(1, *a.input_shape, device="meta"))
    for h in hooks:
        h.remove()
    compared = 0
    for layer in a.layers:
        if layer.name not in modules:
            continue
        m = modules[layer.name]
        buffers = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
        assert (layer.output_shape, layer.input_shapes[0], layer.macs, layer.trainable_params,
                layer.non_trainable_params) == (*seen[layer.name], sum(p.numel() for p in m.parameters()), buffers), \
            layer.name
        compared += 1
    assert compared == 8 + 3 * 13 + 13 * 8  # conv1, maxpool, conv5, fc; 13 modules per strided unit, 8 per other
    assert {layer.type for layer in a.layers if layer.name not in modules} == {
        "chunk", "concat", "channel_shuffle", "global_avg_pool2d"}
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters()) == 2_278_604  # torchvision's docs
    assert t["non_trainable_params"] == sum(b.numel() for n, b in model.named_buffers()
                                            if not n.endswith("num_batches_tracked"))
    assert t["macs"] == sum(v[2] for v in seen.values())
    assert round(t["macs"] / 1e9, 2) == 0.14  # torchvision's docs: 0.14 GFLOPS


def test_channel_split_shuffle_and_concat_compute_torchvisions_unit(torchvision):
    """A stride-1 unit exported from the spec computes what torchvision's InvertedResidual does."""
    import torch

    from cnncalc.export import export
    from cnncalc.export.verify import load_module

    text = SPEC.read_text().split("layers:\n  - {type: conv2d, name: conv1.0")[0] + (
        "layers:\n  - {block: inverted_residual, name: unit, oup: 116}\n")
    text = text.replace("input: [3, 224, 224]", "input: [116, 7, 9]")
    e = export(cnncalc.analyse(cnncalc.loads(text)), "pytorch")
    ours = getattr(load_module(e.code, "unit"), e.builder)().eval()
    theirs = torchvision.models.shufflenetv2.InvertedResidual(116, 116, 1).eval()
    for p in theirs.parameters():  # BN γ, β not 1, 0: values that show a wrong channel order
        torch.nn.init.normal_(p)
    ours.unit.load_state_dict(theirs.state_dict())  # the module paths are torchvision's
    x = torch.randn(2, 116, 7, 9)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))
