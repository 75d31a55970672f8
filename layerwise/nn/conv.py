"""Convolution layers (PyTorch's ``nn.Conv2d``).

A Conv2d layer slides ``out_channels`` filters of shape (in_channels/groups, kh, kw)
over its input; each filter gives one feature map of size

    (W - F + 2P) / S + 1   per axis (rounded down; with dilation d, F -> d·(F - 1) + 1).

Parameters: out_channels · (in_channels/groups · kh · kw) weights + out_channels biases,
e.g. 20 filters of 5x5x3: 20 · 75 + 20 = 1,520.
"""
import numpy as np

from ..autograd.factories import get_default_dtype
from .functional.conv import _pair, convolution
from .init import default_layer_init_
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution over (N, C, H, W) inputs: y = conv2d(x, weight, bias, ...).

    weight: (out_channels, in_channels/groups, kh, kw); bias: (out_channels,).
    Both start from PyTorch's default, U(-1/√fan_in, 1/√fan_in), fan_in = C/groups·kh·kw.
    padding: int, (h, w), 'valid' or 'same' (stride 1 only). Only padding_mode='zeros'
    is implemented.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__()
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"Conv2d: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"Conv2d: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        for name in ("kernel_size", "stride", "dilation"):
            if min(getattr(self, name)) <= 0:
                raise ValueError(f"Conv2d: {name} must be positive, got {getattr(self, name)}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one "
                                 f"of {{'valid', 'same'}}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", "Conv2d")
            if min(self.padding) < 0:
                raise ValueError(f"Conv2d: padding must be non-negative, got {self.padding}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported "
                                      f"(only 'zeros' is implemented)")
        if device not in (None, "cpu"):
            raise RuntimeError(f"Conv2d: device {device!r} is not available: layerwise runs "
                               f"on the CPU")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding_mode = padding_mode
        self.output_padding, self.transposed = (0, 0), False
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups)
                                         + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight and bias ~ U(-1/√fan_in, 1/√fan_in)."""
        default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return convolution(input, self.weight, self.bias, self.stride, self.padding,
                           self.dilation, self.groups, op="Conv2d")

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
