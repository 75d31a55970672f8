"""Arithmetic with broadcasting: + - * / ** @ and unary minus.

Each backward applies the derivative, then sums away the axes that broadcasting
added (``unbroadcast``).
"""
import numpy as np

from ...backend.blas import matmul as blas_matmul
from ...backend.broadcast import unbroadcast
from ..function import Function
from ._util import pair


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None,
                unbroadcast(g, sb) if need_b else None)


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None,
                unbroadcast(-g, sb) if need_b else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * b, a.shape) if need_a else None,
                unbroadcast(g * a, b.shape) if need_b else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b²."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        ga = g / b
        return (unbroadcast(ga, a.shape) if need_a else None,
                unbroadcast(-ga * a / b, b.shape) if need_b else None)


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1),  dz/db = a^b ln a (0 where a = 0 and b >= 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        a, b, out = self.a, self.b, self.out
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if need_a:
            if b.ndim == 0 and b == 2:
                ga = unbroadcast(g * (2 * a), a.shape)
            else:
                ga = unbroadcast(g * b * a ** (b - 1), a.shape)
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where((a == 0) & (b >= 0), 0, np.log(a))
            gb = unbroadcast(g * out * log_a, b.shape)
        return ga, gb


class Neg(Function):
    """z = -a."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class MatMul(Function):
    """Z = A @ B (NumPy's rules for 1-D and batched operands);  dA = G Bᵀ, dB = Aᵀ G."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return blas_matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (g * b if need_a else None), (g * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            ga = unbroadcast(blas_matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if need_b:
            gb = unbroadcast(blas_matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb


def add(a, b):
    return Add.apply(*pair(a, b))


def sub(a, b):
    return Sub.apply(*pair(a, b))


def mul(a, b):
    return Mul.apply(*pair(a, b))


def div(a, b):
    a, b = pair(a, b)
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        a = a.to(np.float32)
    return Div.apply(a, b)


def pow(a, b):  # noqa: A001 - PyTorch's name
    return Pow.apply(*pair(a, b))


def neg(a):
    return Neg.apply(a)


def matmul(a, b):
    a, b = pair(a, b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got "
                           f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
    k_a = a.data.shape[-1]
    k_b = b.data.shape[0] if b.data.ndim == 1 else b.data.shape[-2]
    if k_a != k_b:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({k_a} columns vs {k_b} rows)")
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got "
                           f"{a.data.dtype} and {b.data.dtype}")
    return MatMul.apply(a, b)
