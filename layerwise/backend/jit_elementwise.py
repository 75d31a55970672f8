"""Activation gradients as compiled loops (used when numba is installed).

Each is one pass over memory where the NumPy code makes two or three (and a boolean
temporary for ReLU), with the same operations in the same order, so results are
bit-identical. The functions take ``(out, g, y)`` like the NumPy helpers they replace
in ``autograd.ops.elementwise``, so ``parallel.elementwise`` splits them across threads.
"""
from . import jit


def usable(*arrays):
    """True when the compiled loops apply: numba on, C-contiguous float arrays of one dtype."""
    first = arrays[0]
    return jit.enabled() and first.dtype in jit.FLOAT_TYPES and all(
        a.flags.c_contiguous and a.dtype == first.dtype and a.shape == first.shape
        for a in arrays)


def choose(compiled, numpy_kernel, *arrays):
    """``compiled`` when it applies to ``arrays`` (see ``usable``), else ``numpy_kernel``."""
    return compiled if usable(*arrays) else numpy_kernel


def relu_grad(out, g, y):
    """out = g · [y > 0]  (g times 1 or 0, as NumPy's ``g * (y > 0)``)."""
    one, zero = out.dtype.type(1), out.dtype.type(0)
    _relu_grad(out.reshape(-1), g.reshape(-1), y.reshape(-1), one, zero)


def tanh_grad(out, g, y):
    """out = (1 - y²) · g."""
    _tanh_grad(out.reshape(-1), g.reshape(-1), y.reshape(-1), out.dtype.type(1))


def sigmoid_grad(out, g, y):
    """out = ((1 - y) · y) · g."""
    _sigmoid_grad(out.reshape(-1), g.reshape(-1), y.reshape(-1), out.dtype.type(1))


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
    _leaky_relu(out.reshape(-1), x.reshape(-1), out.dtype.type(negative_slope))


def leaky_relu_grad(out, g, x, negative_slope):
    """out = g if x > 0 else g · slope."""
    _leaky_relu(out.reshape(-1), g.reshape(-1), out.dtype.type(negative_slope), x.reshape(-1))


@jit.kernel
def _leaky_relu(out, values, slope, sign_source=None):
    """out[i] = values[i] if s[i] > 0 else values[i] · slope, s = sign_source or values."""
    if sign_source is None:
        for i in range(out.shape[0]):
            v = values[i]
            out[i] = v if v > 0 else v * slope
    else:
        for i in range(out.shape[0]):
            v = values[i]
            out[i] = v if sign_source[i] > 0 else v * slope
