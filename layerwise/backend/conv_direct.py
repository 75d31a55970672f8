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

from . import jit, native, parallel
from .conv import conv_output_size
from .jit_conv_direct import kernels

ROW_BLOCK = 2048    # accumulator elements per output channel: OB of them stay in L1
MAX_CHANNELS_PER_PASS = 4
FLOPS_PER_SECOND = 30e9   # one core, with the dropped columns and the copies (for splitting)
NATIVE_MIN_FLOPS = 1e6    # per thread of the native pool (~30 µs of work; a region costs ~2)


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
    """OB: how many output channels one pass computes (OB·KW weights live in registers):
    the largest count up to the register budget that divides the output channels."""
    limit = MAX_CHANNELS_PER_PASS if kernel_width <= 5 else 2 if kernel_width <= 9 else 1
    return max(b for b in range(1, min(limit, out_channels) + 1) if out_channels % b == 0)


def _threads_for(flops, items):
    """(parts, native): how many threads share ``items`` ranges of work, and on which pool."""
    if native.active():
        return min(items, native.parts(int(flops / NATIVE_MIN_FLOPS), 1)), True
    pays = parallel.pays_off(flops / FLOPS_PER_SECOND)
    return (min(items, parallel.get_num_threads()) if pays else 1), False


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
    module = kernels(kw, ob)
    pitch = wo + dw * (kw - 1)
    scratch_x = c * ((ho + dh * (kh - 1)) * pitch + dw * (kw - 1))
    rows = max(1, ROW_BLOCK // pitch)
    flops = 2.0 * n * o * c * kh * kw * ho * pitch
    by_image = n >= parallel.get_num_threads()
    parts, on_native = _threads_for(flops, n if by_image else o // ob)
    xs = np.empty((parts, scratch_x), x.dtype)
    acc = np.empty((parts, ob * rows * pitch), x.dtype)
    if on_native and parts > 1:
        module.forward_parallel(x, weight, bias, y, xs, acc, parts, by_image, ob, top, left,
                                dh, dw, rows)
        return y

    def work(start, stop):
        part = start * parts // (n if by_image else o // ob)
        images, channels = ((start, stop), (0, o)) if by_image else \
            ((0, n), (start * ob, stop * ob))
        module.forward(x, weight, bias, y, xs[part], acc[part], *images, *channels, top, left,
                       dh, dw, rows)

    parallel.for_each_part(work, n if by_image else o // ob, parts)
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
    module = kernels(kw, channels_per_pass(kw, o))
    pitch = wo + dw * (kw - 1)
    length = ho * pitch
    scratch_x = c * ((ho + dh * (kh - 1)) * pitch + dw * (kw - 1))
    zero = x.dtype.type(0)
    parts, on_native = _threads_for(2.0 * n * o * c * kh * kw * length, n)
    partials = np.zeros((parts,) + tuple(weight_shape), x.dtype)
    xs = np.empty((parts, scratch_x), x.dtype)
    gs = np.empty((parts, o * length), x.dtype)
    if on_native and parts > 1:
        module.weight_grad_parallel(x, g, partials, xs, gs, zero, parts, top, left, dh, dw)
    else:
        def work(start, stop):
            part = start * parts // n
            module.weight_grad(x, g, partials[part], xs[part], gs[part], zero, start, stop, 0,
                               o, top, left, dh, dw)

        parallel.for_each_part(work, n, parts)
    return partials.sum(axis=0) if parts > 1 else partials[0]


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
