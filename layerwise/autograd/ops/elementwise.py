"""Elementwise functions: exp, log, sqrt, abs, clamp, sigmoid, tanh, relu, max/min of two.

The derivative of each is elementwise too, so backward is one multiplication.
"""
import numpy as np
from scipy.special import expit

from ...backend import fast_tanh, jit_elementwise
from ...backend.broadcast import unbroadcast
from ...backend.parallel import elementwise
from ..function import Function
from ._util import pair


class Exp(Function):
    """y = eˣ;  dy/dx = y."""

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, g):
        return g * self.y


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return g / self.x


class Sqrt(Function):
    """y = √x;  dy/dx = 1 / (2y)."""

    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, g):
        return g / (2 * self.y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as in PyTorch)."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.x)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0."""

    def forward(self, x, lo=None, hi=None):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g):
        x, lo, hi = self.x, self.lo, self.hi
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return g * inside


def _float_like(x):
    """An empty result array for a float function of ``x`` (ints give float32, like PyTorch)."""
    return np.empty(x.shape, x.dtype if x.dtype.kind in "fc" else np.float32)


def _sigmoid_grad(out, g, y):
    np.subtract(1, y, out=out)
    out *= y
    out *= g


def _tanh_grad(out, g, y):
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    out *= g


def _relu_grad(out, g, y):
    np.multiply(g, y > 0, out=out)


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e⁻ˣ), computed without overflow;  dσ/dx = σ (1 - σ)."""

    def forward(self, x):
        self.y = elementwise(lambda o, a: expit(a, out=o), _float_like(x), x)
        return self.y

    def backward(self, g):
        kernel = jit_elementwise.choose(jit_elementwise.sigmoid_grad, _sigmoid_grad, g, self.y)
        return elementwise(kernel, np.empty_like(g), g, self.y)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y².

    float32 with the compiled kernels on, where it is the faster one on this machine:
    ``backend.fast_tanh`` (within 7 ulp; 5x faster than NumPy's on CPUs without AVX-512).
    """

    def forward(self, x):
        if fast_tanh.preferred(x):
            self.y = fast_tanh.tanh(x)
        else:
            self.y = elementwise(lambda o, a: np.tanh(a, out=o), _float_like(x), x)
        return self.y

    def backward(self, g):
        kernel = jit_elementwise.choose(jit_elementwise.tanh_grad, _tanh_grad, g, self.y)
        return elementwise(kernel, np.empty_like(g), g, self.y)


def _relu(out, x):
    np.maximum(x, 0, out=out)


class ReLU(Function):
    """y = max(0, x);  dy/dx = 1 for x > 0, else 0."""

    def forward(self, x):
        out = np.empty_like(x)
        if x.size < jit_elementwise.MIN_CHUNK and jit_elementwise.usable(x):
            jit_elementwise.relu_one_thread(out, x)      # small: no splitting to decide
        else:
            kernel = jit_elementwise.choose(jit_elementwise.relu, _relu, x)
            elementwise(kernel, out, x)
        self.y = out
        return out

    def backward(self, g):
        kernel = jit_elementwise.choose(jit_elementwise.relu_grad, _relu_grad, g, self.y)
        return elementwise(kernel, np.empty_like(g), g, self.y)


class Maximum(Function):
    """z = max(a, b) elementwise; the gradient goes to the larger, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share_a = (a > b) + 0.5 * (a == b)
        share_a = share_a.astype(g.dtype)
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * share_a, a.shape) if need_a else None,
                unbroadcast(g * (1 - share_a), b.shape) if need_b else None)


class Where(Function):
    """z = a where cond else b;  the gradient goes to the chosen side."""

    def forward(self, a, b, cond=None):
        self.cond, self.shapes = cond, (a.shape, b.shape)
        return np.where(cond, a, b)

    def backward(self, g):
        cond = self.cond
        zero = np.zeros((), dtype=g.dtype)
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(np.where(cond, g, zero), self.shapes[0]) if need_a else None,
                unbroadcast(np.where(cond, zero, g), self.shapes[1]) if need_b else None)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001 - PyTorch's name
    return Abs.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, lo=min, hi=max)


clip = clamp


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return ReLU.apply(x)


def maximum(a, b):
    return Maximum.apply(*pair(a, b))


def minimum(a, b):
    from .arithmetic import neg
    a, b = pair(a, b)
    return neg(Maximum.apply(neg(a), neg(b)))


def where(condition, a, b):
    from ..tensor import Tensor
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = pair(a, b)
    return Where.apply(a, b, cond=cond.astype(bool, copy=False))
