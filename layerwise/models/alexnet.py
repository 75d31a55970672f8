"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012) and ZF Net (Zeiler & Fergus, 2013).

AlexNet, as torchvision builds it (the single-tower variant of Krizhevsky's "One weird
trick" paper, 2014: 64-192-384-256-256 filters and no local response normalization;
the 2012 paper split 96-256-384-384-256 filters over two GPUs):

    input 3x224x224
    features:   conv 64@11x11 /4 pad 2 + ReLU      -> 64x55x55
                max pool 3x3 /2                    -> 64x27x27
                conv 192@5x5 pad 2 + ReLU          -> 192x27x27
                max pool 3x3 /2                    -> 192x13x13
                conv 384@3x3 pad 1 + ReLU          -> 384x13x13
                conv 256@3x3 pad 1 + ReLU          -> 256x13x13
                conv 256@3x3 pad 1 + ReLU          -> 256x13x13
                max pool 3x3 /2                    -> 256x6x6
    avgpool:    adaptive average pool to 6x6       -> 256x6x6 (= 9216)
    classifier: dropout, FC 4096 + ReLU, dropout, FC 4096 + ReLU, FC num_classes

61,100,840 parameters for 1000 classes (the notes' "60M"). ``local_response_norm=True``
adds the 2012 paper's normalization (n=5, α=1e-4, β=0.75, k=2) after the first two
ReLUs; the ``features`` indices then shift, so torchvision weights no longer load.

ZF Net ("Visualizing and Understanding Convolutional Networks", Fig. 3) has no
torchvision version; this one follows the paper: AlexNet's layout with a 7x7 stride-2
first layer (instead of 11x11 stride 4, whose filters the paper found aliased) and a
stride-2 second layer, 96 then 256 filters, local contrast normalization across
feature maps after the first two layers (here ``LocalResponseNorm`` with AlexNet's
constants) and 3x3 stride-2 max pools, which reach the paper's 55, 13 and 6 only with
ceil-mode rounding (Caffe's):

    conv 96@7x7 /2 pad 1 + ReLU -> 96x110x110, max pool 3x3 /2 (ceil) -> 96x55x55, LRN
    conv 256@5x5 /2 + ReLU      -> 256x26x26,  max pool 3x3 /2 (ceil) -> 256x13x13, LRN
    conv 384@3x3 pad 1 + ReLU, conv 384@3x3 pad 1 + ReLU, conv 256@3x3 pad 1 + ReLU
    max pool 3x3 /2 (ceil)      -> 256x6x6, then AlexNet's avgpool and classifier.

62,357,608 parameters for 1000 classes. Initialization: PyTorch's layer defaults for
both (the ZF paper used N(0, 0.01²) weights and zero biases).
"""
from .. import nn
from .common import check_image_size, check_in_channels, check_input, named

__all__ = ["AlexNet", "ZFNet", "alexnet", "zfnet"]

#: the smallest square input whose feature maps survive the three poolings
ALEXNET_MIN_SIZE = 63
ZFNET_MIN_SIZE = 63


def _classifier(num_classes, dropout, hidden_features):
    return nn.Sequential(
        nn.Dropout(p=dropout),
        nn.Linear(256 * 6 * 6, hidden_features),
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(hidden_features, hidden_features),
        nn.ReLU(inplace=True),
        nn.Linear(hidden_features, num_classes))


def _lrn():
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """torchvision's ``AlexNet(num_classes=1000, dropout=0.5)``; see the module docstring.

    ``in_channels`` (3) and ``hidden_features`` (4096, the width of the two hidden FC
    layers) are layerwise's additions, for grey images and small test models.
    """

    name = "alexnet"
    min_size = ALEXNET_MIN_SIZE

    def __init__(self, num_classes=1000, dropout=0.5, *, in_channels=3, hidden_features=4096,
                 local_response_norm=False):
        super().__init__()
        check_in_channels(in_channels, self.name)
        self.in_channels = in_channels
        layers = [nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),
                  nn.ReLU(inplace=True)]
        layers += [_lrn()] if local_response_norm else []
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),
                   nn.Conv2d(64, 192, kernel_size=5, padding=2),
                   nn.ReLU(inplace=True)]
        layers += [_lrn()] if local_response_norm else []
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),
                   nn.Conv2d(192, 384, kernel_size=3, padding=1),
                   nn.ReLU(inplace=True),
                   nn.Conv2d(384, 256, kernel_size=3, padding=1),
                   nn.ReLU(inplace=True),
                   nn.Conv2d(256, 256, kernel_size=3, padding=1),
                   nn.ReLU(inplace=True),
                   nn.MaxPool2d(kernel_size=3, stride=2)]
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = _classifier(num_classes, dropout, hidden_features)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


class ZFNet(AlexNet):
    """Zeiler & Fergus's network (see the module docstring); AlexNet's attribute names."""

    name = "zfnet"
    min_size = ZFNET_MIN_SIZE

    def __init__(self, num_classes=1000, dropout=0.5, *, in_channels=3, hidden_features=4096):
        nn.Module.__init__(self)
        check_in_channels(in_channels, self.name)
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=7, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            _lrn(),
            nn.Conv2d(96, 256, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            _lrn(),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = _classifier(num_classes, dropout, hidden_features)


def alexnet(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """AlexNet (torchvision's structure and state_dict keys); inputs of at least 63x63.

    kwargs: ``dropout`` (0.5), ``hidden_features`` (4096), ``local_response_norm`` (False).
    """
    check_image_size(image_size, "alexnet", ALEXNET_MIN_SIZE)
    return named(AlexNet(num_classes, in_channels=in_channels, **kwargs), "alexnet")


def zfnet(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ZF Net (Zeiler & Fergus, 2013); inputs of at least 63x63. kwargs: ``dropout``,
    ``hidden_features``."""
    check_image_size(image_size, "zfnet", ZFNET_MIN_SIZE)
    return named(ZFNet(num_classes, in_channels=in_channels, **kwargs), "zfnet")
