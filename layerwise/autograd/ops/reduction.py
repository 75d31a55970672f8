"""Reductions: sum, mean, var, std, max/min (with and without dim), logsumexp, norm.

Backward broadcasts the output gradient back over the reduced axes.
"""
import builtins
from collections import namedtuple

import numpy as np

from ...backend.broadcast import normalize_dims
from ..function import Function
from ..tensor import Tensor

MaxResult = namedtuple("max", ["values", "indices"])


def _expand_back(g, axes, keepdim, shape):
    """Put the reduced axes back into ``g`` and broadcast it to ``shape``."""
    if not keepdim:
        g = np.expand_dims(g, axes)
    # materialized: a zero-stride view would push matmul off its BLAS path downstream
    return np.broadcast_to(g, shape).copy()


class Sum(Function):
    """y = Σ x over ``axes``;  dy/dx = 1."""

    def forward(self, x, axes=None, keepdim=False):
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.axes, self.keepdim, self.shape)


class Mean(Function):
    """y = (1/n) Σ x over ``axes``;  dy/dx = 1/n."""

    def forward(self, x, axes=None, keepdim=False):
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        self.n = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g / self.n, self.axes, self.keepdim, self.shape)


class Var(Function):
    """v = Σ (x - x̄)² / (n - correction);  dv/dx = 2 (x - x̄) / (n - correction)."""

    def forward(self, x, axes=None, keepdim=False, correction=1):
        n = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.axes, self.keepdim, self.divisor = axes, keepdim, builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.centered ** 2).sum(axis=axes, keepdims=keepdim) / self.divisor

    def backward(self, g):
        if not self.keepdim:
            g = np.expand_dims(g, self.axes)
        return g * (2 / self.divisor) * self.centered


class MaxAlongDim(Function):
    """values = max of x along one dim; the gradient goes to the arg-max (first on ties)."""

    def forward(self, x, dim=0, keepdim=False, smallest=False):
        index = (np.argmin if smallest else np.argmax)(x, axis=dim)
        self.index = np.expand_dims(index, dim)
        self.dim, self.keepdim, self.shape = dim, keepdim, x.shape
        values = np.take_along_axis(x, self.index, axis=dim)
        return values if keepdim else np.squeeze(values, dim)

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if not self.keepdim:
            g = np.expand_dims(g, self.dim)
        np.put_along_axis(grad, self.index, g, axis=self.dim)
        return grad


class Amax(Function):
    """y = max of x over ``axes``; the gradient is split evenly between tied maxima."""

    def forward(self, x, axes=None, keepdim=False, smallest=False):
        reduce = np.min if smallest else np.max
        out = reduce(x, axis=axes, keepdims=True)
        self.mask = x == out
        self.axes, self.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axes)

    def backward(self, g):
        mask = self.mask
        count = mask.sum(axis=self.axes, keepdims=True)
        if not self.keepdim:
            g = np.expand_dims(g, self.axes)
        return (g / count) * mask


class LogSumExp(Function):
    """y = log Σ eˣ = m + log Σ e^(x-m) with m = max x (no overflow);  dy/dx = softmax(x)."""

    def forward(self, x, axes=None, keepdim=False):
        m = np.max(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(x - m)
        s = e.sum(axis=axes, keepdims=True)
        self.softmax, self.axes, self.keepdim = e / s, axes, keepdim
        out = np.log(s) + m
        return out if keepdim else np.squeeze(out, axes)

    def backward(self, g):
        if not self.keepdim:
            g = np.expand_dims(g, self.axes)
        return g * self.softmax


class Norm2(Function):
    """y = √(Σ x²);  dy/dx = x / y (0 where y = 0)."""

    def forward(self, x, axes=None, keepdim=False):
        out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        self.x, self.out, self.axes, self.keepdim = x, out, axes, keepdim
        return out if keepdim else np.squeeze(out, axes)

    def backward(self, g):
        if not self.keepdim:
            g = np.expand_dims(g, self.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(self.out == 0, 0, g / self.out)
        return (scale * self.x).astype(self.x.dtype, copy=False)


def _axes(x, dim):
    return normalize_dims(dim, x.data.ndim)


def sum(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    if x.data.dtype == bool:
        x = Tensor(x.data.astype(np.int64))
    return Sum.apply(x, axes=_axes(x, dim), keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    if x.data.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                           f"floating point, got {x.data.dtype}")
    return Mean.apply(x, axes=_axes(x, dim), keepdim=keepdim)


def var(x, dim=None, keepdim=False, unbiased=True, correction=None):
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(x, axes=_axes(x, dim), keepdim=keepdim, correction=correction)


def std(x, dim=None, keepdim=False, unbiased=True, correction=None):
    from .elementwise import sqrt
    return sqrt(var(x, dim, keepdim, unbiased, correction))


def _max_or_min(x, dim, keepdim, smallest):
    if dim is None:
        return Amax.apply(x, axes=_axes(x, None), keepdim=False, smallest=smallest)
    (axis,) = _axes(x, dim)
    values = MaxAlongDim.apply(x, dim=axis, keepdim=keepdim, smallest=smallest)
    indices = argmin(x, axis, keepdim) if smallest else argmax(x, axis, keepdim)
    return MaxResult(values, indices)


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)`` along dim."""
    return _max_or_min(x, dim, keepdim, smallest=False)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    return _max_or_min(x, dim, keepdim, smallest=True)


def amax(x, dim=None, keepdim=False):
    return Amax.apply(x, axes=_axes(x, dim), keepdim=keepdim)


def amin(x, dim=None, keepdim=False):
    return Amax.apply(x, axes=_axes(x, dim), keepdim=keepdim, smallest=True)


def argmax(x, dim=None, keepdim=False):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if dim is None:
        return Tensor(np.asarray(np.argmax(data), dtype=np.int64))
    return Tensor(np.argmax(data, axis=dim, keepdims=keepdim).astype(np.int64, copy=False))


def argmin(x, dim=None, keepdim=False):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if dim is None:
        return Tensor(np.asarray(np.argmin(data), dtype=np.int64))
    return Tensor(np.argmin(data, axis=dim, keepdims=keepdim).astype(np.int64, copy=False))


def logsumexp(x, dim, keepdim=False):
    return LogSumExp.apply(x, axes=_axes(x, dim), keepdim=keepdim)


def norm(x, p=2, dim=None, keepdim=False):
    """The p-norm (Σ |x|ᵖ)^(1/p); p=2 is the Euclidean length."""
    if p in (2, "fro"):
        return Norm2.apply(x, axes=_axes(x, dim), keepdim=keepdim)
    from .elementwise import abs as abs_
    if p == 1:
        return sum(abs_(x), dim, keepdim)
    if p == float("inf"):
        return amax(abs_(x), dim, keepdim)
    return sum(abs_(x) ** p, dim, keepdim) ** (1.0 / p)
