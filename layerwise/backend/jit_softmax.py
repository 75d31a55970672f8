"""Softmax along the rows of a C-contiguous array, in place, around NumPy's exp.

    softmax(x)_j = e^(x_j - m) / Σ_k e^(x_k - m),   m = max_k x_k

The two row-wise passes (subtract the row's maximum; divide by the row's sum) as
compiled loops: NumPy's max and sum along a short last axis go row by row through its
generic reduction machinery (attention scores of 4 heads x 64 x 64: 16 µs for the
maxima alone). The exponential stays NumPy's (SIMD; numba's is a scalar libm call per
element here, 5x slower). A row that is all -inf (a query masked from every key)
becomes zeros, PyTorch's rule for attention.
"""
import numpy as np

from . import jit


def usable(x):
    """True when the compiled loops apply: numba on, a C-contiguous float array."""
    return jit.enabled() and x.dtype in jit.FLOAT_TYPES and x.flags.c_contiguous and x.ndim >= 1


def softmax_rows_(x):
    """x <- softmax of each row of x (the last axis), in place; returns x."""
    rows = x.reshape(-1, x.shape[-1])
    if rows.size:
        zero = rows.dtype.type(0)
        _shift_rows(rows, zero)
        np.exp(rows, out=rows)
        _normalize_rows(rows, zero)
    return x


@jit.reduction_kernel
def _shift_rows(x, zero):
    """Per row: x -= max(x) (by 0 for a row of -inf: exp then gives zeros)."""
    for r in range(x.shape[0]):
        top = x[r, 0]
        for j in range(1, x.shape[1]):
            top = max(top, x[r, j])
        if top == -np.inf:
            top = zero
        for j in range(x.shape[1]):
            x[r, j] -= top


@jit.reduction_kernel
def _normalize_rows(x, zero):
    """Per row: x /= Σ x (a row of zeros stays zeros)."""
    for r in range(x.shape[0]):
        total = zero
        for j in range(x.shape[1]):
            total += x[r, j]
        if total != zero:
            for j in range(x.shape[1]):
                x[r, j] /= total
