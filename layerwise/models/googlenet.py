"""GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", 2014),
as torchvision builds it (batch norm after every convolution, as in its port of the
TensorFlow weights).

An Inception module runs four branches on the same input and concatenates their
feature maps along the channels:

    branch1: 1x1 conv                          (ch1x1)
    branch2: 1x1 conv (ch3x3red) - 3x3 conv    (ch3x3)
    branch3: 1x1 conv (ch5x5red) - 3x3 conv    (ch5x5; the paper's 5x5 -- torchvision's
             known deviation, vision issue #906, kept so that its weights load)
    branch4: 3x3 max pool /1 pad 1 - 1x1 conv  (pool_proj)

The 1x1 convolutions cut the channels before the expensive 3x3 ones. Every conv is a
``BasicConv2d``: conv (no bias) - BatchNorm2d(eps=0.001) - ReLU.

    input 3x224x224
    conv1 7x7 /2 (64), maxpool1 3x3 /2 ceil     -> 64x56x56
    conv2 1x1 (64), conv3 3x3 (192), maxpool2   -> 192x28x28
    inception3a (256), inception3b (480), maxpool3             -> 480x14x14
    inception4a (512) [aux1], 4b, 4c, 4d (528) [aux2], 4e (832), maxpool4 2x2 -> 832x7x7
    inception5a (832), inception5b (1024)
    avgpool (1x1), flatten, dropout 0.2, fc 1024 -> num_classes

6,624,904 parameters for 1000 classes without the auxiliary classifiers (the notes'
"5M" is the paper's figure of about 5 million for its own version), 13,004,888 with them.
``aux_logits=True`` adds the two auxiliary classifiers (``aux1`` after 4a, ``aux2`` after
4d: adaptive average pool 4x4, 1x1 conv 128, FC 1024 + ReLU, dropout 0.7, FC
num_classes); in training mode the model then returns ``GoogLeNetOutputs(logits,
aux_logits2, aux_logits1)`` (the paper weighs their losses by 0.3), in eval mode the
logits only. The default here is ``aux_logits=False`` (torchvision's class defaults to
True, its pretrained model to False) so that the plain training loop applies.
``transform_input=True`` maps ImageNet-normalized inputs to the [-1, 1] scaling the
TensorFlow weights expect. Initialization as torchvision: conv and FC weights truncated
normal (σ = 0.01, cut at 2σ), batch norm γ = 1, β = 0.
"""
from collections import namedtuple

import numpy as np

from .. import nn
from .common import (adaptive_avg_pool2d, cat, check_image_size, check_in_channels,
                     check_input, named, ones_, trunc_normal_, zeros_)

__all__ = ["BasicConv2d", "Inception", "InceptionAux", "GoogLeNet", "GoogLeNetOutputs",
           "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])

#: the smallest square input that survives conv1 and the four ceil-mode poolings
GOOGLENET_MIN_SIZE = 31


class BasicConv2d(nn.Module):
    """conv (no bias) - BatchNorm2d(eps=0.001) - ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


class Inception(nn.Module):
    """Four parallel branches concatenated along the channels (see the module docstring)."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 conv_block=None):
        super().__init__()
        conv_block = conv_block or BasicConv2d
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                     conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                     conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: avg pool to 4x4, 1x1 conv (128), FC 1024 + ReLU, dropout, FC."""

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        conv_block = conv_block or BasicConv2d
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = adaptive_avg_pool2d(x, (4, 4))
        x = self.conv(x).flatten(1)
        x = self.dropout(self.fc1(x).relu())
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """torchvision's ``GoogLeNet(num_classes=1000, aux_logits=True, transform_input=False,
    init_weights=None, blocks=None, dropout=0.2, dropout_aux=0.7)``; ``in_channels`` (3)
    is layerwise's addition (``transform_input`` needs 3)."""

    name = "googlenet"
    min_size = GOOGLENET_MIN_SIZE

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False,
                 init_weights=None, blocks=None, dropout=0.2, dropout_aux=0.7, *,
                 in_channels=3):
        super().__init__()
        check_in_channels(in_channels, self.name)
        if transform_input and in_channels != 3:
            raise ValueError(f"{self.name}: transform_input needs 3 input channels (RGB), "
                             f"got in_channels={in_channels}")
        conv_block, inception_block, aux_block = blocks or (BasicConv2d, Inception,
                                                            InceptionAux)
        self.aux_logits, self.transform_input = aux_logits, transform_input
        self.in_channels = in_channels
        self.conv1 = conv_block(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights is None or init_weights:
            init_googlenet_weights(self)

    def _transform_input(self, x):
        """x_c · (std_c / 0.5) + (mean_c - 0.5) / 0.5: ImageNet normalization -> [-1, 1]."""
        if not self.transform_input:
            return x
        scale = np.array([0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5], x.dtype)
        shift = np.array([(0.485 - 0.5) / 0.5, (0.456 - 0.5) / 0.5, (0.406 - 0.5) / 0.5],
                         x.dtype)
        return x * scale.reshape(1, 3, 1, 1) + shift.reshape(1, 3, 1, 1)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.avgpool(x).flatten(1)
        x = self.fc(self.dropout(x))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def init_googlenet_weights(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            trunc_normal_(m.weight, 0.01)
        elif isinstance(m, nn.BatchNorm2d):
            ones_(m.weight)
            zeros_(m.bias)


def googlenet(num_classes=1000, in_channels=3, image_size=None, aux_logits=False, **kwargs):
    """GoogLeNet (Inception v1), torchvision's structure and keys; inputs of at least 31x31.

    kwargs: ``transform_input`` (False), ``dropout`` (0.2), ``dropout_aux`` (0.7),
    ``init_weights`` (True).
    """
    check_image_size(image_size, "googlenet", GOOGLENET_MIN_SIZE)
    model = GoogLeNet(num_classes, aux_logits, in_channels=in_channels, **kwargs)
    return named(model, "googlenet")
