"""Transposed convolution layer (PyTorch's ``nn.ConvTranspose2d``): the learned upsampling
of DCGAN generators and convolutional decoders.

Each input pixel spreads a kh x kw patch of the filters over the output, patches ``stride``
pixels apart, overlapping ones adding up; per axis the output has

    H_out = (H_in - 1)·stride - 2·padding + dilation·(kernel_size - 1) + output_padding + 1

pixels, e.g. 7 -> 14 with kernel 4, stride 2, padding 1 (the inverse shape of a strided
convolution). Parameters: in_channels · out_channels/groups · kh · kw weights + out_channels.
"""
import numpy as np

from ..autograd.factories import get_default_dtype
from .functional.conv import _pair
from .functional.conv_transpose import conv_transpose_output_size, transposed_convolution
from .init import default_layer_init_
from .module import Module
from .parameter import Parameter

__all__ = ["ConvTranspose2d"]


class ConvTranspose2d(Module):
    """y = conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation).

    weight: (in_channels, out_channels/groups, kh, kw) (PyTorch's layout); bias:
    (out_channels,). Both start from PyTorch's default U(-1/√fan_in, 1/√fan_in), with
    fan_in = weight.shape[1]·kh·kw = out_channels/groups·kh·kw (as PyTorch computes it).
    ``forward(input, output_size=None)``: given ``output_size`` ((H, W) or (N, C, H, W)),
    the output padding is chosen to reach it, as in PyTorch.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__()
        name = "ConvTranspose2d"
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        for what, count in (("in_channels", in_channels), ("out_channels", out_channels)):
            if count % groups:
                raise ValueError(f"{name}: {what} ({count}) must be divisible by groups "
                                 f"({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported (as in PyTorch), "
                             f"got padding_mode={padding_mode!r}")
        if device not in (None, "cpu"):
            raise RuntimeError(f"{name}: device {device!r} is not available: layerwise runs on "
                               f"the CPU")
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        self.stride = _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name)
        self.output_padding = _pair(output_padding, "output_padding", name)
        self.dilation = _pair(dilation, "dilation", name)
        for what in ("kernel_size", "stride", "dilation"):
            if min(getattr(self, what)) <= 0:
                raise ValueError(f"{name}: {what} must be positive, got {getattr(self, what)}")
        for op_pad, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op_pad >= max(s, d):
                raise ValueError(f"{name}: output padding must be smaller than either stride "
                                 f"or dilation, got output_padding={self.output_padding}, "
                                 f"stride={self.stride}, dilation={self.dilation}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding_mode, self.transposed = padding_mode, True
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((in_channels, out_channels // groups)
                                         + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight and bias ~ U(-1/√fan_in, 1/√fan_in)."""
        default_layer_init_(self.weight, self.bias)

    def _output_padding(self, input, output_size):
        """The output padding that gives ``output_size`` (PyTorch's ``_output_padding``)."""
        if output_size is None:
            return self.output_padding
        size = tuple(int(s) for s in output_size)[-2:]
        padding = []
        for axis in range(2):
            smallest = conv_transpose_output_size(
                input.shape[2 + axis], self.kernel_size[axis], self.stride[axis],
                self.padding[axis], 0, self.dilation[axis])
            largest = smallest + self.stride[axis] - 1
            if not smallest <= size[axis] <= largest:
                raise ValueError(f"ConvTranspose2d: requested an output size of {size}, but "
                                 f"valid sizes for input {tuple(input.shape)} range from "
                                 f"{smallest} to {largest} along axis {axis}")
            padding.append(size[axis] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):
        return transposed_convolution(input, self.weight, self.bias, self.stride, self.padding,
                                      self._output_padding(input, output_size), self.groups,
                                      self.dilation, op="ConvTranspose2d")

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", (0, 0)), ("output_padding", (0, 0)),
                              ("dilation", (1, 1))):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
