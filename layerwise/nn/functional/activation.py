"""Activation functions: the nonlinearity a neuron applies to its weighted sum.

sigmoid, tanh and relu are the core's ops (``layerwise.autograd.ops``), re-exported
here; the others are defined below, each one ``Function``. Softmax and log-softmax
go through log-sum-exp (subtracting the maximum first), so logits of ±1000 give
finite values and no floating-point warnings.
"""
import math

import numpy as np
from scipy.special import erf, expit

from ...autograd.function import Function
from ...autograd.ops import relu, sigmoid, tanh
from ...backend import jit_elementwise, jit_erf
from ...backend.parallel import elementwise

__all__ = ["step", "heaviside_step", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
           "gelu", "softplus", "softmax", "log_softmax", "hardtanh", "relu6"]


def sum_keepdims(a, axis):
    """Σ a along ``axis``, keeping the axis. Along a contiguous last axis of a large array
    it is a matrix-vector product with ones, which BLAS does several times faster than
    NumPy's row-by-row reduction."""
    if axis == a.ndim - 1 and a.size >= 4096 and a.flags.c_contiguous:
        n = a.shape[-1]
        return (a.reshape(-1, n) @ np.ones(n, a.dtype)).reshape(a.shape[:-1] + (1,))
    return a.sum(axis=axis, keepdims=True)


def exp_shift(x, axis):
    """What to subtract from x before exponentiating along ``axis``: its maximum there.

    Then every exponent is <= 0 (no overflow) and the largest term is 1 (the sum never
    underflows to 0). NumPy's maximum along a short last axis goes row by row and is
    slow; when all of a large array lies within 60 of its global maximum, that one
    number does the same job (each exponent stays in [-60, 0], where e^x is a normal
    float even in float32) several times faster.
    """
    if axis == x.ndim - 1 and x.size >= 4096 and x.shape[-1] <= 256:
        high, low = x.max(), x.min()
        if np.isfinite(high) and np.isfinite(low) and high - low <= 60:
            return high
    return x.max(axis=axis, keepdims=True)


class Step(Function):
    """The perceptron's activation (Heaviside step): y = 1 if x > 0 else 0.

    At exactly x = 0 the output is 0 (a neuron fires only when its weighted sum is
    strictly positive, as in Rosenblatt's perceptron rule). The derivative is 0
    everywhere it exists, so no gradient flows through a step: the perceptron is
    trained by its own rule, not by backpropagation.
    """

    def forward(self, x):
        self.shape = x.shape
        return (x > 0).astype(x.dtype)

    def backward(self, g):
        return np.zeros(self.shape, dtype=g.dtype)


class LeakyReLU(Function):
    """y = x if x > 0 else a·x;  dy/dx = 1 if x > 0 else a (a at 0, as in PyTorch)."""

    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        if jit_elementwise.usable(x):          # one compiled pass
            return elementwise(lambda o, a: jit_elementwise.leaky_relu(o, a, negative_slope),
                               np.empty_like(x), x)
        return np.where(x > 0, x, x * negative_slope)

    def backward(self, g):
        if jit_elementwise.usable(g, self.x):
            return elementwise(
                lambda o, a, b: jit_elementwise.leaky_relu_grad(o, a, b, self.slope),
                np.empty_like(g), g, self.x)
        return np.where(self.x > 0, g, g * self.slope)


class ELU(Function):
    """y = x if x > 0 else α(eˣ - 1);  dy/dx = 1 if x > 0 else y + α."""

    def forward(self, x, alpha=1.0):
        self.positive = x > 0
        y = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        self.y, self.alpha = y, alpha
        return y

    def backward(self, g):
        return np.where(self.positive, g, g * (self.y + self.alpha))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


class GELU(Function):
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016): y = x Φ(x).

    approximate='none': Φ(x) = ½(1 + erf(x/√2)),  dy/dx = Φ(x) + x φ(x),
                        φ(x) = e^(-x²/2) / √(2π).
    approximate='tanh': y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³),
                        dy/dx = ½(1 + tanh u) + ½x(1 - tanh²u) √(2/π)(1 + 3·0.044715x²).
    """

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            return 0.5 * x * (1 + self.t)
        if jit_erf.usable(x):                   # float32: one compiled pass
            out, self.cdf = np.empty_like(x), np.empty_like(x)
            return jit_erf.gelu(x, out, self.cdf)
        self.cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return g * (self.cdf + x * pdf)


class Softplus(Function):
    """y = (1/β) log(1 + e^(βx)), and y = x where βx > threshold (as PyTorch).

    dy/dx = σ(βx) (1 above the threshold).
    """

    def forward(self, x, beta=1.0, threshold=20.0):
        bx = x * beta if beta != 1 else x
        self.bx, self.threshold = bx, threshold
        soft = np.logaddexp(0, bx)
        if beta != 1:
            soft /= beta
        return np.where(bx > threshold, x, soft)

    def backward(self, g):
        bx = self.bx
        return np.where(bx > self.threshold, g, g * expit(bx))


class Softmax(Function):
    """yᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) along ``dim`` (m = max x: no overflow).

    Backward (the Jacobian diag(y) - y yᵀ applied to g): dL/dx = y (g - Σⱼ gⱼ yⱼ).
    """

    def forward(self, x, dim=-1):
        e = x - exp_shift(x, dim)
        np.exp(e, out=e)
        e /= sum_keepdims(e, dim)
        self.y, self.dim = e, dim
        return e

    def backward(self, g):
        y = self.y
        grad = g * y
        np.subtract(g, sum_keepdims(grad, self.dim), out=grad)
        grad *= y
        return grad


class LogSoftmax(Function):
    """yᵢ = xᵢ - logΣⱼ e^(xⱼ) = (xᵢ - m) - log Σⱼ e^(xⱼ - m) along ``dim``.

    Backward: dL/dx = g - softmax(x) Σⱼ gⱼ, with softmax(x) = e^y.
    """

    def forward(self, x, dim=-1):
        shifted = x - exp_shift(x, dim)
        shifted -= np.log(sum_keepdims(np.exp(shifted), dim))
        self.y, self.dim = shifted, dim
        return shifted

    def backward(self, g):
        grad = np.exp(self.y)
        grad *= sum_keepdims(g, self.dim)
        np.subtract(g, grad, out=grad)
        return grad


class Hardtanh(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 for lo < x < hi, else 0 (PyTorch's rule)."""

    def forward(self, x, min_val=-1.0, max_val=1.0):
        self.inside = (x > min_val) & (x < max_val)
        return np.clip(x, min_val, max_val)

    def backward(self, g):
        return g * self.inside


def step(input):
    """Heaviside step: 1 where input > 0, else 0 (0 at 0); its gradient is zero."""
    return Step.apply(input)


heaviside_step = step


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope·x (``inplace`` is accepted and ignored)."""
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else α(eˣ - 1) (``inplace`` is accepted and ignored)."""
    return ELU.apply(input, alpha=float(alpha))


def gelu(input, approximate="none"):
    """x·Φ(x), exactly (``'none'``) or with the tanh approximation (``'tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0):
    """(1/β) log(1 + e^(βx)), linear above ``threshold`` (a smooth ReLU)."""
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def _softmax_dim(name, input, dim):
    ndim = input.data.ndim
    if dim is None:
        raise TypeError(f"{name}: dim is required (PyTorch's implicit choice of dim is "
                        f"deprecated); for logits of shape (N, C) use dim=1 or dim=-1")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dim {dim} is out of range for an input of shape "
                         f"{tuple(input.shape)}")
    return dim % ndim if ndim else None


def _cast(input, dtype):
    return input if dtype is None else input.to(dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim`` (required), computed without overflow."""
    axis = _softmax_dim("softmax", input, dim)
    if axis is None:                                      # a 0-d input: one class
        return Softmax.apply(_cast(input, dtype).reshape(1), dim=0).reshape(())
    return Softmax.apply(_cast(input, dtype), dim=axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """xᵢ - log Σⱼ e^(xⱼ) along ``dim`` (required), computed without overflow."""
    axis = _softmax_dim("log_softmax", input, dim)
    if axis is None:                                      # a 0-d input: one class
        return LogSoftmax.apply(_cast(input, dtype).reshape(1), dim=0).reshape(())
    return LogSoftmax.apply(_cast(input, dtype), dim=axis)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return Hardtanh.apply(input, min_val=float(min_val), max_val=float(max_val))


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)
