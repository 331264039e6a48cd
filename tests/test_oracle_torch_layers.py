"""Grid oracle: single layers in real PyTorch vs cnncalc, over many sizes and settings.

Where torch refuses a configuration (output too small, padding > half the kernel), cnncalc
must refuse it too; where torch computes a shape, cnncalc must compute the same one.
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402

SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 14, 27, 55, 56, 112, 224, 227]


def ours(layer: str, c: int, size: int):
    """(output shape channels-first, trainable params) or None when cnncalc reports an error."""
    try:
        a = cnncalc.analyse(cnncalc.loads(f"input: [{c}, {size}, {size + 1}]\nlayout: channels_first\nlayers:\n  - {layer}\n"))
    except cnncalc.SpecError:
        return None
    return a.layers[0].output_shape, a.layers[0].trainable_params


def theirs(module, c: int, size: int):
    """Shape inference on the meta device: torch's own shape rules and checks, without the arithmetic."""
    try:
        y = module.to("meta")(torch.zeros(1, c, size, size + 1, device="meta"))
    except RuntimeError:
        return None
    if 0 in y.shape:  # torch returns an empty tensor for a zero-size output; cnncalc calls it an error
        return None
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("k,s,p,d", list(itertools.product([1, 2, 3, 5, 7, 11], [1, 2, 3, 4], [0, 1, 2, 3], [1, 2])))
def test_conv2d_grid(k, s, p, d):
    module = torch.nn.Conv2d(4, 6, k, stride=s, padding=p, dilation=d, groups=2)
    spec = f"{{type: conv2d, filters: 6, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, groups: 2}}"
    for size in SIZES:
        assert ours(spec, 4, size) == theirs(module, 4, size), size


@pytest.mark.parametrize("k,s,p,d,ceil", list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2],
                                                                   [False, True])))
def test_maxpool_grid(k, s, p, d, ceil):
    try:
        module = torch.nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    except (RuntimeError, ValueError):  # pragma: no cover - torch validates at call time
        return
    spec = f"{{type: max_pool2d, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, ceil_mode: {str(ceil).lower()}}}"
    for size in SIZES:
        assert ours(spec, 3, size) == theirs(module, 3, size), size


@pytest.mark.parametrize("k,s,p,ceil", list(itertools.product([1, 2, 3, 4, 5], [1, 2, 3], [0, 1, 2], [False, True])))
def test_avgpool_grid(k, s, p, ceil):
    module = torch.nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil)
    spec = f"{{type: avg_pool2d, kernel: {k}, stride: {s}, padding: {p}, ceil_mode: {str(ceil).lower()}}}"
    for size in SIZES:
        assert ours(spec, 3, size) == theirs(module, 3, size), size


@pytest.mark.parametrize("k,s,p,op,d", [
    (k, s, p, op, d) for k, s, p, op, d in itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [0, 1], [1, 2])
    if op < max(s, d)
])
def test_conv_transpose_grid(k, s, p, op, d):
    module = torch.nn.ConvTranspose2d(4, 6, k, stride=s, padding=p, output_padding=op, dilation=d, groups=2)
    spec = (f"{{type: conv_transpose2d, filters: 6, kernel: {k}, stride: {s}, padding: {p}, output_padding: {op}, "
            f"dilation: {d}, groups: 2}}")
    for size in SIZES[:12]:
        assert ours(spec, 4, size) == theirs(module, 4, size), size


@pytest.mark.parametrize("out", [1, 2, 3, 5, 6, 7])
def test_adaptive_avg_pool(out):
    module = torch.nn.AdaptiveAvgPool2d(out)
    for size in SIZES:
        assert ours(f"{{type: adaptive_avg_pool2d, output_size: {out}}}", 3, size) == theirs(module, 3, size)


def test_conv1d_and_depthwise():
    for size in SIZES:
        x = torch.zeros(1, 4, size, device="meta")
        m = torch.nn.Conv1d(4, 8, 3, stride=2, padding=1, device="meta")
        a = cnncalc.analyse(cnncalc.loads(f"input: [4, {size}]\nlayout: channels_first\nlayers:\n"
                          "  - {type: conv1d, filters: 8, kernel: 3, stride: 2, padding: 1}\n"))
        assert a.layers[0].output_shape == tuple(m(x).shape[1:])
        assert a.layers[0].params == sum(p.numel() for p in m.parameters())
    dw = torch.nn.Conv2d(16, 32, 3, padding=1, groups=16)
    assert ours("{type: depthwise_conv2d, kernel: 3, padding: 1, depth_multiplier: 2}", 16, 9) == theirs(dw, 16, 9)
