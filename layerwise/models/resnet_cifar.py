"""The CIFAR-10 ResNets of He et al. (2015, §4.2): resnet20, 32, 44, 56 and 110.

For 32x32 (and 28x28) images: depth 6n + 2 =

    conv1 3x3 (16) - bn1 - relu                          -> 16x32x32
    layer1: n BasicBlocks of 16                          -> 16x32x32
    layer2: n BasicBlocks of 32, the first with stride 2 -> 32x16x16
    layer3: n BasicBlocks of 64, the first with stride 2 -> 64x8x8
    avgpool (global), flatten, fc 64 -> num_classes

(28x28 inputs give 28, 14 and 7.) n = 3, 5, 7, 9, 18 for depths 20, 32, 44, 56, 110;
0.27M, 0.46M, 0.66M, 0.85M and 1.7M parameters (the paper's Table 6).

The paper uses identity shortcuts everywhere ("option A"): where a block halves the
size and doubles the channels, its ``downsample`` takes every second pixel and adds
all-zero channels (half before, half after), so shortcuts have no parameters.
``shortcut="B"`` uses torchvision's 1x1 conv + batch norm projection instead.
Blocks are :class:`~layerwise.models.resnet.BasicBlock`, with torchvision's names.
Initialization: Kaiming normal (fan_out) convs, batch norm γ = 1 / β = 0, fc PyTorch's default.
"""
from .. import nn
from .common import check_image_size, check_in_channels, check_input, named, pad_channels
from .resnet import BasicBlock, conv1x1, conv3x3, init_resnet_weights

__all__ = ["CifarResNet", "ZeroPadShortcut", "resnet20", "resnet32", "resnet44", "resnet56",
           "resnet110"]


class ZeroPadShortcut(nn.Module):
    """Option A: x[:, :, ::s, ::s] followed by all-zero channels up to ``out_channels``."""

    def __init__(self, in_channels, out_channels, stride=2):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"ZeroPadShortcut: out_channels ({out_channels}) must be at least "
                             f"in_channels ({in_channels})")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x):
        s = self.stride
        if s != 1:
            x = x[:, :, ::s, ::s]
        extra = self.out_channels - self.in_channels
        return pad_channels(x, extra // 2, extra - extra // 2) if extra else x

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class CifarResNet(nn.Module):
    """ResNet of depth 6n + 2 for small images (see the module docstring)."""

    name = "resnet_cifar"
    min_size = 1

    def __init__(self, depth=20, num_classes=10, in_channels=3, shortcut="A", width=16):
        super().__init__()
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"{self.name}: depth must be 6n + 2 (20, 32, 44, 56, 110, ...), "
                             f"got {depth}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"{self.name}: shortcut must be 'A' (zero padding) or 'B' "
                             f"(1x1 projection), got {shortcut!r}")
        check_in_channels(in_channels, self.name)
        self.in_channels, self.depth, self.shortcut = in_channels, depth, shortcut
        blocks = (depth - 2) // 6
        self.inplanes = width
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(width, blocks, stride=1)
        self.layer2 = self._make_layer(2 * width, blocks, stride=2)
        self.layer3 = self._make_layer(4 * width, blocks, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)
        init_resnet_weights(self)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = ZeroPadShortcut(self.inplanes, planes, stride) if self.shortcut == "A" \
                else nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.avgpool(x)
        return self.fc(x.flatten(1))


def _cifar_resnet(depth, num_classes, in_channels, image_size, kwargs):
    name = f"resnet{depth}"
    check_image_size(image_size, name, CifarResNet.min_size)
    return named(CifarResNet(depth, num_classes, in_channels, **kwargs), name)


def resnet20(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """CIFAR ResNet-20 (3 blocks per stage); 269,722 parameters for 10 classes.
    kwargs: ``shortcut`` ('A' or 'B'), ``width`` (16: the first stage's channels)."""
    return _cifar_resnet(20, num_classes, in_channels, image_size, kwargs)


def resnet32(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """CIFAR ResNet-32 (5 blocks per stage); 0.46M parameters."""
    return _cifar_resnet(32, num_classes, in_channels, image_size, kwargs)


def resnet44(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """CIFAR ResNet-44 (7 blocks per stage); 0.66M parameters."""
    return _cifar_resnet(44, num_classes, in_channels, image_size, kwargs)


def resnet56(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """CIFAR ResNet-56 (9 blocks per stage); 0.85M parameters."""
    return _cifar_resnet(56, num_classes, in_channels, image_size, kwargs)


def resnet110(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """CIFAR ResNet-110 (18 blocks per stage); 1.7M parameters."""
    return _cifar_resnet(110, num_classes, in_channels, image_size, kwargs)
