"""Transposed 2-D convolution as a differentiable op (PyTorch's ``F.conv_transpose2d``).

A transposed convolution ("fractionally strided", "deconvolution") is the adjoint of
a convolution: the map x ↦ dL/dx_conv of ``conv2d``. With weight w of shape
(C_in, C_out/G, kh, kw) — PyTorch's layout, the same array a convolution from C_out
to C_in channels would use — every input pixel spreads a kh x kw patch over the output:

    y[n, o, a, b] = bias[o] + Σ_{c, i, j, p, q : i·sh + p·dh - ph = a,  j·sw + q·dw - pw = b}
                              x[n, c, i, j] · w[c, o', p, q]       (o' = o within its group)

Output size per axis: H_out = (H_in - 1)·s - 2·pad + d·(k - 1) + output_padding + 1;
``output_padding`` (< stride or dilation) only adds rows/columns at the bottom/right,
to pick among the sizes a strided convolution maps onto the same H_in.

Forward is the convolution's input gradient (col2im of w2ᵀ·x); backward uses the
convolution itself: dL/dx = conv2d(dL/dy, w) and dL/dw = the convolution's weight
gradient with dL/dy as its input and x as its output gradient. The array kernels are
those of ``layerwise.backend.conv``.
"""
import numpy as np

from ...autograd.function import Function
from ...backend import conv as kernels
from .conv import _check_positive, _pair, check_input_4d

__all__ = ["conv_transpose2d", "conv_transpose_output_size"]


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """H_out = (H_in - 1)·s - 2·p + d·(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class TransposedConvolution(Function):
    """y = conv_transpose2d(x, w) + b; see the module docstring for the formula.

    dL/dx = conv2d(dL/dy, w, stride, padding, dilation, groups)     (cropped to H_in x W_in)
    dL/dw = conv2d weight gradient of (input dL/dy, output gradient x)
    dL/db = Σ_{n,a,b} dL/dy[n, :, a, b]
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0),
                output_padding=(0, 0), dilation=(1, 1), groups=1):
        n, _, h, w = x.shape
        c_out = weight.shape[1] * groups
        out_size = tuple(conv_transpose_output_size(size, k, s, p, op, d) for size, k, s, p, op, d
                         in zip((h, w), weight.shape[2:], stride, padding, output_padding,
                                dilation))
        # When output_padding < stride, a convolution of the (padded) output has exactly
        # H_in windows, so its input gradient is our output. Otherwise (output_padding
        # >= stride < dilation) compute the unpadded "full" output and crop/extend it.
        self.direct = all(op < s for op, s in zip(output_padding, stride))
        self.geometry = dict(stride=stride, dilation=dilation, groups=groups,
                             padding=tuple((p, p) for p in padding))
        if self.direct:
            y = kernels.conv2d_gemm_backward_input(x, weight, (n, c_out) + out_size,
                                                   **self.geometry)
        else:
            full = tuple((size - 1) * s + d * (k - 1) + 1 for size, k, s, d
                         in zip((h, w), weight.shape[2:], stride, dilation))
            y_full = kernels.conv2d_gemm_backward_input(
                x, weight, (n, c_out) + full, stride=stride, dilation=dilation, groups=groups)
            y = np.zeros((n, c_out) + out_size, x.dtype)
            (ph, pw), (oh, ow) = padding, out_size
            rows, cols = min(oh, full[0] - ph), min(ow, full[1] - pw)
            y[:, :, :rows, :cols] = y_full[:, :, ph:ph + rows, pw:pw + cols]
        if bias is not None:
            y += bias[:, None, None]
        need_x, need_w = self.needs_input_grad[:2]
        if need_x:
            self.weight = weight
        if need_w:
            self.x = x
        self.input_size, self.weight_shape = (h, w), weight.shape
        return y

    def backward(self, grad_output):
        need_x, need_w, need_b = self.needs_input_grad
        grad_output = np.ascontiguousarray(grad_output)
        h, w = self.input_size
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = kernels.conv2d_gemm(grad_output, self.weight, **self.geometry)
            if not self.direct:  # the convolution has more windows than input pixels
                grad_x = np.ascontiguousarray(grad_x[:, :, :h, :w])
        if need_w:
            x = self.x
            if not self.direct:  # windows past the input see no input pixel: zeros there
                windows = [kernels.conv_output_size(size, k, s, p, d) for size, k, s, p, d in zip(
                    grad_output.shape[2:], self.weight_shape[2:], self.geometry["stride"],
                    self.geometry["padding"], self.geometry["dilation"])]
                x = np.zeros(x.shape[:2] + tuple(windows), x.dtype)
                x[:, :, :h, :w] = self.x
            grad_w = kernels.conv2d_gemm_backward_weight(grad_output, x, self.weight_shape,
                                                         **self.geometry)
        if need_b:
            grad_b = kernels.bias_grad(grad_output)
        return grad_x, grad_w, grad_b


def _check_operands(input, weight, bias, groups, op):
    check_input_4d(input, op)
    w_shape, x_shape = tuple(weight.shape), tuple(input.shape)
    if weight.data.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight (in_channels, out_channels/groups, "
                           f"kh, kw), got weight of shape {w_shape}")
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    if w_shape[0] % groups:
        raise RuntimeError(f"{op}: in_channels ({w_shape[0]}) must be divisible by groups "
                           f"({groups}), weight shape {w_shape}")
    if x_shape[1] != w_shape[0]:
        raise RuntimeError(f"{op}: expected input with {w_shape[0]} channels (weight shape "
                           f"{w_shape} is (in_channels, out_channels/groups, kh, kw)), got "
                           f"input of shape {x_shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.data.dtype != input.data.dtype:
            raise RuntimeError(f"{op}: input dtype {input.data.dtype} and {name} dtype "
                               f"{t.data.dtype} should be the same")
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.data.dtype}")
    if bias is not None and tuple(bias.shape) != (w_shape[1] * groups,):
        raise RuntimeError(f"{op}: expected bias of shape ({w_shape[1] * groups},), got "
                           f"{tuple(bias.shape)}")


def transposed_convolution(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                           groups=1, dilation=1, op="conv_transpose2d"):
    """``conv_transpose2d`` with the name to use in error messages."""
    _check_operands(input, weight, bias, groups, op)
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    padding = _pair(padding, "padding", op)
    output_padding = _pair(output_padding, "output_padding", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    if min(padding) < 0 or min(output_padding) < 0:
        raise ValueError(f"{op}: padding {padding} and output_padding {output_padding} must be "
                         f"non-negative")
    for op_pad, s, d in zip(output_padding, stride, dilation):
        if op_pad >= max(s, d):
            raise ValueError(f"{op}: output padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, stride={stride}, "
                             f"dilation={dilation}")
    out = [conv_transpose_output_size(size, k, s, p, o, d) for size, k, s, p, o, d in zip(
        input.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)]
    if min(out) <= 0:
        raise RuntimeError(f"{op}: the output would be {tuple(out)} for input shape "
                           f"{tuple(input.shape)}, kernel {tuple(weight.shape[2:])}, stride "
                           f"{stride}, padding {padding}: padding is too large")
    return TransposedConvolution.apply(input, weight, bias, stride=stride, padding=padding,
                                       output_padding=output_padding, dilation=dilation,
                                       groups=groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw).

    Output (N, C_out, H_out, W_out) with H_out = (H - 1)·stride - 2·padding +
    dilation·(kh - 1) + output_padding + 1 (PyTorch's argument order: groups before dilation).
    """
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation, op="conv_transpose2d")
