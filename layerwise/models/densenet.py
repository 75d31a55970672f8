"""DenseNets (Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional
Networks", 2016): torchvision's ImageNet models and the paper's CIFAR DenseNet-BC.

Inside a dense block every layer receives the concatenation of all the feature maps
before it and adds ``growth_rate`` (k) new ones, so a block of L layers on c channels
outputs c + L·k. A dense layer (the "B" of BC: a 1x1 bottleneck) is

    norm1 - relu1 - conv1 1x1 (bn_size·k) - norm2 - relu2 - conv2 3x3 (k) [- dropout]

and a transition between blocks (the "C": compression 0.5) is
norm - relu - conv 1x1 (half the channels) - pool 2x2 average.

torchvision's ImageNet DenseNets (``features`` is one Sequential):

    conv0 7x7 /2 (64) - norm0 - relu0 - pool0 3x3 /2 max     -> 64x56x56 for 224x224
    denseblock1, transition1, denseblock2, transition2, denseblock3, transition3,
    denseblock4, norm5; then ReLU, global average pool, ``classifier`` (FC)
    densenet121: k = 32, blocks (6, 12, 24, 16): 7,978,856 parameters for 1000 classes;
    densenet161: k = 48, (6, 12, 36, 24), 96 initial features; densenet169: (6, 12, 32, 32);
    densenet201: (6, 12, 48, 32).

DenseNet-BC for CIFAR (``densenet_bc(depth, growth_rate)``, the paper's §3 and Table 2):
three dense blocks of n = (depth - 4) / 6 bottleneck layers, the stem a single 3x3 conv
with 2k filters (``features.conv0``, no norm0/pool0), transitions as above, norm5, then
ReLU, global average pool and ``classifier``. Depth counts the convolutions: 2 per
layer, the stem, two transitions and the classifier. DenseNet-BC (L=100, k=12) has
0.8M parameters, (L=250, k=24) 15.3M, (L=190, k=40) 25.6M (the paper's Table 2).
Initialization as torchvision: conv weights Kaiming normal (fan_in), batch norm γ = 1,
β = 0, classifier bias 0 (weight PyTorch's default). The memory-efficient
(checkpointing) option of torchvision is not implemented; its argument is refused.
"""
from .. import nn
from .common import (adaptive_avg_pool2d, cat, check_image_size, check_in_channels,
                     check_input, kaiming_normal_, named, ones_, zeros_)

__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet121", "densenet161",
           "densenet169", "densenet201", "densenet_bc"]


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 on the concatenation of all earlier feature maps."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        if memory_efficient:
            raise NotImplementedError("DenseNet: memory_efficient=True (gradient "
                                      "checkpointing) is not implemented in layerwise")
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.dropout = nn.Dropout(p=self.drop_rate) if self.drop_rate > 0 else None

    def forward(self, prev_features):
        if not isinstance(prev_features, (list, tuple)):
            prev_features = [prev_features]
        concatenated = cat(prev_features, 1) if len(prev_features) > 1 else prev_features[0]
        bottleneck = self.conv1(self.relu1(self.norm1(concatenated)))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.dropout is not None:
            new_features = self.dropout(new_features)
        return new_features


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers (``denselayer1``, ...); output: input + all new maps."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                               drop_rate, memory_efficient)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features):
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return cat(features, 1)


class Transition(nn.Sequential):
    """norm - relu - conv 1x1 (compression) - 2x2 average pool."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features,
                                          kernel_size=1, stride=1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """torchvision's ``DenseNet(growth_rate=32, block_config=(6, 12, 24, 16),
    num_init_features=64, bn_size=4, drop_rate=0, num_classes=1000,
    memory_efficient=False)``.

    layerwise's additions: ``in_channels`` (3); ``stem='cifar'`` (a 3x3 stride-1 conv0
    without norm0 and pool0, for DenseNet-BC on small images) and ``compression``
    (0.5: the share of channels a transition keeps).
    """

    name = "densenet"

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0, num_classes=1000, memory_efficient=False, *,
                 in_channels=3, stem="imagenet", compression=0.5):
        super().__init__()
        check_in_channels(in_channels, self.name)
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"{self.name}: stem must be 'imagenet' or 'cifar', got {stem!r}")
        self.in_channels = in_channels
        self.features = nn.Sequential()
        if stem == "imagenet":
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features,
                                                        kernel_size=7, stride=2, padding=3,
                                                        bias=False))
            self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
            self.features.add_module("relu0", nn.ReLU(inplace=True))
            self.features.add_module("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        else:
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features,
                                                        kernel_size=3, padding=1, bias=False))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate,
                               memory_efficient)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                out_features = int(num_features * compression)
                self.features.add_module(f"transition{i + 1}",
                                         Transition(num_features, out_features))
                num_features = out_features
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        # each transition's 2x2 pool needs a 2x2 input: 2^(blocks - 1) pixels after the
        # stem, which the ImageNet stem (two stride-2 steps) gets from 4 times that, minus 3
        after_stem = 2 ** (len(block_config) - 1)
        self.min_size = 4 * after_stem - 3 if stem == "imagenet" else after_stem
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                ones_(m.weight)
                zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                zeros_(m.bias)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        features = self.features(x)
        out = adaptive_avg_pool2d(features.relu(), (1, 1))
        return self.classifier(out.flatten(1))


def _densenet(name, growth_rate, block_config, num_init_features, num_classes, in_channels,
              image_size, kwargs):
    model = named(DenseNet(growth_rate, block_config, num_init_features,
                           num_classes=num_classes, in_channels=in_channels, **kwargs), name)
    check_image_size(image_size, name, model.min_size)
    return model


def densenet121(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """DenseNet-121 (k=32, blocks 6-12-24-16); 7,978,856 parameters for 1000 classes.
    kwargs: ``bn_size`` (4), ``drop_rate`` (0)."""
    return _densenet("densenet121", 32, (6, 12, 24, 16), 64, num_classes, in_channels,
                     image_size, kwargs)


def densenet161(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """DenseNet-161 (k=48, blocks 6-12-36-24, 96 initial features); 28,681,000 parameters."""
    return _densenet("densenet161", 48, (6, 12, 36, 24), 96, num_classes, in_channels,
                     image_size, kwargs)


def densenet169(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """DenseNet-169 (k=32, blocks 6-12-32-32); 14,149,480 parameters for 1000 classes."""
    return _densenet("densenet169", 32, (6, 12, 32, 32), 64, num_classes, in_channels,
                     image_size, kwargs)


def densenet201(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """DenseNet-201 (k=32, blocks 6-12-48-32); 20,013,928 parameters for 1000 classes."""
    return _densenet("densenet201", 32, (6, 12, 48, 32), 64, num_classes, in_channels,
                     image_size, kwargs)


def densenet_bc(depth=100, growth_rate=12, num_classes=10, in_channels=3, image_size=None,
                **kwargs):
    """The paper's CIFAR DenseNet-BC of ``depth`` = 6n + 4 and growth rate k: three blocks of
    n bottleneck layers, a 3x3 stem of 2k filters, compression 0.5 (see the module
    docstring). kwargs: ``bn_size`` (4), ``drop_rate`` (0), ``compression`` (0.5)."""
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"densenet_bc: depth must be 6n + 4 (40, 100, 190, 250, ...), got "
                         f"{depth}")
    layers = (depth - 4) // 6
    return _densenet(f"densenet_bc-{depth}-{growth_rate}", growth_rate, (layers,) * 3,
                     2 * growth_rate, num_classes, in_channels, image_size,
                     dict(kwargs, stem="cifar"))
