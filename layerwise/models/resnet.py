"""ResNets (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", 2015),
as torchvision builds them (ResNet v1.5: the stride of a bottleneck sits on its 3x3 conv).

A residual block learns F(x) and outputs ReLU(F(x) + x): the identity shortcut lets
the gradient flow straight through, so 50 to 152 layers still train. When the block
changes the size or the number of channels, the shortcut is ``downsample`` = 1x1 conv
(stride s) + batch norm (the paper's "option B").

    BasicBlock (resnet18, 34):   conv1 3x3 (stride s) - bn1 - relu - conv2 3x3 - bn2,
                                 + shortcut, relu; expansion 1
    Bottleneck (resnet50+):      conv1 1x1 - bn1 - relu - conv2 3x3 (stride s) - bn2 - relu
                                 - conv3 1x1 (4x channels) - bn3, + shortcut, relu

    input 3x224x224
    conv1 7x7 /2 pad 3 (64) - bn1 - relu           -> 64x112x112
    maxpool 3x3 /2 pad 1                           -> 64x56x56
    layer1: blocks of 64 (x expansion)             -> 56x56
    layer2: blocks of 128, first with stride 2     -> 28x28
    layer3: blocks of 256, first with stride 2     -> 14x14
    layer4: blocks of 512, first with stride 2     -> 7x7
    avgpool (adaptive, 1x1), flatten, fc -> num_classes

    blocks per layer: resnet18 [2, 2, 2, 2], resnet34 [3, 4, 6, 3] (BasicBlock);
    resnet50 [3, 4, 6, 3], resnet101 [3, 4, 23, 3], resnet152 [3, 8, 36, 3] (Bottleneck).

Parameters for 1000 classes: resnet18 11,689,512; resnet34 21,797,672; resnet50
25,557,032 (the notes' "25M"); resnet101 44,549,160; resnet152 60,192,808.
Initialization as torchvision: conv weights Kaiming normal (fan_out, ReLU), batch norm
γ = 1 and β = 0 (γ = 0 on each block's last bn with ``zero_init_residual``), fc PyTorch's
default. Any input of at least 1x1 pixel goes through (28x28 ends at 1x1 in layer4).
"""
from .. import nn
from .common import check_image_size, check_in_channels, check_input, kaiming_normal_, named
from .common import ones_, zeros_

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "conv1x1", "conv3x3", "resnet18", "resnet34",
           "resnet50", "resnet101", "resnet152"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding (no bias: a batch norm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution: a per-pixel linear map of the channels."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and the shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce) - 3x3 - 1x1 (expand x4) and the shortcut (ResNet v1.5: stride on the 3x3)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ``ResNet(block, layers, num_classes=1000, zero_init_residual=False,
    groups=1, width_per_group=64, replace_stride_with_dilation=None, norm_layer=None)``;
    ``in_channels`` (3) is layerwise's addition."""

    name = "resnet"
    min_size = 1

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None, *,
                 in_channels=3):
        super().__init__()
        check_in_channels(in_channels, self.name)
        norm_layer = norm_layer or nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.in_channels = in_channels
        self.inplanes, self.dilation = 64, 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer, downsample = self._norm_layer, None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        check_input(x, self.name, self.in_channels, self.min_size)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.fc(x)


def init_resnet_weights(model, zero_init_residual=False):
    """Kaiming normal (fan_out) convs, γ = 1 / β = 0 norms; γ = 0 closing each residual
    branch if ``zero_init_residual`` (each block then starts as the identity)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
            ones_(m.weight)
            zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else \
                getattr(m, "bn2", None) if isinstance(m, BasicBlock) else None
            if last is not None and last.weight is not None:
                zeros_(last.weight)


def _resnet(name, block, layers, num_classes, in_channels, image_size, kwargs):
    check_image_size(image_size, name, ResNet.min_size)
    return named(ResNet(block, layers, num_classes, in_channels=in_channels, **kwargs), name)


def resnet18(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ResNet-18: BasicBlock x [2, 2, 2, 2]; 11,689,512 parameters for 1000 classes."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], num_classes, in_channels, image_size,
                   kwargs)


def resnet34(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ResNet-34: BasicBlock x [3, 4, 6, 3]; 21,797,672 parameters for 1000 classes."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], num_classes, in_channels, image_size,
                   kwargs)


def resnet50(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ResNet-50: Bottleneck x [3, 4, 6, 3]; 25,557,032 parameters for 1000 classes."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], num_classes, in_channels, image_size,
                   kwargs)


def resnet101(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ResNet-101: Bottleneck x [3, 4, 23, 3]; 44,549,160 parameters for 1000 classes."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], num_classes, in_channels,
                   image_size, kwargs)


def resnet152(num_classes=1000, in_channels=3, image_size=None, **kwargs):
    """ResNet-152: Bottleneck x [3, 8, 36, 3]; 60,192,808 parameters for 1000 classes."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], num_classes, in_channels,
                   image_size, kwargs)
