"""The dense (fully connected) layer as one op: y = x Wᵀ + b.

For an input x of shape (*, in_features), a weight W of shape (out_features, in_features)
and a bias b of shape (out_features,), every leading index (batch, time, ...) is one
row of the matrix product. The leading dimensions are flattened into one so that a
single matrix multiplication (one BLAS call) does the work in both directions.
"""
import numpy as np

from ...autograd.function import Function
from ...backend.blas import matmul

__all__ = ["linear", "identity"]


class Linear(Function):
    """y = x Wᵀ + b.

    With X the input flattened to rows (M, in) and G = dL/dy as rows (M, out):
    dL/dx = G W,   dL/dW = Gᵀ X,   dL/db = Σ_rows G.
    """

    def forward(self, x, weight, bias=None):
        need_x, need_weight, need_bias = self.needs_input_grad
        rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        if need_weight:
            self.rows = rows
        if need_x:
            self.weight, self.x_shape = weight, x.shape
        out = matmul(rows, weight.T)
        if bias is not None:
            out += bias
        return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        need_x, need_weight, need_bias = self.needs_input_grad
        # BLAS needs a contiguous gradient (a broadcast one, e.g. from sum(), has 0 strides)
        g_rows = np.ascontiguousarray(g.reshape(-1, g.shape[-1]))
        grad_x = matmul(g_rows, self.weight).reshape(self.x_shape) if need_x else None
        grad_weight = matmul(g_rows.T, self.rows) if need_weight else None
        grad_bias = g_rows.sum(axis=0) if need_bias else None
        return grad_x, grad_weight, grad_bias


def check_linear_arguments(input, weight, bias, layer="linear"):
    """Fail early, naming ``layer``, when shapes or dtypes do not fit together."""
    x, w = input.data, weight.data
    if (x.ndim and w.ndim == 2 and x.shape[-1] == w.shape[1] and x.dtype == w.dtype and
            (bias is None or (bias.data.shape == w.shape[:1] and bias.data.dtype == w.dtype))):
        return                                    # all fits: the common case, checked once
    if w.ndim != 2:
        raise RuntimeError(f"{layer}: weight must be 2-D (out_features, in_features), "
                           f"got shape {tuple(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(f"{layer}: expected input with last dimension {w.shape[1]} "
                           f"(in_features), got shape {tuple(x.shape)}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"{layer}: input dtype {x.dtype} does not match weight dtype "
                           f"{w.dtype}; convert one of them (e.g. x.float() or "
                           f"module.double())")
    if bias is not None:
        b = bias.data
        if b.shape != (w.shape[0],):
            raise RuntimeError(f"{layer}: bias must have shape ({w.shape[0]},) "
                               f"(out_features), got {tuple(b.shape)}")
        if b.dtype != w.dtype:
            raise RuntimeError(f"{layer}: bias dtype {b.dtype} does not match weight "
                               f"dtype {w.dtype}")


def linear(input, weight, bias=None):
    """y = input @ weightᵀ + bias, for input (*, in), weight (out, in), bias (out,)."""
    check_linear_arguments(input, weight, bias)
    return Linear.apply(input, weight, bias)


def identity(input):
    """y = x (the same tensor: nothing is recorded)."""
    return input

