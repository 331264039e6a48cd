"""Hand-written PyTorch reference models: an independent oracle for cnncalc.

Every architecture in ``architectures/`` has a builder here.  Each cnncalc layer
has a *leaf* module with the same dotted path (``model.get_submodule("layer1.0.conv1")``),
including activations, flatten, dropout, softmax, LRN, pooling and the merge layers
(``Add``, ``Concat``, ``Multiply``).  The forward passes are written by hand, following
the papers / torchvision; they are not derived from the YAML specs.

``run_torch(model, input_chw)`` feeds the model one zero batch and returns, per leaf
module, its output shape, input shapes, parameter counts and MACs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

# --------------------------------------------------------------------------- helpers


class Add(nn.Module):
    """Element-wise sum of several tensors (residual connections)."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Concatenation along the channel axis (dim 1 in NCHW)."""

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, dim=self.dim)


class Multiply(nn.Module):
    """Element-wise product; an (N, C) tensor scales an (N, C, H, W) one channel-wise (SENet)."""

    def forward(self, x, *others):
        for s in others:
            if s.dim() == 2 and x.dim() == 4:
                s = s[:, :, None, None]
            x = x * s
        return x


class GlobalAvgPool(nn.Module):
    """Global average pooling to a flat (N, C) vector (Keras GlobalAveragePooling2D)."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class PerPositionBiasConv2d(nn.Conv2d):
    """Conv2d without a shared bias, plus one bias per output position (AlphaGo's last layer)."""

    def __init__(self, in_channels, out_channels, kernel_size, out_hw, **kw):
        super().__init__(in_channels, out_channels, kernel_size, bias=False, **kw)
        self.position_bias = nn.Parameter(torch.zeros(out_channels, *out_hw))

    def forward(self, x):
        return super().forward(x) + self.position_bias


# --------------------------------------------------------------------------- slides' nets


class AlexNetSimplified(nn.Module):
    """CS231n / slide 001 "full (simplified) AlexNet" (no GPU split), input 3x227x227."""

    def __init__(self):
        super().__init__()

        def lrn():
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)

        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, 2)
        self.norm1 = lrn()
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(3, 2)
        self.norm2 = lrn()
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1)
        self.relu4 = nn.ReLU()
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1)
        self.relu5 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(3, 2)
        self.flatten = nn.Flatten()
        self.fc6 = nn.Linear(6 * 6 * 256, 4096)
        self.relu6 = nn.ReLU()
        self.drop6 = nn.Dropout(0.5)
        self.fc7 = nn.Linear(4096, 4096)
        self.relu7 = nn.ReLU()
        self.drop7 = nn.Dropout(0.5)
        self.fc8 = nn.Linear(4096, 1000)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.norm1(self.pool1(self.relu1(self.conv1(x))))
        x = self.norm2(self.pool2(self.relu2(self.conv2(x))))
        x = self.relu3(self.conv3(x))
        x = self.relu4(self.conv4(x))
        x = self.pool3(self.relu5(self.conv5(x)))
        x = self.flatten(x)
        x = self.drop6(self.relu6(self.fc6(x)))
        x = self.drop7(self.relu7(self.fc7(x)))
        return self.softmax(self.fc8(x))


class _ConvReLU(nn.Module):
    def __init__(self, cin, cout, k, padding):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=padding)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x))


class AlphaGoPolicy(nn.Module):
    """AlphaGo SL policy network (Silver et al. 2016, Methods), input 48x19x19."""

    def __init__(self, k: int = 192):
        super().__init__()
        self.conv1 = nn.Conv2d(48, k, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.hidden = nn.ModuleList(_ConvReLU(k, k, 3, 1) for _ in range(11))  # layers 2..12
        self.conv13 = PerPositionBiasConv2d(k, 1, 1, out_hw=(19, 19))
        self.flatten = nn.Flatten()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        for layer in self.hidden:
            x = layer(x)
        return self.softmax(self.flatten(self.conv13(x)))


class CifarNet(nn.Module):
    """Slide 003's ``Net`` (PyTorch, 3x32x32 CIFAR input), with the functional ops as modules."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=0, stride=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, 4)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.5)
        self.fc1 = nn.Linear(64 * 6 * 6, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))  # 32x15x15
        x = self.pool2(self.relu2(self.conv2(x)))  # 64x6x6
        return self.fc1(self.dropout(self.flatten(x)))


class HwConv760(nn.Module):
    """Slides' homework: 10 5x5 filters, stride 1, pad 2 on 3x32x32 -> 10x32x32, 760 params."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 5, stride=1, padding=2)

    def forward(self, x):
        return self.conv1(x)


# --------------------------------------------------------------------------- torchvision nets


class AlexNetTorchvision(nn.Module):
    """torchvision.models.alexnet (61,100,840 params)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


class VGG16(nn.Module):
    """torchvision.models.vgg16 (configuration D, no batch norm; 138,357,544 params)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
        mods, cin = [], 3
        for v in cfg:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
                cin = v
        self.features = nn.Sequential(*mods)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def _downsample(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """torchvision ResNet BasicBlock; its single reused ReLU split into relu1/relu2, plus ``add``."""

    def __init__(self, cin, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _downsample(cin, planes, stride) if stride != 1 or cin != planes else None
        self.add = Add()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(self.add(out, identity))


class SELayer(nn.Module):
    """Squeeze-and-excitation: GAP -> fc(C/r) -> ReLU -> fc(C) -> sigmoid (Linear with bias)."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.pool = GlobalAvgPool()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(channels // reduction, channels)
        self.sigmoid = nn.Sigmoid()
        self.scale = Multiply()

    def forward(self, x):
        s = self.sigmoid(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return self.scale(x, s)


class Bottleneck(nn.Module):
    """torchvision ResNet v1.5 Bottleneck (stride on the 3x3 conv); optional SE on bn3's output."""

    expansion = 4

    def __init__(self, cin, planes, stride=1, se=False):
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.se = SELayer(cout) if se else None
        self.downsample = _downsample(cin, cout, stride) if stride != 1 or cin != cout else None
        self.add = Add()
        self.relu3 = nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        return self.relu3(self.add(out, identity))


class ResNet(nn.Module):
    """torchvision.models.resnet18 / resnet50 (and SE-ResNet-50 with ``se=True``)."""

    def __init__(self, block, layers, num_classes=1000, se=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = 64
        for i, (n, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                kw = {"se": se} if block is Bottleneck else {}
                blocks.append(block(cin, planes, stride, **kw))
                cin = planes * getattr(block, "expansion", 1)
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


class BasicConv2d(nn.Module):
    """torchvision GoogLeNet BasicConv2d: conv (no bias) + BN(eps=0.001) + ReLU (as a module)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """torchvision GoogLeNet Inception module (branch 3 uses a 3x3 conv, torchvision's quirk)."""

    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 3, padding=1))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), BasicConv2d(cin, pool_proj, 1)
        )
        self.concat = Concat(1)

    def forward(self, x):
        return self.concat(self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x))


class GoogLeNet(nn.Module):
    """torchvision.models.googlenet without aux heads (6,624,904 params)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for name in ("4a", "4b", "4c", "4d", "4e"):
            x = getattr(self, "inception" + name)(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(self.flatten(self.avgpool(x))))


def _conv_bn_relu6(cin, cout, kernel=3, stride=1, groups=1):
    """torchvision Conv2dNormActivation(..., activation_layer=ReLU6): [0] conv, [1] bn, [2] relu6."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(),
    )


class InvertedResidual(nn.Module):
    """torchvision MobileNetV2 InvertedResidual; the residual sum is the ``add`` module."""

    def __init__(self, cin, cout, stride, expand_ratio):
        super().__init__()
        hidden = cin * expand_ratio
        layers = []
        if expand_ratio != 1:
            layers.append(_conv_bn_relu6(cin, hidden, kernel=1))
        layers += [
            _conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout
        if self.use_res_connect:
            self.add = Add()

    def forward(self, x):
        return self.add(self.conv(x), x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.mobilenet_v2 (width 1.0; 3,504,872 params)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        setting = [
            (1, 16, 1, 1),
            (6, 24, 2, 2),
            (6, 32, 3, 2),
            (6, 64, 4, 2),
            (6, 96, 3, 1),
            (6, 160, 3, 2),
            (6, 320, 1, 1),
        ]
        feats, cin = [_conv_bn_relu6(3, 32, stride=2)], 32
        for t, c, n, s in setting:
            for i in range(n):
                feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(_conv_bn_relu6(cin, 1280, kernel=1))
        self.features = nn.Sequential(*feats)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # functional in torchvision
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


# --------------------------------------------------------------------------- registry

MODELS = {
    "alexnet": AlexNetSimplified,
    "alphago_policy": AlphaGoPolicy,
    "cifar_net": CifarNet,
    "hw_conv_760": HwConv760,
    "alexnet_torchvision": AlexNetTorchvision,
    "vgg16": VGG16,
    "resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2]),
    "resnet50": lambda: ResNet(Bottleneck, [3, 4, 6, 3]),
    "se_resnet50": lambda: ResNet(Bottleneck, [3, 4, 6, 3], se=True),
    "googlenet": GoogLeNet,
    "mobilenet_v2": MobileNetV2,
}

INPUT_CHW = {
    "alexnet": (3, 227, 227),
    "alphago_policy": (48, 19, 19),
    "cifar_net": (3, 32, 32),
    "hw_conv_760": (3, 32, 32),
}


def build(name: str) -> nn.Module:
    return MODELS[name]()


# --------------------------------------------------------------------------- measuring


@dataclass
class TorchLayer:
    output_shape: tuple
    input_shapes: list
    trainable_params: int
    non_trainable_params: int
    macs: int
    calls: int = 1
    extra: dict = field(default_factory=dict)


def trainable_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def non_trainable_params(module: nn.Module) -> int:
    """BatchNorm running mean/variance (num_batches_tracked is bookkeeping, not a weight)."""
    return sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))


def module_macs(module: nn.Module, output: torch.Tensor) -> int:
    """MACs from the module's attributes and its (batch-1) output: conv and linear only."""
    out_numel = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out_numel * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return out_numel * module.in_features
    return 0


def leaf_modules(model: nn.Module) -> dict:
    return {n: m for n, m in model.named_modules() if n and not any(True for _ in m.children())}


@torch.no_grad()
def run_torch(model: nn.Module, input_chw) -> dict:
    """Run one zero batch through ``model``; return {leaf module path: TorchLayer}."""
    model.eval()
    found: dict[str, TorchLayer] = {}
    hooks = []

    def make_hook(name):
        def hook(module, inputs, output):
            if name in found:
                found[name].calls += 1
                return
            found[name] = TorchLayer(
                output_shape=tuple(output.shape[1:]),
                input_shapes=[tuple(t.shape[1:]) for t in inputs],
                trainable_params=trainable_params(module),
                non_trainable_params=non_trainable_params(module),
                macs=module_macs(module, output),
            )

        return hook

    for name, module in leaf_modules(model).items():
        hooks.append(module.register_forward_hook(make_hook(name)))
    try:
        model(torch.zeros(1, *input_chw))
    finally:
        for h in hooks:
            h.remove()
    return found


if __name__ == "__main__":  # quick standalone check: python tests/torch_models.py
    for name in MODELS:
        m = build(name)
        res = run_torch(m, INPUT_CHW.get(name, (3, 224, 224)))
        total = sum(p.numel() for p in m.parameters())
        macs = sum(r.macs for r in res.values())
        last = list(res.values())[-1].output_shape
        print(
            f"{name:22s} params={total:>12,d}  macs={macs:>15,d}  out={last}  "
            f"leaves={len(leaf_modules(m))} called={len(res)}"
        )
