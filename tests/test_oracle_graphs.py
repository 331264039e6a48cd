"""architectures/two_heads.yaml (two inputs, a shared encoder, a two-input decoder block, two outputs)
against a PyTorch module and a Keras functional model written here by hand, layer by layer.

A shared layer is one module (one Keras layer) called twice: cnncalc's layer `enc1_mask.conv1` is the
second call of `enc1.conv1`. Its output shape is compared with that call's, its parameters are none
of its own (they are the first call's), and its MACs are counted at every call, as PyTorch's own
FLOP counter does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_models import Add, Concat, GlobalAvgPool  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "architectures" / "two_heads.yaml"
SHARED = {"enc1_mask": "enc1", "enc2_mask": "enc2"}  # block uses given as `share:` → the use they call again


class Stage(nn.Module):
    """Two conv-bn-relu (3x3, padding 1, no bias)."""

    def __init__(self, c_in: int, f: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, f, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(f)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(f, f, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(f)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(x)))


class Up(nn.Module):
    """U-Net decoder block: upsample x 2x (transposed conv), concatenate the skip, conv-bn-relu."""

    def __init__(self, c_in: int, c_skip: int, f: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, f, 2, stride=2)
        self.cat = Concat()
        self.conv = nn.Conv2d(f + c_skip, f, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(f)
        self.relu = nn.ReLU()

    def forward(self, x, skip):
        return self.relu(self.bn(self.conv(self.cat(self.up(x), skip))))


class TwoHeads(nn.Module):
    def __init__(self, classes: int = 10, seg_classes: int = 2):
        super().__init__()
        self.image_stem = nn.Conv2d(3, 16, 3, padding=1)
        self.mask_stem = nn.Conv2d(1, 16, 3, padding=1)
        self.enc1 = Stage(16, 16)
        self.pool1 = nn.MaxPool2d(2)
        self.pool1_mask = nn.MaxPool2d(2)
        self.enc2 = Stage(16, 32)
        self.fuse1 = Add()
        self.fuse2 = Add()
        self.pool2 = nn.MaxPool2d(2)
        self.bottleneck = Stage(32, 64)
        self.dec2 = Up(64, 32, 32)
        self.dec1 = Up(32, 16, 16)
        self.seg = nn.Conv2d(16, seg_classes, 1)
        self.gap = GlobalAvgPool()
        self.cls = nn.Linear(64, classes)

    def forward(self, image, mask):
        image, mask = self.image_stem(image), self.mask_stem(mask)
        e1, e1_mask = self.enc1(image), self.enc1(mask)  # one encoder, both streams
        e2, e2_mask = self.enc2(self.pool1(e1)), self.enc2(self.pool1_mask(e1_mask))
        f1, f2 = self.fuse1(e1, e1_mask), self.fuse2(e2, e2_mask)
        b = self.bottleneck(self.pool2(f2))
        d1 = self.dec1(self.dec2(b, f2), f1)
        return self.seg(d1), self.cls(self.gap(b))


def torch_path(name: str) -> tuple[str, int]:
    """The module a cnncalc layer is, and which of its calls."""
    use, _, rest = name.partition(".")
    if use in SHARED:
        return f"{SHARED[use]}.{rest}", 1
    return name, 0


def macs(module: nn.Module, inputs, output) -> int:
    """Multiply-accumulates of one call, from the module's own attributes (batch 1)."""
    if isinstance(module, nn.ConvTranspose2d):  # every input value times a (C_out/groups)·kH·kW kernel
        return inputs[0][0].numel() * module.out_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.Conv2d):
        return output[0].numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


@torch.no_grad()
def run(model: nn.Module, size: int) -> tuple[dict[str, list], int]:
    """Every leaf module's calls (output shape CHW, input shapes, MACs) and FlopCounterMode's FLOPs."""
    model.eval()
    calls: dict[str, list] = {}
    hooks = []
    for path, m in model.named_modules():
        if path and not any(True for _ in m.children()):
            calls[path] = []
            hooks.append(m.register_forward_hook(
                lambda m, i, o, path=path: calls[path].append((tuple(o.shape[1:]), [tuple(t.shape[1:]) for t in i],
                                                               macs(m, i, o)))))
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.zeros(1, 3, size, size), torch.zeros(1, 1, size, size))
    for h in hooks:
        h.remove()
    return calls, counter.get_total_flops()


def hwc(chw: tuple[int, ...]) -> tuple[int, ...]:
    return chw if len(chw) == 1 else (*chw[1:], chw[0])


def own(module: nn.Module) -> tuple[int, int]:
    frozen = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
    return sum(p.numel() for p in module.parameters()), frozen


@pytest.mark.parametrize("size", [128, 64])
def test_every_layer_equals_the_hand_built_torch_module(size):
    a = cnncalc.analyse(SPEC, {"size": size})
    model = TwoHeads()
    calls, flops = run(model, size)
    mapped = {torch_path(layer.name) for layer in a.layers}
    assert mapped == {(path, k) for path, c in calls.items() for k in range(len(c))}  # every call, once
    for layer in a.layers:
        path, k = torch_path(layer.name)
        out, ins, m = calls[path][k]
        assert layer.output_shape == hwc(out), layer.name
        assert [tuple(s) for s in layer.input_shapes] == [hwc(s) for s in ins], layer.name
        assert layer.macs == m, layer.name
        module = model.get_submodule(path)
        if k:  # the same module called again: no weights of its own
            assert layer.shares == f"{path}" and (layer.trainable_params, layer.non_trainable_params) == (0, 0)
        else:
            assert (layer.trainable_params, layer.non_trainable_params) == own(module), layer.name
    t = a.totals
    assert t["trainable_params"] == sum(p.numel() for p in model.parameters()) == 108_892
    assert t["non_trainable_params"] == own(model)[1] == 544
    assert 2 * t["macs"] == flops  # PyTorch's FLOP counter: 2 per MAC of every conv and linear call
    assert dict(a.outputs) == {"seg": (size, size, 2), "cls": (10,)}
    assert dict(a.inputs) == {"image": (size, size, 3), "mask": (size, size, 1)}


def test_header_figures():
    a = cnncalc.analyse(SPEC)
    assert a.totals["trainable_params"] == 108_892 and a.totals["non_trainable_params"] == 544
    assert a.totals["macs"] == 498_598_528
    assert "108,892 trainable params (+ 544 BN running mean/var); 498,598,528 MACs" in SPEC.read_text()


def test_sweep_rows_equal_torch_at_each_size():
    from cnncalc.sweep import run as sweep

    points = sweep(SPEC, "size", [32, 96, 160])
    for p in points:
        _, flops = run(TwoHeads(), p.value)
        assert 2 * p.analysis.totals["macs"] == flops
        assert p.analysis.outputs[0] == ("seg", (p.value, p.value, 2))


def test_every_layer_equals_the_hand_built_keras_model():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from keras import layers

    def stage(x, name, f, shared=None):
        """Two conv-bn-relu; `shared`: the layers of an earlier stage, called again."""
        made = shared or [layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"{name}_conv1"),
                          layers.BatchNormalization(name=f"{name}_bn1"), layers.ReLU(name=f"{name}_relu1"),
                          layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"{name}_conv2"),
                          layers.BatchNormalization(name=f"{name}_bn2"), layers.ReLU(name=f"{name}_relu2")]
        for layer in made:
            x = layer(x)
        return x, made

    def up(x, skip, name, f):
        x = layers.Conv2DTranspose(f, 2, strides=2, name=f"{name}_up")(x)
        x = layers.Concatenate(name=f"{name}_cat")([x, skip])
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    image, mask = keras.Input((128, 128, 3), name="image"), keras.Input((128, 128, 1), name="mask")
    i = layers.Conv2D(16, 3, padding="same", name="image_stem")(image)
    m = layers.Conv2D(16, 3, padding="same", name="mask_stem")(mask)
    e1, enc1 = stage(i, "enc1", 16)
    e1m, _ = stage(m, "enc1", 16, shared=enc1)
    e2, enc2 = stage(layers.MaxPooling2D(2, name="pool1")(e1), "enc2", 32)
    e2m, _ = stage(layers.MaxPooling2D(2, name="pool1_mask")(e1m), "enc2", 32, shared=enc2)
    f1 = layers.Add(name="fuse1")([e1, e1m])
    f2 = layers.Add(name="fuse2")([e2, e2m])
    b, _ = stage(layers.MaxPooling2D(2, name="pool2")(f2), "bottleneck", 64)
    d1 = up(up(b, f2, "dec2", 32), f1, "dec1", 16)
    seg = layers.Conv2D(2, 1, name="seg")(d1)
    cls = layers.Dense(10, name="cls")(layers.GlobalAveragePooling2D(name="gap")(b))
    model = keras.Model([image, mask], [seg, cls])

    a = cnncalc.analyse(SPEC)
    for layer in a.layers:
        path, k = torch_path(layer.name)
        kl = model.get_layer(path.replace(".", "_"))
        out = kl._get_node_attribute_at_index(k, "output_tensors", "output")  # the k-th call's output
        assert layer.output_shape == tuple(out.shape[1:]), layer.name
        if not k:
            weights = (sum(int(w.numpy().size) for w in kl.trainable_weights),
                       sum(int(w.numpy().size) for w in kl.non_trainable_weights))
            assert (layer.trainable_params, layer.non_trainable_params) == weights, layer.name
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert (a.totals["trainable_params"], a.totals["non_trainable_params"]) == (trainable, model.count_params() - trainable)
    assert [tuple(o.shape[1:]) for o in model.outputs] == [s for _, s in a.outputs]
