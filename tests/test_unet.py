"""The original U-Net (Ronneberger, Fischer & Brox 2015) against the paper's Fig. 1 and against a
PyTorch model and a Keras model built here by hand, layer by layer.

Both hand-built models follow the paper, not the spec: unpadded 3x3 convolutions with ReLU, 2x2
max pooling, 2x2 up-convolutions (transposed, stride 2) halving the channels, the contracting
path's map centre-cropped to the upsampled one and concatenated before it ("copy and crop"), a
final 1x1 convolution to the 2 classes. The PyTorch model runs on the meta device (shapes, no
arithmetic); the Keras model is only built (its shapes are inferred).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ARCH  # noqa: E402
from torch_models import Concat, leaf_modules  # noqa: E402

SPEC = ARCH / "unet.yaml"

# Fig. 1 of the paper: the map sizes of every stage, 572x572 in, 388x388 out.
FIGURE = {"down1.conv1": 570, "down1.conv2": 568, "pool1": 284, "down2.conv1": 282, "down2.conv2": 280,
          "pool2": 140, "down3.conv1": 138, "down3.conv2": 136, "pool3": 68, "down4.conv1": 66, "down4.conv2": 64,
          "pool4": 32, "bottom.conv1": 30, "bottom.conv2": 28, "up4.upconv": 56, "up4.conv1": 54, "up4.conv2": 52,
          "up3.upconv": 104, "up3.conv1": 102, "up3.conv2": 100, "up2.upconv": 200, "up2.conv1": 198,
          "up2.conv2": 196, "up1.upconv": 392, "up1.conv1": 390, "up1.conv2": 388, "final": 388}
CHANNELS = {"down1": 64, "down2": 128, "down3": 256, "down4": 512, "bottom": 1024, "up4": 512, "up3": 256,
            "up2": 128, "up1": 64}


class DoubleConv(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1, self.relu1 = nn.Conv2d(cin, cout, 3), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(cout, cout, 3), nn.ReLU()

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))))


class CentreCrop(nn.Module):
    """The skip's centre, of the upsampled map's size."""

    def forward(self, skip, like):
        h, w = like.shape[2:]
        top, left = (skip.shape[2] - h) // 2, (skip.shape[3] - w) // 2
        return skip[:, :, top:top + h, left:left + w]


class Up(DoubleConv):
    def __init__(self, cin: int, cout: int):
        super().__init__(2 * cout, cout)
        self.upconv, self.crop, self.concat = nn.ConvTranspose2d(cin, cout, 2, stride=2), CentreCrop(), Concat()

    def forward(self, x, skip):
        up = self.upconv(x)
        return super().forward(self.concat(self.crop(skip, up), up))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        for i, (cin, cout) in enumerate([(1, 64), (64, 128), (128, 256), (256, 512)], 1):
            setattr(self, f"down{i}", DoubleConv(cin, cout))
            setattr(self, f"pool{i}", nn.MaxPool2d(2))
        self.bottom = DoubleConv(512, 1024)
        for i, (cin, cout) in zip((4, 3, 2, 1), [(1024, 512), (512, 256), (256, 128), (128, 64)], strict=True):
            setattr(self, f"up{i}", Up(cin, cout))
        self.final = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        skips = []
        for i in range(1, 5):
            x = getattr(self, f"down{i}")(x)
            skips.append(x)
            x = getattr(self, f"pool{i}")(x)
        x = self.bottom(x)
        for i in (4, 3, 2, 1):
            x = getattr(self, f"up{i}")(x, skips[i - 1])
        return self.final(x)


def macs(module: nn.Module, inputs, output) -> int:
    if isinstance(module, nn.Conv2d):
        return output[0].numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.ConvTranspose2d):  # every input element meets every output channel's k x k taps
        return inputs[0][0].numel() * module.out_channels * module.kernel_size[0] * module.kernel_size[1]
    return 0


@pytest.fixture(scope="module")
def analysis():
    return cnncalc.analyse(SPEC)


def test_the_papers_figure(analysis):
    assert analysis.input_shape == (572, 572, 1) and analysis.output_shape == (388, 388, 2)
    for name, size in FIGURE.items():
        stage = name.split(".")[0].replace("pool", "down")
        channels = 2 if name == "final" else CHANNELS[stage]
        assert analysis.layer(name).output_shape == (size, size, channels), name
    for i, (skip, up) in enumerate([(568, 392), (280, 200), (136, 104), (64, 56)], 1):
        crop = analysis.layer(f"up{i}.crop")
        assert crop.input_shapes[0][0] == skip and crop.output_shape[0] == up  # copy and crop
        assert analysis.layer(f"up{i}.concat").output_shape[2] == 2 * crop.output_shape[2]


def test_every_layer_equals_the_hand_built_pytorch_model(analysis):
    with torch.device("meta"):
        model = UNet().eval()
    found = {}
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, (
        tuple(o.shape[1:]), [tuple(t.shape[1:]) for t in i], sum(p.numel() for p in m.parameters()), macs(m, i, o))))
        for name, m in leaf_modules(model).items()]
    with torch.no_grad():
        model(torch.zeros(1, 1, 572, 572, device="meta"))
    for h in hooks:
        h.remove()
    assert set(found) == {layer.name for layer in analysis.layers}
    for layer in analysis.layers:
        chw = lambda s: (s[-1], *s[:-1])  # noqa: E731
        assert (chw(layer.output_shape), [chw(s) for s in layer.input_shapes], layer.trainable_params, layer.macs) \
            == found[layer.name], layer.name
    assert analysis.totals["trainable_params"] == sum(p.numel() for p in model.parameters()) == 31_030_658
    assert analysis.totals["macs"] == sum(v[3] for v in found.values()) == 150_428_424_448


def test_every_layer_equals_the_hand_built_keras_model(analysis):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layers = keras.layers

    def double(x, name, filters):
        x = layers.Conv2D(filters, 3, name=f"{name}_conv1")(x)
        x = layers.ReLU(name=f"{name}_relu1")(x)
        x = layers.Conv2D(filters, 3, name=f"{name}_conv2")(x)
        return layers.ReLU(name=f"{name}_relu2")(x)

    inputs = keras.Input((572, 572, 1))
    x, skips = inputs, []
    for i, filters in enumerate((64, 128, 256, 512), 1):
        x = double(x, f"down{i}", filters)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = double(x, "bottom", 1024)
    for i, filters in zip((4, 3, 2, 1), (512, 256, 128, 64), strict=True):
        up = layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{i}_upconv")(x)
        skip = skips[i - 1]
        cut = [skip.shape[d] - up.shape[d] for d in (1, 2)]
        crop = layers.Cropping2D(tuple((c // 2, c - c // 2) for c in cut), name=f"up{i}_crop")(skip)
        x = double(layers.Concatenate(name=f"up{i}_concat")([crop, up]), f"up{i}", filters)
    model = keras.Model(inputs, layers.Conv2D(2, 1, name="final")(x))
    count = lambda ws: sum(int(w.numpy().size) for w in ws)  # noqa: E731
    for layer in analysis.layers:
        k = model.get_layer(layer.name.replace(".", "_"))
        assert (tuple(k.output.shape[1:]), count(k.trainable_weights), count(k.non_trainable_weights)) == \
            (layer.output_shape, layer.trainable_params, layer.non_trainable_params), layer.name
    assert model.count_params() == analysis.totals["params"] == 31_030_658
