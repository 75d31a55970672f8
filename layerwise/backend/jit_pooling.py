"""Tiled pooling (kernel = stride, no padding) as compiled loops (used when numba is installed).

The NumPy code in ``pooling_tiled`` makes kh·kw passes over strided views (and, for
max pooling, builds the arg-max offsets with comparisons and masks); here each window
is visited once: its maximum (or sum) and the offset p·kw + q of the maximum are found
in registers and written out, and backward writes every input pixel exactly once, the
window's gradient at the arg-max offset and 0 elsewhere. The arithmetic and tie rules
are those of the NumPy code (first maximum wins; sums added in offset order), so the
results are bit-identical. Arrays are viewed as (N·C, H, W), and ranges of N·C are
split across threads: by the ``*_parallel`` drivers on the native pool when it is on
(``backend.native``), else by the Python pool.
"""
import numpy as np

from . import jit, native
from .parallel import for_each_chunk

#: elements per thread below which one thread does the whole layer
MIN_CHUNK = 1 << 15


def usable(*arrays):
    """True when the compiled kernels apply: numba on, C-contiguous float arrays."""
    return jit.enabled() and all(a.flags.c_contiguous and a.dtype in jit.FLOAT_TYPES for a in arrays)


def _planes(x):
    n, c, h, w = x.shape
    return x.reshape(n * c, h, w)


def _windows(x, kernel_size):
    """(N·C, Ho, kh, Wo, kw) view: window (i, j)'s pixel (p, q) is [c, i, p, j, q]."""
    (kh, kw), (n, c, h, w) = kernel_size, x.shape
    return x.reshape(n * c, h // kh, kh, w // kw, kw)


def _split(kernel, parallel_kernel, args, planes, plane_size):
    """``kernel(*args, start, stop)`` over ranges of planes; True if any call returned True."""
    min_planes = max(1, MIN_CHUNK // max(plane_size, 1))
    if native.active():
        parts = native.parts(planes, min_planes)
        if parts > 1:
            return bool(parallel_kernel(*args, parts))
        return bool(kernel(*args, 0, planes))
    found = []
    for_each_chunk(lambda a, b: found.append(bool(kernel(*args, a, b))), planes, min_planes)
    return any(found)


def max_forward(x, kernel_size):
    """(y, arg) as ``pooling_tiled.max_forward``; ``None`` when x holds NaNs."""
    kh, kw = kernel_size
    n, c, h, w = x.shape
    y = np.empty((n, c, h // kh, w // kw), x.dtype)
    arg = np.empty(y.shape, np.uint8)
    args = (_windows(x, kernel_size), _planes(y), _planes(arg))
    found_nan = _split(max_tiled, max_tiled_parallel, args, n * c, h * w)
    return None if found_nan else (y, arg)


def max_backward(grad_output, arg, input_shape, kernel_size):
    """dL/dx: each window's gradient at its arg-max offset, 0 at the others."""
    grad = np.empty(input_shape, grad_output.dtype)
    grad5 = _windows(grad, kernel_size)
    args = (_planes(np.ascontiguousarray(grad_output)), _planes(arg), grad5,
            grad.dtype.type(0))
    _split(max_tiled_backward, max_tiled_backward_parallel, args, grad5.shape[0],
           grad[0, 0].size)
    return grad


def sum_forward(x, kernel_size, divisor=None):
    """Σ over each window (÷ divisor when given: average pooling)."""
    kh, kw = kernel_size
    n, c, h, w = x.shape
    y = np.empty((n, c, h // kh, w // kw), x.dtype)
    args = (_windows(x, kernel_size), _planes(y),
            x.dtype.type(1 if divisor is None else divisor), divisor is not None)
    _split(sum_tiled, sum_tiled_parallel, args, n * c, h * w)
    return y


def sum_backward(grad_output, input_shape, kernel_size, divisor=None):
    """dL/dx: every pixel of a window receives the window's gradient (÷ divisor if given)."""
    grad = np.empty(input_shape, grad_output.dtype)
    grad5 = _windows(grad, kernel_size)
    args = (_planes(np.ascontiguousarray(grad_output)), grad5,
            grad.dtype.type(1 if divisor is None else divisor), divisor is not None)
    _split(sum_tiled_backward, sum_tiled_backward_parallel, args, grad5.shape[0],
           grad[0, 0].size)
    return grad


@jit.kernel
def max_tiled(x, y, arg, start, stop):
    """y[c,i,j] = max_{p,q} x[c,i,p,j,q] (the window view), arg = p·kw + q of the first
    maximum. Returns True if a NaN was seen (the caller then uses the general kernels)."""
    x, y, arg = x[start:stop], y[start:stop], arg[start:stop]
    kh, kw = x.shape[2], x.shape[4]
    found_nan = False
    for c in range(x.shape[0]):
        for i in range(x.shape[1]):
            for j in range(x.shape[3]):
                if kh == 2 and kw == 2:          # the common case, unrolled
                    a, b = x[c, i, 0, j, 0], x[c, i, 0, j, 1]
                    d, e = x[c, i, 1, j, 0], x[c, i, 1, j, 1]
                    best, where = a, 0
                    if b > best:
                        best, where = b, 1
                    if d > best:
                        best, where = d, 2
                    if e > best:
                        best, where = e, 3
                    found_nan |= (a != a) | (b != b) | (d != d) | (e != e)
                else:
                    best, where = x[c, i, 0, j, 0], 0
                    for p in range(kh):
                        for q in range(kw):
                            value = x[c, i, p, j, q]
                            if value > best:
                                best, where = value, p * kw + q
                            found_nan |= value != value
                y[c, i, j] = best
                arg[c, i, j] = where
    return found_nan


@jit.kernel
def max_tiled_backward(grad_output, arg, grad, zero, start, stop):
    """grad[c,i,p,j,q] = dL/dy[c,i,j] if p·kw + q = arg[c,i,j] else 0 (window view)."""
    grad_output, arg, grad = grad_output[start:stop], arg[start:stop], grad[start:stop]
    kh, kw = grad.shape[2], grad.shape[4]
    for c in range(grad.shape[0]):
        for i in range(grad.shape[1]):
            for p in range(kh):                  # in memory order of grad
                for j in range(grad.shape[3]):
                    g, where = grad_output[c, i, j], arg[c, i, j] - p * kw
                    if kw == 2:                  # the common case, unrolled
                        grad[c, i, p, j, 0] = g if where == 0 else zero
                        grad[c, i, p, j, 1] = g if where == 1 else zero
                    else:
                        for q in range(kw):
                            grad[c, i, p, j, q] = g if q == where else zero
    return None


@jit.kernel
def sum_tiled(x, y, divisor, divide, start, stop):
    """y[c,i,j] = Σ_{p,q} x[c,i,p,j,q] (offsets in order), ÷ divisor if divide."""
    x, y = x[start:stop], y[start:stop]
    kh, kw = x.shape[2], x.shape[4]
    for c in range(x.shape[0]):
        for i in range(x.shape[1]):
            for j in range(x.shape[3]):
                if kh == 2 and kw == 2:          # the common case, unrolled
                    total = x[c, i, 0, j, 0] + x[c, i, 0, j, 1]
                    total = (total + x[c, i, 1, j, 0]) + x[c, i, 1, j, 1]
                else:
                    total = x[c, i, 0, j, 0]
                    for q in range(1, kw):
                        total += x[c, i, 0, j, q]
                    for p in range(1, kh):
                        for q in range(kw):
                            total += x[c, i, p, j, q]
                y[c, i, j] = total / divisor if divide else total
    return None


@jit.kernel
def sum_tiled_backward(grad_output, grad, divisor, divide, start, stop):
    """grad[c,i,p,j,q] = dL/dy[c,i,j] (÷ divisor if divide) (window view)."""
    grad_output, grad = grad_output[start:stop], grad[start:stop]
    for c in range(grad.shape[0]):
        for i in range(grad.shape[1]):
            for p in range(grad.shape[2]):       # in memory order of grad
                for j in range(grad.shape[3]):
                    g = grad_output[c, i, j] / divisor if divide else grad_output[c, i, j]
                    for q in range(grad.shape[4]):
                        grad[c, i, p, j, q] = g
    return None


# The same kernels with one range of planes per thread of the native pool.
@jit.parallel_kernel
def max_tiled_parallel(x, y, arg, parts):
    step = (x.shape[0] + parts - 1) // parts
    found = np.zeros(parts, np.bool_)
    for p in jit.prange(parts):
        found[p] = max_tiled(x, y, arg, p * step, min(x.shape[0], (p + 1) * step))
    return found.any()


@jit.parallel_kernel
def max_tiled_backward_parallel(grad_output, arg, grad, zero, parts):
    step = (grad.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        max_tiled_backward(grad_output, arg, grad, zero, p * step,
                           min(grad.shape[0], (p + 1) * step))
    return None


@jit.parallel_kernel
def sum_tiled_parallel(x, y, divisor, divide, parts):
    step = (x.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        sum_tiled(x, y, divisor, divide, p * step, min(x.shape[0], (p + 1) * step))
    return None


@jit.parallel_kernel
def sum_tiled_backward_parallel(grad_output, grad, divisor, divide, parts):
    step = (grad.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        sum_tiled_backward(grad_output, grad, divisor, divide, p * step,
                           min(grad.shape[0], (p + 1) * step))
    return None
