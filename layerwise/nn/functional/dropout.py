"""Dropout (Srivastava et al., 2014): during training, zero each unit with probability p.

Inverted dropout scales the kept units by 1/(1 - p) at training time, so the
expected value of every unit is unchanged and nothing needs rescaling at test time:

    y = x · m / (1 - p),   m ~ Bernoulli(1 - p);   dL/dx = g · m / (1 - p).

``dropout2d`` drops whole channels (one m per (sample, channel) of an (N, C, H, W)
input), which suits convolutional feature maps whose neighbouring pixels are
correlated. Masks come from layerwise's global generator (``lw.manual_seed``).
``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
"""
import numpy as np

from ...autograd.function import Function
from ...autograd.random import get_rng

__all__ = ["dropout", "dropout1d", "dropout2d", "alpha_dropout"]


class Dropout(Function):
    """y = x · m / (1 - p) with m ~ Bernoulli(1 - p) of shape ``mask_shape`` (broadcast);
    dL/dx = g · m / (1 - p)."""

    def forward(self, x, p=0.5, mask_shape=None):
        keep = get_rng().random(mask_shape, dtype=np.float32) >= p
        self.keep, self.scale = keep, 1.0 / (1.0 - p)
        out = x * self.scale
        out *= keep
        return out

    def backward(self, g):
        grad = g * self.scale
        grad *= self.keep
        return grad


class AlphaDropout(Function):
    """Dropout for SELU networks (Klambauer et al., 2017): keeps mean 0 and variance 1.

    Dropped units are set to α' = -λα (SELU's negative saturation), then
    y = a (x m + α' (1 - m)) + b with a = ((1 - p)(1 + p α'²))^(-1/2), b = -a α' p;
    dL/dx = a · m · g.
    """

    SATURATION = -1.7580993408473766  # -λα of SELU

    def forward(self, x, p=0.5):
        keep = get_rng().random(x.shape, dtype=np.float32) >= p
        alpha = self.SATURATION
        a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
        b = -a * alpha * p
        self.keep, self.a = keep, a
        out = np.where(keep, x, alpha)
        out *= a
        out += b
        return out

    def backward(self, g):
        grad = g * self.a
        grad *= self.keep
        return grad


def _check_p(name, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p, scale the rest by 1/(1-p) (training only)."""
    _check_p("dropout", p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    return Dropout.apply(input, p=float(p), mask_shape=input.data.shape)


def _channel_dropout(name, input, p, training, spatial_dims):
    _check_p(name, p)
    shape = input.data.shape
    if len(shape) not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(
            f"{name}: expected a {spatial_dims + 2}-D input (N, C, ...) or a "
            f"{spatial_dims + 1}-D one without batch, got shape {tuple(shape)}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    mask_shape = shape[:len(shape) - spatial_dims] + (1,) * spatial_dims
    return Dropout.apply(input, p=float(p), mask_shape=mask_shape)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p."""
    return _channel_dropout("dropout1d", input, p, training, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability p."""
    return _channel_dropout("dropout2d", input, p, training, 2)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalizing mean and variance (training only)."""
    _check_p("alpha_dropout", p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    return AlphaDropout.apply(input, p=float(p))
