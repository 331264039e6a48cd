"""architectures/r3d_18.yaml against torchvision's own video model builder, module by module, as
tests/test_oracle_torchvision.py does for the 2-D networks: every spec layer whose name is a module
path of torchvision.models.video.r3d_18 has that module's output shape (forward hooks, one clip of
zeros, meta device) and trainable / buffer counts; the totals equal the model's, and the MACs equal
torch's own flop counter (2 per multiply-accumulate) on the whole clip."""

from __future__ import annotations

from conftest import ARCH

import cnncalc


def test_every_layer_equals_the_torchvision_module_of_that_name(torchvision):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = torchvision.models.video.r3d_18(weights=None).eval()
    a = cnncalc.analyse(ARCH / "r3d_18.yaml")
    assert a.input_shape == (3, 16, 112, 112)
    modules = dict(model.named_modules())
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [modules[layer.name].register_forward_hook(
        lambda _m, _i, out, name=layer.name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for layer in a.layers if layer.name in modules]
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        model(torch.zeros(1, *a.input_shape, device="meta"))
    for h in hooks:
        h.remove()
    compared = 0
    for layer in a.layers:
        m = modules.get(layer.name)
        if m is None:
            continue
        trainable = sum(p.numel() for p in m.parameters())
        buffers = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
        assert (layer.output_shape, layer.trainable_params, layer.non_trainable_params) == \
            (shapes[layer.name], trainable, buffers), layer.name
        compared += 1
    # every layer but the residual sums and the flatten is a torchvision module
    assert compared == len(a.layers) - 8 - 1
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters()) == 33_371_472
    assert t["non_trainable_params"] == sum(b.numel() for n, b in model.named_buffers()
                                            if not n.endswith("num_batches_tracked"))
    # torch counts the convolutions and the linear layer: 2 per multiply-accumulate
    assert 2 * t["macs"] == flops.get_total_flops()
    meta = torchvision.models.video.R3D_18_Weights.KINETICS400_V1.meta  # torchvision's published figures
    assert t["trainable_params"] == meta["num_params"]
    assert round(t["macs"] / 1e9, 3) == meta["_ops"] == 40.697  # its "GFLOPS" are multiply-accumulates
