"""Pooling when the windows tile the input: kernel = stride, no padding, no dilation.

This is the common case (2x2 pooling with stride 2) and needs no copy of the
windows: offset (p, q) of every window is the strided view x[..., p::kh, q::kw],
so a max is kh·kw - 1 elementwise maxima of views, and backward writes each
gradient straight into the matching view of dL/dx. Large batches are split across
threads (``parallel.for_each_chunk``). NaN inputs go to the general kernels, which
reproduce PyTorch's NaN propagation exactly.
"""
import numpy as np

from .parallel import for_each_chunk


def tiles(input_hw, kernel_size, stride, dilation, pads):
    """True when the fast kernels apply."""
    (h, w), (kh, kw) = input_hw, kernel_size
    no_padding = all(before == 0 and after == 0 for before, after in pads)
    return (tuple(kernel_size) == tuple(stride) and tuple(dilation) == (1, 1) and no_padding
            and h % kh == 0 and w % kw == 0)


def _offsets(kernel_size):
    kh, kw = kernel_size
    return [(p, q) for p in range(kh) for q in range(kw)]


def _batched(work, x, *arrays):
    """Run ``work(a, b)`` over chunks of the batch axis (elements of x decide the split)."""
    n = x.shape[0]
    per_item = max(x[0].size, 1)
    for_each_chunk(work, n, min_size=max(1, (1 << 17) // per_item))


def max_forward(x, kernel_size):
    """(y, arg): window maxima and the offset p·kw + q of each (the first one on ties).

    Returns ``None`` when the input holds NaNs (the caller then uses the general path).
    """
    kh, kw = kernel_size
    n, c, h, w = x.shape
    y = np.empty((n, c, h // kh, w // kw), x.dtype)
    arg = np.zeros(y.shape, np.uint8)

    def work(a, b):
        best, where = y[a:b], arg[a:b]
        offsets = _offsets(kernel_size)
        np.copyto(best, x[a:b, :, 0::kh, 0::kw])
        for k, (p, q) in enumerate(offsets[1:], start=1):
            view = x[a:b, :, p::kh, q::kw]
            better = (view > best).view(np.uint8)          # 1 where offset k wins
            if k > 1:
                better *= k
            np.maximum(where, better, out=where)           # offsets grow: max keeps the last win
            np.maximum(best, view, out=best)

    _batched(work, x)
    if not np.isfinite(y.sum(dtype=np.float64)) and np.isnan(y).any():
        return None
    return y, arg


def max_backward(grad_output, arg, input_shape, kernel_size):
    """dL/dx: each window's gradient at its arg-max offset, zero at the other offsets."""
    kh, kw = kernel_size
    grad = np.empty(input_shape, grad_output.dtype)

    def work(a, b):
        g, where = grad_output[a:b], arg[a:b]
        for k, (p, q) in enumerate(_offsets(kernel_size)):
            np.multiply(g, where == k, out=grad[a:b, :, p::kh, q::kw])

    _batched(work, grad)
    return grad


def sum_forward(x, kernel_size):
    """Σ over each window."""
    kh, kw = kernel_size
    n, c, h, w = x.shape
    y = np.empty((n, c, h // kh, w // kw), x.dtype)

    def work(a, b):
        offsets = _offsets(kernel_size)
        np.copyto(y[a:b], x[a:b, :, 0::kh, 0::kw])
        for p, q in offsets[1:]:
            y[a:b] += x[a:b, :, p::kh, q::kw]

    _batched(work, x)
    return y


def sum_backward(grad_output, input_shape, kernel_size):
    """dL/dx: every pixel of a window receives the window's gradient."""
    kh, kw = kernel_size
    grad = np.empty(input_shape, grad_output.dtype)

    def work(a, b):
        for p, q in _offsets(kernel_size):
            np.copyto(grad[a:b, :, p::kh, q::kw], grad_output[a:b])

    _batched(work, grad)
    return grad
