"""Convolution by im2col + GEMM in NCHW, as a forward/backward pair sharing its columns.

Columns are laid out channel-major, cols[(c, p, q), (n, i, j)], so each of the three
passes is a single large matrix product (the BLAS's best case):

    Y (O, N·Ho·Wo)  = W2 (O, C·kh·kw) @ cols          -> transposed to (N, O, Ho, Wo)
    dW2             = dY (O, N·Ho·Wo) @ colsᵀ
    dcols           = W2ᵀ @ dY,   dx = col2im(dcols)

The columns built by the forward pass are kept for the weight gradient (no second
im2col) and handed back to the buffer pool once backward is done.
"""
import numpy as np

from . import buffers
from .conv import _windows, conv_output_size, pad2d
from .blas import matmul


class GemmConv:
    """One convolution (groups=1) by channel-major im2col and three large GEMMs."""

    def __init__(self, x, weight, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.input_shape, self.weight_shape = x.shape, weight.shape
        n = x.shape[0]
        o, c, kh, kw = weight.shape
        self.kernel = (kh, kw)
        x_pad = pad2d(x, padding)
        self.padded_shape = x_pad.shape
        ho = conv_output_size(x_pad.shape[2], kh, stride[0], 0, dilation[0])
        wo = conv_output_size(x_pad.shape[3], kw, stride[1], 0, dilation[1])
        self.out_size = (ho, wo)
        self.w2 = weight.reshape(o, c * kh * kw)
        view = _windows(x_pad, self.kernel, stride, dilation, self.out_size, batch_major=False)
        self.cols = buffers.take((c * kh * kw, n * ho * wo), x.dtype)
        np.copyto(self.cols.reshape(view.shape), view)

    def forward(self, bias=None):
        n, o = self.input_shape[0], self.weight_shape[0]
        y = matmul(self.w2, self.cols).reshape(o, n, *self.out_size)
        out = np.empty((n, o) + self.out_size, y.dtype)
        np.copyto(out.transpose(1, 0, 2, 3), y)
        if bias is not None:
            out += bias[:, None, None]
        return out

    def backward(self, grad_output, need_input=True, need_weight=True):
        o = self.weight_shape[0]
        g = np.empty((o,) + grad_output.shape[:1] + grad_output.shape[2:], grad_output.dtype)
        np.copyto(g, grad_output.transpose(1, 0, 2, 3))
        g = g.reshape(o, -1)
        grad_x = grad_w = None
        if need_weight:
            grad_w = matmul(g, self.cols.T).reshape(self.weight_shape)
        if need_input:
            dcols = buffers.take(self.cols.shape, self.cols.dtype)
            matmul(self.w2.T, g, out=dcols)
            grad_x = self._col2im(dcols)
            buffers.give(dcols)
        return grad_x, grad_w

    def _col2im(self, dcols):
        """Add each column entry back to its input pixel; crop the padding; (N, C, H, W)."""
        n, c, hp, wp = self.padded_shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho, wo = self.out_size
        fields = dcols.reshape(c, kh, kw, n, ho, wo)
        dx = np.zeros((c, n, hp, wp), dcols.dtype)
        for p in range(kh):
            rows = slice(p * dh, p * dh + sh * (ho - 1) + 1, sh)
            for q in range(kw):
                dx[:, :, rows, q * dw:q * dw + sw * (wo - 1) + 1:sw] += fields[:, p, q]
        (top, _), (left, _) = self.padding
        h, w = self.input_shape[2:]
        out = np.empty(self.input_shape, dcols.dtype)
        np.copyto(out.transpose(1, 0, 2, 3), dx[:, :, top:top + h, left:left + w])
        return out

    def release(self):
        buffers.give(self.cols)
        self.cols = None
