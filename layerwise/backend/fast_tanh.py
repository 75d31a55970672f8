"""tanh for float32 as a compiled rational polynomial: 5x faster than NumPy's, within 7 ulp.

NumPy's float32 ``tanh`` costs about 3.6 ns per element on this project's 2-core AMD
EPYC (a library call per element), as much as the matrix product it follows in an
LSTM step. A rational approximation evaluates in a few multiply-adds that the
compiler vectorizes over 8 lanes (0.7 ns per element), the method of Eigen's
``generic_fast_tanh_float`` and of XNNPACK:

    x' = clamp(x, -7.9053, 7.9053),   s = x'²
    tanh x ≈ x' · P(s) / Q(s),   P of degree 6 in s (odd degree 13 in x), Q of degree 3
    tanh x = x                  for |x| < 4·10⁻⁴ (exact to float32 rounding)
    tanh x = ±1                 for |x| > 9 (where float32 rounds tanh to ±1)

with Eigen's minimax coefficients below. Measured against float64 ``tanh`` on 4·10⁶
points of [-12, 12] plus tiny values, the error is at most 6.6 units in the last place
(NumPy's own: 1.4), a relative error below 4·10⁻⁷; ``tests/backend/test_fast_tanh.py``
holds the bound. NaN stays NaN.

It is used only for float32 and only where numba compiles it (``jit.enabled()``):
inside the fused LSTM/GRU gate kernels, and for the Tanh activation where it is faster
than NumPy's (``preferred``, measured once per process): NumPy's float32 tanh is itself
vectorized on CPUs with AVX-512 (0.33 ns per element on the Intel Xeon of 2026-12-04,
against 0.54 for this one), but a library call per element on the AMD Zen 3 (3.6 ns). float64 keeps NumPy's ``tanh``, so the
float64 gradient checks and parity tests see the exact function. For NumPy's float32
tanh everywhere: ``LAYERWISE_FAST_TANH=0``, ``fast_tanh.set_enabled(False)`` or
``with fast_tanh.exact(): ...`` (the tests that compare the compiled kernels with the
NumPy code bit for bit run that way).
"""
import os
import time

import numpy as np

from . import jit, native, parallel

__all__ = ["usable", "preferred", "tanh", "tanh_scalar", "set_enabled", "exact"]

_enabled = os.environ.get("LAYERWISE_FAST_TANH", "1").strip().lower() not in jit._OFF


def set_enabled(flag):
    """Use (True) or stop using (False) the rational float32 tanh."""
    global _enabled
    _enabled = bool(flag)


def exact():
    """``with fast_tanh.exact(): ...`` runs the block with NumPy's float32 tanh."""
    return jit.switched(set_enabled, False, _enabled)

CLAMP = np.float32(7.90531110763549805)
TINY = np.float32(0.0004)
SATURATED = np.float32(9.0)
ONE = np.float32(1.0)
# Eigen's generic_fast_tanh_float: numerator alpha_1..alpha_13 (odd), denominator beta_0..beta_6
ALPHA = np.array([4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
                  5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
                  -2.76076847742355e-16], np.float32)
BETA = np.array([4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                 1.19825839466702e-06], np.float32)
A1, A3, A5, A7, A9, A11, A13 = (np.float32(a) for a in ALPHA)
B0, B2, B4, B6 = (np.float32(b) for b in BETA)


def usable(*arrays):
    """True for C-contiguous float32 arrays of one shape with the compiled kernels on."""
    first = arrays[0]
    return _enabled and jit.enabled() and all(a.dtype == np.float32 and a.flags.c_contiguous and
                                 a.shape == first.shape for a in arrays)


_beats_numpy = None


def preferred(x):
    """``usable(x)`` and measured faster than NumPy's float32 tanh on this machine."""
    global _beats_numpy
    if not usable(x):
        return False
    if _beats_numpy is None:     # as each would run: this one on all threads, NumPy's on one
        _beats_numpy = _seconds(lambda out, a: tanh(a, out)) < \
            _seconds(lambda out, a: np.tanh(a, out=out))
    return _beats_numpy


def _seconds(kernel, size=1 << 18, repeats=5):
    """Best time of ``kernel(out, x)`` on ``size`` float32 values."""
    x = np.linspace(-5, 5, size, dtype=np.float32)
    out = np.empty_like(x)
    kernel(out, x)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        kernel(out, x)
        best = min(best, time.perf_counter() - start)
    return best


@jit.kernel
def tanh_scalar(v):
    """tanh of one float32 value (see the module docstring); inlined into other kernels."""
    x = min(max(v, -CLAMP), CLAMP)
    s = x * x
    p = ((((((s * A13 + A11) * s + A9) * s + A7) * s + A5) * s + A3) * s + A1) * x
    q = ((s * B6 + B4) * s + B2) * s + B0
    r = p / q
    r = x if abs(x) < TINY else r
    r = ONE if v > SATURATED else r
    return -ONE if v < -SATURATED else r


@jit.kernel
def _tanh(out, x):
    for i in range(out.shape[0]):
        out[i] = tanh_scalar(x[i])


def tanh(x, out=None):
    """out = tanh(x) for a float32 array (``usable``), split over layerwise's threads."""
    out = np.empty_like(x) if out is None else out
    flat_out, flat_x = out.reshape(-1), x.reshape(-1)
    if native.active():
        parts = native.parts(x.size, MIN_CHUNK)
        if parts > 1:
            _tanh_parallel(flat_out, flat_x, parts)
        else:
            _tanh(flat_out, flat_x)
        return out
    parallel.for_each_chunk(lambda a, b: _tanh(flat_out[a:b], flat_x[a:b]), x.size)
    return out


MIN_CHUNK = 1 << 14   # elements per thread of the native pool


@jit.parallel_kernel
def _tanh_parallel(out, x, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _tanh(out[a:b], x[a:b])
