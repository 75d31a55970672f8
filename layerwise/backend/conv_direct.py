"""Convolution with stride 1 computed directly, by the compiled row-pitch kernels.

For a layer with few input channels (the first layers of MNIST-sized networks) the
im2col copy costs more than the product it feeds. ``DirectConv`` computes the
definition itself (``jit_conv_direct``: each kernel row of each channel is one
vectorized pass over all output pixels, OB output channels at a time):

    y[n, o, i, j]   = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i + p·dh, j + q·dw]
    dL/dw[o, c, p, q] = Σ_{n,i,j} dL/dy[n, o, i, j] · x_pad[n, c, i + p·dh, j + q·dw]
    dL/dx            = the same forward kernel applied to dL/dy with the kernel flipped
                       (w[o, c, kh-1-p, kw-1-q]) and its channel axes swapped, padded by
                       dh·(kh-1) - top rows on top (and so on), which is the "full"
                       correlation of stride-1 backpropagation.

Nothing is kept for backward but the input itself. Images are split over layerwise's
threads (output channels too, when there are fewer images than threads). Needs numba
(``jit.enabled()``); stride 1, groups 1, padding no wider than the kernel's reach.
"""
import numpy as np

from . import jit, parallel
from .conv import conv_output_size
from .jit_conv_direct import kernels

ROW_BLOCK = 2048    # accumulator elements per output channel: OB of them stay in L1
MAX_CHANNELS_PER_PASS = 4
FLOPS_PER_SECOND = 30e9   # one core, with the dropped columns and the copies (for splitting)


def applicable(weight_shape, stride, padding, dilation, groups, dtype):
    """Whether ``DirectConv`` can compute this convolution."""
    if not jit.enabled() or np.dtype(dtype) not in jit.FLOAT_TYPES:
        return False
    if tuple(stride) != (1, 1) or groups != 1:
        return False
    (top, bottom), (left, right) = padding
    reach = (dilation[0] * (weight_shape[2] - 1), dilation[1] * (weight_shape[3] - 1))
    return max(top, bottom) <= reach[0] and max(left, right) <= reach[1]


def channels_per_pass(kernel_width, out_channels):
    """OB: how many output channels one pass computes (OB·KW weights live in registers)."""
    limit = MAX_CHANNELS_PER_PASS if kernel_width <= 5 else 2 if kernel_width <= 9 else 1
    return min(limit, out_channels)


def direct_forward(x, weight, bias, padding, dilation, out_size):
    """y (N, O, Ho, Wo) = the stride-1 convolution of x, with ``padding`` ((top, bottom),
    (left, right)) on x; ``out_size`` fixes (Ho, Wo) (bottom/right padding follows)."""
    x = np.ascontiguousarray(x)
    weight = np.ascontiguousarray(weight)
    n, c = x.shape[:2]
    o, _, kh, kw = weight.shape
    ho, wo = out_size
    (top, _), (left, _) = padding
    dh, dw = dilation
    y = np.empty((n, o) + tuple(out_size), x.dtype)
    bias = np.zeros(o, x.dtype) if bias is None else np.ascontiguousarray(bias, x.dtype)
    ob = channels_per_pass(kw, o)
    main, rest = kernels(kw, ob)[0], (kernels(kw, o % ob)[0] if o % ob else None)
    pitch = wo + dw * (kw - 1)
    scratch_x = c * ((ho + dh * (kh - 1)) * pitch + dw * (kw - 1))
    rows = max(1, ROW_BLOCK // pitch)
    split_images = n >= parallel.get_num_threads()

    def work(start, stop):
        xs = np.empty(scratch_x, x.dtype)
        acc = np.empty(ob * rows * pitch, x.dtype)
        images, blocks = ((start, stop), (0, o // ob)) if split_images else \
            ((0, n), (start, stop))
        full = (blocks[0] * ob, blocks[1] * ob)
        if full[1] > full[0]:
            main(x, weight, bias, y, xs, acc, *images, *full, top, left, dh, dw, rows)
        if rest is not None and blocks[1] == o // ob:
            rest(x, weight, bias, y, xs, acc, *images, o - o % ob, o, top, left, dh, dw, rows)

    work_items = n if split_images else o // ob
    flops = 2.0 * n * o * c * kh * kw * ho * pitch
    parallel.for_each_part(work, work_items, None if parallel.pays_off(
        flops / FLOPS_PER_SECOND) else 1)
    return y


def direct_weight_grad(x, grad_output, weight_shape, padding, dilation):
    """dL/dw (O, C, kh, kw), the images split over threads and the partial sums added."""
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(grad_output)
    n, c = x.shape[:2]
    o, _, kh, kw = weight_shape
    ho, wo = g.shape[2:]
    (top, _), (left, _) = padding
    dh, dw = dilation
    ob = channels_per_pass(kw, o)
    main, rest = kernels(kw, ob)[1], (kernels(kw, o % ob)[1] if o % ob else None)
    pitch = wo + dw * (kw - 1)
    length = ho * pitch
    scratch_x = c * ((ho + dh * (kh - 1)) * pitch + dw * (kw - 1))
    zero = x.dtype.type(0)
    partials = []

    def work(start, stop):
        grad_w = np.zeros(weight_shape, x.dtype)
        xs = np.empty(scratch_x, x.dtype)
        gs = np.empty(o * length, x.dtype)
        split = o - o % ob
        main(x, g, grad_w, xs, gs, zero, start, stop, 0, split, top, left, dh, dw)
        if rest is not None:
            rest(x, g, grad_w, xs, gs, zero, start, stop, split, o, top, left, dh, dw)
        partials.append(grad_w)

    flops = 2.0 * n * o * c * kh * kw * length
    parallel.for_each_part(work, n, None if parallel.pays_off(flops / FLOPS_PER_SECOND) else 1)
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total


class DirectConv:
    """One stride-1 convolution (groups=1) by the direct compiled kernels."""

    def __init__(self, x, weight, stride, padding, dilation, groups=1, for_backward=True):
        if not applicable(weight.shape, stride, padding, dilation, groups, x.dtype):
            raise ValueError("DirectConv: needs numba, stride 1, groups 1 and padding no "
                             "wider than the kernel's reach")
        self.x, self.weight = x, weight
        self.padding, self.dilation = padding, dilation
        (top, bottom), (left, right) = padding
        kh, kw = weight.shape[2:]
        self.out_size = (conv_output_size(x.shape[2], kh, 1, (top, bottom), dilation[0]),
                         conv_output_size(x.shape[3], kw, 1, (left, right), dilation[1]))

    def forward(self, bias=None):
        return direct_forward(self.x, self.weight, bias, self.padding, self.dilation,
                              self.out_size)

    def backward(self, grad_output, need_input=True, need_weight=True):
        grad_x = self._grad_input(grad_output) if need_input else None
        grad_w = direct_weight_grad(self.x, grad_output, self.weight.shape, self.padding,
                                    self.dilation) if need_weight else None
        return grad_x, grad_w

    def _grad_input(self, grad_output):
        kh, kw = self.weight.shape[2:]
        (top, bottom), (left, right) = self.padding
        dh, dw = self.dilation
        reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
        flipped = np.ascontiguousarray(self.weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        padding = ((reach_h - top, reach_h - bottom), (reach_w - left, reach_w - right))
        return direct_forward(grad_output, flipped, None, padding, self.dilation,
                              self.x.shape[2:])

    def release(self):
        self.x = self.weight = None
