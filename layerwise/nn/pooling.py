"""Pooling layers (PyTorch's ``nn.MaxPool2d``, ``nn.AvgPool2d``, ... plus the course's
sum pooling and global average pooling).

A pooling layer summarizes each kh x kw window of every feature map (max, mean or
sum), shrinking it to (W - F + 2P) / S + 1 per axis; it has no parameters.
"""
from .functional import pooling as pooling_ops
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "SumPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d",
           "GlobalAvgPool2d"]


class MaxPool2d(Module):
    """Max over kh x kw windows; stride defaults to kernel_size; pads with -inf."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return pooling_ops.max_pooling(input, self.kernel_size, self.stride, self.padding,
                                       self.dilation, self.ceil_mode, self.return_indices,
                                       op="MaxPool2d")

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kh x kw windows (PyTorch's divisor rules for padding and ceil_mode)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return pooling_ops.averaging(input, self.kernel_size, self.stride, self.padding,
                                     self.ceil_mode, self.count_include_pad,
                                     self.divisor_override, op="AvgPool2d")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class SumPool2d(Module):
    """Sum over kh x kw windows (the course's sum pooling; not in PyTorch)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode

    def forward(self, input):
        return pooling_ops.averaging(input, self.kernel_size, self.stride, self.padding,
                                     self.ceil_mode, op="SumPool2d", divide=False)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool2d(Module):
    """Max over the windows that split each map into ``output_size`` (None keeps an axis)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return pooling_ops.adaptive_max_pooling(input, self.output_size, self.return_indices,
                                                op="AdaptiveMaxPool2d")

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Mean over the windows that split each map into ``output_size`` (None keeps an axis)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return pooling_ops.adaptive_averaging(input, self.output_size, op="AdaptiveAvgPool2d")

    def extra_repr(self):
        return f"output_size={self.output_size}"


class GlobalAvgPool2d(Module):
    """Mean of each whole feature map: (N, C, H, W) -> (N, C) (layerwise's own; PyTorch
    writes AdaptiveAvgPool2d(1) followed by Flatten)."""

    def forward(self, input):
        return pooling_ops.global_averaging(input, op="GlobalAvgPool2d")

