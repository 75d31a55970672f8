"""Activation gradients as compiled loops (used when numba is installed).

Each is one pass over memory where the NumPy code makes two or three (and a boolean
temporary for ReLU), with the same operations in the same order, so results are
bit-identical. The functions take ``(out, g, y)`` like the NumPy helpers they replace
in ``autograd.ops.elementwise``, so ``parallel.elementwise`` splits them across threads;
with the native pool on (``backend.native``) each runs its ``*_parallel`` twin instead,
one range per thread of that pool.
"""
from . import jit, native

#: elements per thread of the native pool below which one thread does it all
MIN_CHUNK = 1 << 14


def usable(*arrays):
    """True when the compiled loops apply: numba on, C-contiguous float arrays of one dtype."""
    first = arrays[0]
    return jit.enabled() and first.dtype in jit.FLOAT_TYPES and all(
        a.flags.c_contiguous and a.dtype == first.dtype and a.shape == first.shape
        for a in arrays)


def choose(compiled, numpy_kernel, *arrays):
    """``compiled`` when it applies to ``arrays`` (see ``usable``), else ``numpy_kernel``."""
    return compiled if usable(*arrays) else numpy_kernel


def _run(kernel, twin, out, *rest):
    """``kernel(out, *rest)`` on flat arrays, or its twin over the native pool's threads."""
    parts = native.parts(out.size, MIN_CHUNK) if native.active() else 1
    if parts > 1:
        twin(out, *rest, parts)
    else:
        kernel(out, *rest)


def _flat(*arrays):
    return [a.reshape(-1) for a in arrays]


def relu(out, x):
    """out = max(x, 0)  (NumPy's ``np.maximum(x, 0)``: NaN stays NaN, -0 becomes 0)."""
    _run(_relu, _relu_parallel, *_flat(out, x), out.dtype.type(0))


def relu_one_thread(out, x):
    """``relu`` on this thread (for arrays below ``MIN_CHUNK``: ~1 µs less overhead)."""
    _relu(out.reshape(-1), x.reshape(-1), out.dtype.type(0))


def relu_grad(out, g, y):
    """out = g · [y > 0]  (g times 1 or 0, as NumPy's ``g * (y > 0)``)."""
    one, zero = out.dtype.type(1), out.dtype.type(0)
    _run(_relu_grad, _relu_grad_parallel, *_flat(out, g, y), one, zero)


def tanh_grad(out, g, y):
    """out = (1 - y²) · g."""
    _run(_tanh_grad, _tanh_grad_parallel, *_flat(out, g, y), out.dtype.type(1))


def sigmoid_grad(out, g, y):
    """out = ((1 - y) · y) · g."""
    _run(_sigmoid_grad, _sigmoid_grad_parallel, *_flat(out, g, y), out.dtype.type(1))


@jit.kernel
def _relu(out, x, zero):
    for i in range(out.shape[0]):
        v = x[i]
        out[i] = v if v > 0 or v != v else zero


@jit.kernel
def _relu_grad(out, g, y, one, zero):
    for i in range(out.shape[0]):
        out[i] = g[i] * (one if y[i] > 0 else zero)


@jit.kernel
def _tanh_grad(out, g, y, one):
    for i in range(out.shape[0]):
        out[i] = (one - y[i] * y[i]) * g[i]


@jit.kernel
def _sigmoid_grad(out, g, y, one):
    for i in range(out.shape[0]):
        out[i] = ((one - y[i]) * y[i]) * g[i]


def leaky_relu(out, x, negative_slope):
    """out = x if x > 0 else x · slope  (NumPy's ``np.where(x > 0, x, x * slope)``)."""
    _run(_leaky_relu, _leaky_relu_parallel, *_flat(out, x), out.dtype.type(negative_slope))


def leaky_relu_grad(out, g, x, negative_slope):
    """out = g if x > 0 else g · slope."""
    out_flat, g_flat, x_flat = _flat(out, g, x)
    _run(_leaky_relu_by_sign, _leaky_relu_by_sign_parallel, out_flat, g_flat,
         out.dtype.type(negative_slope), x_flat)


@jit.kernel
def _leaky_relu(out, values, slope):
    """out[i] = values[i] if values[i] > 0 else values[i] · slope."""
    for i in range(out.shape[0]):
        v = values[i]
        out[i] = v if v > 0 else v * slope


@jit.kernel
def _leaky_relu_by_sign(out, values, slope, sign_source):
    """out[i] = values[i] if sign_source[i] > 0 else values[i] · slope."""
    for i in range(out.shape[0]):
        v = values[i]
        out[i] = v if sign_source[i] > 0 else v * slope


# The kernels above with one range per thread of the native pool.
@jit.parallel_kernel
def _relu_parallel(out, x, zero, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _relu(out[a:b], x[a:b], zero)


@jit.parallel_kernel
def _relu_grad_parallel(out, g, y, one, zero, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _relu_grad(out[a:b], g[a:b], y[a:b], one, zero)


@jit.parallel_kernel
def _tanh_grad_parallel(out, g, y, one, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _tanh_grad(out[a:b], g[a:b], y[a:b], one)


@jit.parallel_kernel
def _sigmoid_grad_parallel(out, g, y, one, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _sigmoid_grad(out[a:b], g[a:b], y[a:b], one)


@jit.parallel_kernel
def _leaky_relu_parallel(out, values, slope, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _leaky_relu(out[a:b], values[a:b], slope)


@jit.parallel_kernel
def _leaky_relu_by_sign_parallel(out, values, slope, sign_source, parts):
    step = (out.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(out.shape[0], (p + 1) * step)
        _leaky_relu_by_sign(out[a:b], values[a:b], slope, sign_source[a:b])
