"""VGG (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", 2014), as torchvision builds it, and a VGG for 28x28 / 32x32 images.

Only 3x3 convolutions (stride 1, padding 1: the size is kept) and 2x2 max pools
(the size halves). Configurations (numbers are filters, M a max pool):

    A  vgg11: 64 M 128 M 256 256 M 512 512 M 512 512 M
    B  vgg13: 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
    D  vgg16: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
    E  vgg19: 64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M

Each conv is followed by ReLU (``_bn``: conv, BatchNorm2d, ReLU). Then

    avgpool:    adaptive average pool to 7x7           -> 512x7x7 (= 25088)
    classifier: FC 4096 + ReLU + dropout, FC 4096 + ReLU + dropout, FC num_classes

vgg16 has 138,357,544 parameters for 1000 classes (the notes' "138M"), 124M of them
in the classifier. Initialization as torchvision: conv weights Kaiming normal
(fan_out, ReLU), biases 0; batch-norm γ = 1, β = 0; FC weights N(0, 0.01²), biases 0.

``vgg11_cifar`` ... ``vgg19_cifar`` are the common small-image variant (as in the
CIFAR-10 literature): the same ``features`` with batch norm, but ceil-mode pools (so
28x28 goes 28-14-7-4-2-1 and 32x32 goes 32-16-8-4-2-1), a global average pool and a
single FC layer 512 -> num_classes as ``classifier``; vgg16_cifar has 14.7M parameters.
"""
from .. import nn
from .common import (check_image_size, check_in_channels, check_input, kaiming_normal_,
                     named, normal_, ones_, zeros_)

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn", "vgg11_cifar", "vgg13_cifar", "vgg16_cifar",
           "vgg19_cifar"]

cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}
_DEPTH_CFG = {11: "A", 13: "B", 16: "D", 19: "E"}


def make_layers(cfg, batch_norm=False, in_channels=3, ceil_mode=False):
    """The ``features`` Sequential of a configuration list (torchvision's ``make_layers``)."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _last_conv_channels(features):
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("VGG: features has no Conv2d layer")
    return convs[-1].out_channels, convs[0].in_channels


def _count_pools(features):
    return sum(isinstance(m, nn.MaxPool2d) for m in features.modules())


class VGG(nn.Module):
    """torchvision's ``VGG(features, num_classes=1000, init_weights=True, dropout=0.5)``.

    ``hidden_features`` (4096) is layerwise's addition: the width of the two hidden FC
    layers (small models for tests). The classifier's input is the last conv's
    channels x 7 x 7 (512 x 7 x 7 for the standard configurations).
    """

    name = "vgg"

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5, *,
                 hidden_features=4096):
        super().__init__()
        self.features = features
        channels, self.in_channels = _last_conv_channels(features)
        self.min_size = 2 ** _count_pools(features)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(channels * 7 * 7, hidden_features),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden_features, hidden_features),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden_features, num_classes))
        if init_weights:
            init_vgg_weights(self)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def init_vgg_weights(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            ones_(m.weight)
            zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            normal_(m.weight, 0.01)
            zeros_(m.bias)


def _vgg(depth, batch_norm, num_classes, in_channels, image_size, kwargs):
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    check_in_channels(in_channels, name)
    check_image_size(image_size, name, 32)
    features = make_layers(cfgs[_DEPTH_CFG[depth]], batch_norm, in_channels)
    model = VGG(features, num_classes, **kwargs)
    return named(model, name)


def vgg11(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-11 (configuration A); 132,863,336 parameters for 1000 classes."""
    return _vgg(11, False, num_classes, in_channels, image_size, kwargs)


def vgg11_bn(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-11 with batch normalization; 132,868,840 parameters for 1000 classes."""
    return _vgg(11, True, num_classes, in_channels, image_size, kwargs)


def vgg13(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-13 (configuration B); 133,047,848 parameters for 1000 classes."""
    return _vgg(13, False, num_classes, in_channels, image_size, kwargs)


def vgg13_bn(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-13 with batch normalization; 133,053,736 parameters for 1000 classes."""
    return _vgg(13, True, num_classes, in_channels, image_size, kwargs)


def vgg16(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-16 (configuration D); 138,357,544 parameters for 1000 classes."""
    return _vgg(16, False, num_classes, in_channels, image_size, kwargs)


def vgg16_bn(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-16 with batch normalization; 138,365,992 parameters for 1000 classes."""
    return _vgg(16, True, num_classes, in_channels, image_size, kwargs)


def vgg19(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-19 (configuration E); 143,667,240 parameters for 1000 classes."""
    return _vgg(19, False, num_classes, in_channels, image_size, kwargs)


def vgg19_bn(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """VGG-19 with batch normalization; 143,678,248 parameters for 1000 classes."""
    return _vgg(19, True, num_classes, in_channels, image_size, kwargs)


# ------------------------------------------------------------ small images
class CifarVGG(nn.Module):
    """VGG for 28x28 / 32x32 images: ``features`` (batch norm, ceil-mode pools) down to
    512x1x1 (larger inputs: 512 x H/32 x W/32), ``avgpool`` (global average, the identity
    at 1x1), then ``classifier`` = one FC layer 512 -> num_classes."""

    name = "vgg_cifar"
    min_size = 17  # the fifth ceil-mode 2x2 pool needs a 2x2 input: 17-9-5-3-2-1

    def __init__(self, cfg, num_classes=10, in_channels=3, batch_norm=True):
        super().__init__()
        check_in_channels(in_channels, self.name)
        self.in_channels = in_channels
        self.features = make_layers(cfg, batch_norm, in_channels, ceil_mode=True)
        channels, _ = _last_conv_channels(self.features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(channels, num_classes)
        init_vgg_weights(self)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self.features(x)
        x = self.avgpool(x)
        return self.classifier(x.flatten(1))


def _vgg_cifar(depth, num_classes, in_channels, image_size, kwargs):
    name = f"vgg{depth}_cifar"
    check_image_size(image_size, name, CifarVGG.min_size)
    model = CifarVGG(cfgs[_DEPTH_CFG[depth]], num_classes, in_channels, **kwargs)
    return named(model, name)


def vgg11_cifar(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """VGG-11 with batch norm for small images (28x28, 32x32; at least 17x17);
    9.2M parameters for 10 classes."""
    return _vgg_cifar(11, num_classes, in_channels, image_size, kwargs)


def vgg13_cifar(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """VGG-13 with batch norm for small images (28x28, 32x32; at least 17x17)."""
    return _vgg_cifar(13, num_classes, in_channels, image_size, kwargs)


def vgg16_cifar(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """VGG-16 with batch norm for small images (28x28, 32x32; at least 17x17);
    14.7M parameters for 10 classes."""
    return _vgg_cifar(16, num_classes, in_channels, image_size, kwargs)


def vgg19_cifar(num_classes=10, in_channels=3, image_size=None, **kwargs):
    """VGG-19 with batch norm for small images (28x28, 32x32; at least 17x17)."""
    return _vgg_cifar(19, num_classes, in_channels, image_size, kwargs)
