"""2-D pooling windows on plain ndarrays (NCHW), forward and backward, no autograd.

Window (i, j) of a (padded) input covers the kh x kw pixels
x_pad[n, c, i·sh + p·dh, j·sw + q·dw], p < kh, q < kw:

    max:  y = max over the window;      dL/dx = dL/dy at the (first) arg-max, 0 elsewhere
    sum:  y = Σ over the window;        dL/dx += dL/dy for every pixel of the window
    avg:  y = Σ over the window / d;    dL/dx += dL/dy / d (d: PyTorch's divisor rules)

The fast kernels view the windows with ``as_strided`` (or, when the windows tile the
input, a plain reshape), copy them kernel-offset-major into (kh·kw, N, C, Ho, Wo), and
reduce with kh·kw contiguous vector operations; backward adds one offset at a time.
``pool2d_direct`` / ``adaptive_pool2d_direct`` loop over output pixels: the oracles.

Adaptive pooling uses PyTorch's windows start_i = floor(i·In/Out),
end_i = ceil((i+1)·In/Out), which may overlap and differ in size.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .conv import workspace

__all__ = ["pool_output_size", "pool_padding", "pool_windows", "window_columns",
           "max_pool2d_forward", "max_pool2d_backward", "max_pool2d_indices",
           "window_sum", "window_sum_backward", "avg_pool_divisor", "adaptive_pool_bounds",
           "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward",
           "adaptive_max_pool2d_forward", "adaptive_max_pool2d_backward",
           "pool2d_direct", "pool2d_direct_backward", "adaptive_pool2d_direct"]


def pool_output_size(input_size, kernel_size, stride, padding=0, dilation=1, ceil_mode=False):
    """floor (or ceil) of (W + 2P - dilation·(F - 1) - 1) / S, plus 1.

    With ``ceil_mode`` PyTorch drops a last window that would start past the input
    and its left padding: it must start inside the input or the left padding.
    """
    span = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= input_size + padding:
        out -= 1
    return out


def pool_padding(input_size, out_size, kernel_size, stride, padding, dilation=1):
    """(before, after) padding so that every one of ``out_size`` windows fits (ceil_mode
    may need more than ``padding`` after the input)."""
    needed = (out_size - 1) * stride + dilation * (kernel_size - 1) + 1
    return padding, max(padding, needed - input_size - padding)


def _disjoint(kernel_size, stride, dilation):
    """True when no two windows share a pixel (so backward can assign instead of add)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel_size, stride, dilation))


def pool_windows(x_padded, kernel_size, stride, dilation, out_size, writeable=False):
    """View (no copy) of the windows, shaped (kh, kw, N, C, Ho, Wo).

    Windows that tile the input exactly (stride = kernel, no dilation) are a reshape:
    (N, C, Ho·kh, Wo·kw) -> (N, C, Ho, kh, Wo, kw); others an ``as_strided`` view.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_size, stride, dilation, out_size
    n, c, hp, wp = x_padded.shape
    tiles = (kh, kw) == (sh, sw) and (dh, dw) == (1, 1) and (hp, wp) == (ho * kh, wo * kw)
    if tiles and x_padded.flags.c_contiguous:
        return x_padded.reshape(n, c, ho, kh, wo, kw).transpose(3, 5, 0, 1, 2, 4)
    s_n, s_c, s_h, s_w = x_padded.strides
    return as_strided(x_padded, (kh, kw, n, c, ho, wo),
                      (s_h * dh, s_w * dw, s_n, s_c, s_h * sh, s_w * sw), writeable=writeable)


def window_columns(x_padded, kernel_size, stride, dilation, out_size):
    """The windows copied offset-major into scratch memory: (kh·kw, N, C, Ho, Wo)."""
    view = pool_windows(x_padded, kernel_size, stride, dilation, out_size)
    cols = workspace(view.shape, x_padded.dtype)
    np.copyto(cols, view)
    return cols.reshape((-1,) + view.shape[2:])


def _running_max(candidates):
    """Max over a sequence of (values, position) with PyTorch's choice of position.

    Positions never decrease along the sequence; a later candidate wins only if it is
    strictly greater, or NaN (so ties keep the first max and a NaN propagates).
    """
    best = arg = None
    for values, position in candidates:
        if best is None:
            best = values.copy()
            arg = np.zeros(best.shape, np.result_type(position)) + position
            continue
        better = values > best
        if best.dtype.kind == "f":
            better |= np.isnan(values)
        np.maximum(best, values, out=best)
        np.maximum(arg, better * position, out=arg)
    return best, arg


def max_pool2d_forward(x_padded, kernel_size, stride, dilation, out_size):
    """(y, argmax): y the window maxima, argmax the offset p·kw + q of each maximum."""
    cols = window_columns(x_padded, kernel_size, stride, dilation, out_size)
    offset = np.min_scalar_type(len(cols) - 1).type
    return _running_max((cols[k], offset(k)) for k in range(len(cols)))


def _spread(grad_padded, contributions, kernel_size, stride, dilation, out_size):
    """Add contribution(k) to pixel k of every window of grad_padded (in place)."""
    windows = pool_windows(grad_padded, kernel_size, stride, dilation, out_size, writeable=True)
    disjoint = _disjoint(kernel_size, stride, dilation)
    for k in range(kernel_size[0] * kernel_size[1]):
        target = windows[divmod(k, kernel_size[1])]
        if disjoint:
            target[...] = contributions(k)
        else:
            target += contributions(k)
    return grad_padded


def max_pool2d_backward(grad_output, argmax, padded_shape, kernel_size, stride, dilation):
    """dL/dx_pad: each window's gradient goes to its arg-max pixel (summed on overlaps)."""
    grad = np.zeros(padded_shape, grad_output.dtype)
    if np.isfinite(grad_output).all():
        def contribution(k):  # g·[argmax = k]  (fast; exact since g is finite)
            return grad_output * (argmax == k)
    else:
        def contribution(k):
            return np.where(argmax == k, grad_output, 0).astype(grad_output.dtype)
    return _spread(grad, contribution, kernel_size, stride, dilation, grad_output.shape[2:])


def max_pool2d_indices(argmax, kernel_size, stride, dilation, padding_before, input_width):
    """PyTorch's ``return_indices``: the flat index h·W + w of each maximum in the input."""
    (_, kw), (sh, sw), (dh, dw), (top, left) = kernel_size, stride, dilation, padding_before
    p, q = np.divmod(argmax.astype(np.int64), kw)
    rows = (np.arange(argmax.shape[2]) * sh - top)[:, None] + p * dh
    cols = (np.arange(argmax.shape[3]) * sw - left) + q * dw
    return rows * input_width + cols


def window_sum(x_padded, kernel_size, stride, dilation, out_size):
    """Σ over each window: (N, C, Ho, Wo)."""
    return window_columns(x_padded, kernel_size, stride, dilation, out_size).sum(axis=0)


def window_sum_backward(grad_output, padded_shape, kernel_size, stride, dilation):
    """dL/dx_pad: every pixel of a window receives that window's gradient."""
    grad = np.zeros(padded_shape, grad_output.dtype)
    return _spread(grad, lambda k: grad_output, kernel_size, stride, dilation,
                   grad_output.shape[2:])


def _axis_divisor(input_size, out_size, kernel_size, stride, padding, count_include_pad):
    start = np.arange(out_size) * stride - padding
    end = np.minimum(start + kernel_size, input_size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, input_size) - np.maximum(start, 0)


def avg_pool_divisor(input_hw, out_hw, kernel_size, stride, padding, count_include_pad,
                     dtype):
    """PyTorch's divisor per window, (Ho, Wo): the window's size clipped to the padded
    input (ceil mode), or to the input itself when ``count_include_pad`` is False."""
    rows, cols = (_axis_divisor(i, o, k, s, p, count_include_pad)
                  for i, o, k, s, p in zip(input_hw, out_hw, kernel_size, stride, padding))
    return np.outer(rows, cols).astype(dtype)


# ---------------------------------------------------------------- adaptive pooling
def adaptive_pool_bounds(input_size, out_size):
    """Window i covers [floor(i·In/Out), ceil((i+1)·In/Out))."""
    i = np.arange(out_size)
    return (i * input_size) // out_size, -(-(i + 1) * input_size // out_size)


def _average_matrix(input_size, out_size, dtype):
    """A (Out, In) with A[i, start_i:end_i] = 1 / (end_i - start_i): averaging is A @ x."""
    start, end = adaptive_pool_bounds(input_size, out_size)
    position = np.arange(input_size)
    inside = (position >= start[:, None]) & (position < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d_forward(x, out_size):
    """y = A_h @ x @ A_wᵀ (averaging is separable into rows and columns)."""
    a_h = _average_matrix(x.shape[2], out_size[0], x.dtype)
    a_w = _average_matrix(x.shape[3], out_size[1], x.dtype)
    return np.matmul(np.matmul(a_h, x), a_w.T)


def adaptive_avg_pool2d_backward(grad_output, input_hw):
    """dL/dx = A_hᵀ @ dL/dy @ A_w."""
    a_h = _average_matrix(input_hw[0], grad_output.shape[2], grad_output.dtype)
    a_w = _average_matrix(input_hw[1], grad_output.shape[3], grad_output.dtype)
    return np.matmul(np.matmul(a_h.T, grad_output), a_w)


def _adaptive_candidates(input_size, out_size):
    """Per offset k, the index min(start + k, end - 1) of every window (repeats are harmless)."""
    start, end = adaptive_pool_bounds(input_size, out_size)
    return [np.minimum(start + k, end - 1) for k in range(int((end - start).max()))]


def adaptive_max_pool2d_forward(x, out_size):
    """(y, indices): window maxima and their flat input index h·W + w (first max in
    row-major order, like PyTorch), taking the max along W, then along H."""
    by_col = _adaptive_candidates(x.shape[3], out_size[1])
    row_max, col_arg = _running_max((x[..., cols], cols) for cols in by_col)
    by_row = _adaptive_candidates(x.shape[2], out_size[0])
    y, row_arg = _running_max((row_max[:, :, rows], rows[:, None]) for rows in by_row)
    return y, row_arg * x.shape[3] + np.take_along_axis(col_arg, row_arg, axis=2)


def adaptive_max_pool2d_backward(grad_output, indices, input_shape):
    """dL/dx: each window's gradient added at its arg-max (windows may overlap)."""
    n, c, h, w = input_shape
    grad = np.zeros(input_shape, grad_output.dtype)
    flat = indices.reshape(n * c, -1) + (np.arange(n * c) * (h * w))[:, None]
    np.add.at(grad.reshape(-1), flat.ravel(), grad_output.ravel())
    return grad


# ---------------------------------------------------------------- direct references
def _pixel_windows(input_hw, out_hw, kernel_size, stride, padding, dilation):
    """For every output pixel: (i, j, rows, cols) of its window, padding positions included."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            rows = [i * sh - ph + p * dh for p in range(kh)]
            cols = [j * sw - pw + q * dw for q in range(kw)]
            yield i, j, rows, cols


def pool2d_direct(x, mode, kernel_size, stride, padding=(0, 0), dilation=(1, 1),
                  ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Pooling by its definition, one window at a time. mode: 'max', 'sum' or 'avg'.

    Returns (y, indices): for 'max' the flat index h·W + w of each window's first
    maximum (padding counts as -inf), else None. ('avg' uses PyTorch's divisor.)
    """
    n, c, h, w = x.shape
    out_hw = tuple(pool_output_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d
                   in zip((h, w), kernel_size, stride, padding, dilation))
    y = np.zeros((n, c) + out_hw, x.dtype)
    indices = np.zeros((n, c) + out_hw, np.int64)
    for i, j, rows, cols in _pixel_windows((h, w), out_hw, kernel_size, stride, padding,
                                           dilation):
        inside = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
        values = np.stack([x[:, :, r, q] for r, q in inside], axis=-1)
        if mode == "max":
            first = values.argmax(axis=-1)
            y[:, :, i, j] = np.take_along_axis(values, first[..., None], -1)[..., 0]
            indices[:, :, i, j] = np.array([r * w + q for r, q in inside])[first]
            continue
        y[:, :, i, j] = values.sum(axis=-1)
        if mode == "avg":
            y[:, :, i, j] /= _direct_divisor(rows, cols, (h, w), padding, count_include_pad,
                                             divisor_override)
    return y, (indices if mode == "max" else None)


def _direct_divisor(rows, cols, input_hw, padding, count_include_pad, divisor_override):
    if divisor_override:
        return divisor_override
    if count_include_pad:  # window clipped to the padded input
        return ((min(rows[-1] + 1, input_hw[0] + padding[0]) - rows[0]) *
                (min(cols[-1] + 1, input_hw[1] + padding[1]) - cols[0]))
    return (sum(0 <= r < input_hw[0] for r in rows) * sum(0 <= q < input_hw[1] for q in cols))


def pool2d_direct_backward(grad_output, input_shape, mode, kernel_size, stride,
                           padding=(0, 0), dilation=(1, 1), indices=None,
                           count_include_pad=True, divisor_override=None):
    """dL/dx by the definition, one window at a time (``indices`` from pool2d_direct for 'max')."""
    n, c, h, w = input_shape
    grad = np.zeros(input_shape, grad_output.dtype)
    flat = grad.reshape(n * c, h * w)
    for i, j, rows, cols in _pixel_windows((h, w), grad_output.shape[2:], kernel_size, stride,
                                           padding, dilation):
        g = grad_output[:, :, i, j]
        if mode == "max":
            np.add.at(flat, (np.arange(n * c), indices[:, :, i, j].ravel()), g.ravel())
            continue
        if mode == "avg":
            g = g / _direct_divisor(rows, cols, (h, w), padding, count_include_pad,
                                    divisor_override)
        for r in rows:
            for q in cols:
                if 0 <= r < h and 0 <= q < w:
                    grad[:, :, r, q] += g
    return grad


def adaptive_pool2d_direct(x, out_hw, mode):
    """Adaptive 'max' or 'avg' pooling by its definition: (y, flat arg-max indices or None)."""
    n, c, h, w = x.shape
    y = np.zeros((n, c) + tuple(out_hw), x.dtype)
    indices = np.zeros(y.shape, np.int64)
    (row_start, row_end), (col_start, col_end) = (adaptive_pool_bounds(h, out_hw[0]),
                                                  adaptive_pool_bounds(w, out_hw[1]))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            window = x[:, :, row_start[i]:row_end[i], col_start[j]:col_end[j]]
            flat = window.reshape(n, c, -1)
            if mode == "avg":
                y[:, :, i, j] = flat.mean(axis=-1)
                continue
            first = flat.argmax(axis=-1)
            y[:, :, i, j] = flat.max(axis=-1)
            width = col_end[j] - col_start[j]
            indices[:, :, i, j] = (row_start[i] + first // width) * w + col_start[j] + first % width
    return y, (indices if mode == "max" else None)
