"""Layer norm's forward pass as one compiled loop per row (used when numba is installed).

For each row x of D values (the normalized axes, flattened):

    μ = Σ x / D,   σ² = Σ (x - μ)² / D,   x̂ = (x - μ) / √(σ² + ε),   y = γ x̂ + β

three passes over the row while it sits in L1, where the NumPy code makes about eight
passes over the whole array with temporaries (a gpt-mini layer norm of 64 x 128: 28 µs).
Rows split over the native pool's threads above ``MIN_CHUNK`` values. x̂ and 1/√(σ² + ε)
are kept only when the backward pass needs them.
"""
import numpy as np

from . import jit, native

#: values per thread of the native pool below which one thread does it all
MIN_CHUNK = 1 << 14


def usable(rows, *parameters):
    """True for C-contiguous float rows with parameters of the same dtype (or None)."""
    return jit.enabled() and rows.dtype in jit.FLOAT_TYPES and rows.flags.c_contiguous and all(
        p is None or (p.dtype == rows.dtype and p.flags.c_contiguous) for p in parameters)


def forward(rows, weight, bias, eps, save):
    """(y, x̂ or None, 1/√(σ² + ε) as (rows, 1) or None) of the (rows, D) array ``rows``."""
    count, size = rows.shape
    dtype = rows.dtype
    out = np.empty_like(rows)
    x_hat = np.empty_like(rows) if save else out
    inv_std = np.empty((count, 1), dtype)
    empty = np.empty(0, dtype)
    weight = empty if weight is None else weight.reshape(-1)
    bias = empty if bias is None else bias.reshape(-1)
    parts = native.parts(rows.size, MIN_CHUNK) if native.active() else 1
    arguments = (rows, weight, bias, dtype.type(eps), out, x_hat, inv_std, save)
    if parts > 1 and count > 1:
        _rows_parallel(*arguments, min(parts, count))
    else:
        _rows(*arguments, 0, count)
    return out, (x_hat if save else None), (inv_std if save else None)


@jit.reduction_kernel
def _rows(x, weight, bias, eps, out, x_hat, inv_std, save, first, last):
    size = x.shape[1]
    scale, shift = weight.shape[0] == size, bias.shape[0] == size
    zero = eps * 0
    count = zero + size          # in the array's precision, as NumPy computes
    for r in range(first, last):
        total = zero
        for j in range(size):
            total += x[r, j]
        mean = total / count
        spread = zero
        for j in range(size):
            d = x[r, j] - mean
            spread += d * d
        inv = 1 / np.sqrt(spread / count + eps)
        inv_std[r, 0] = inv
        if save:
            for j in range(size):
                x_hat[r, j] = (x[r, j] - mean) * inv
        if scale and shift:
            for j in range(size):
                out[r, j] = (x[r, j] - mean) * inv * weight[j] + bias[j]
        elif scale:
            for j in range(size):
                out[r, j] = (x[r, j] - mean) * inv * weight[j]
        elif shift:
            for j in range(size):
                out[r, j] = (x[r, j] - mean) * inv + bias[j]
        else:
            for j in range(size):
                out[r, j] = (x[r, j] - mean) * inv


@jit.parallel_kernel
def _rows_parallel(x, weight, bias, eps, out, x_hat, inv_std, save, parts):
    count = x.shape[0]
    step = (count + parts - 1) // parts
    for p in jit.prange(parts):
        _rows(x, weight, bias, eps, out, x_hat, inv_std, save, p * step,
              min(count, (p + 1) * step))
