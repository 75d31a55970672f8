"""The transformer feed-forward block's elementwise middle, fused: y = dropout(act(x)).

(Also without dropout, p = 0: the activation alone, on all cores, Φ(x) kept for backward.)

In ``linear2(dropout(act(linear1(x))))`` the middle runs on the widest array of the layer
((tokens, dim_feedforward), e.g. 4096 x 2048), where NumPy's one-core passes (random
numbers, activation, mask, scale) cost as much as the GEMMs around them. Here they are
one op whose passes run on all cores, chunk by chunk:

    y = act(x) ⊙ m / (1 - p),   m ~ Bernoulli(1 - p)
    dL/dx = g ⊙ act'(x) ⊙ m / (1 - p)

act = ReLU (act' = [x > 0]) or GELU, exact (x Φ(x); act' = Φ(x) + x φ(x), Φ kept from
forward; in float32 erf is a rational approximation within 6e-7, float32's own
precision) or its tanh approximation. The dropout mask comes from ``keep_mask``: blocks of 2¹⁸ draws, each
from its own generator seeded by the global one (``lw.manual_seed``), so the mask is
the same whatever the number of threads.
"""
import math

import numpy as np
from scipy.special import erf

from ...autograd.function import Function
from ...autograd.ops import relu
from ...autograd.random import get_rng
from ...backend import jit_erf
from ...backend.parallel import MIN_SIZE, for_each_chunk, for_each_part
from .activation import gelu
from .dropout import dropout

__all__ = ["activation_dropout", "keep_mask"]

MASK_BLOCK = 1 << 18          # random draws per generator (fixed: masks don't depend on threads)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


CACHE_BLOCK = 1 << 14         # elements per pass: the temporaries stay in the core's cache


def in_cache_blocks(work, block=CACHE_BLOCK):
    """``work(start, stop)`` run as a loop over blocks of ``block`` elements: each of its
    several elementwise passes then reads and writes cached memory, not main memory."""
    def blocked(start, stop):
        for a in range(start, stop, block):
            work(a, min(a + block, stop))
    return blocked


def keep_mask(shape, p):
    """A boolean array of ``shape``, each entry True with probability 1 - p (drawn in parallel)."""
    size = int(np.prod(shape))
    keep = np.empty(size, dtype=bool)
    blocks = max(1, -(-size // MASK_BLOCK))
    seeds = get_rng().integers(0, 2 ** 63 - 1, size=blocks)
    threshold = np.float32(p)

    def work(first, last):
        for block in range(first, last):
            start, stop = block * MASK_BLOCK, min(size, (block + 1) * MASK_BLOCK)
            draws = np.random.default_rng(seeds[block]).random(stop - start, dtype=np.float32)
            np.greater_equal(draws, threshold, out=keep[start:stop])

    for_each_part(work, blocks)
    return keep.reshape(shape)


def erf_float32(x):
    """erf for float32 arrays: with numba, ``backend.jit_erf`` (a rational form, within
    4.5e-7); else Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, plus float32
    rounding: < 6e-7 in all), several times faster than scipy's; t = 1 / (1 + 0.3275911|x|),
    erf(x) = sign(x) (1 - t (a₁ + t (a₂ + t (a₃ + t (a₄ + t a₅)))) e^(-x²))."""
    if jit_erf.usable(x):
        return jit_erf.erf(x, np.empty_like(x))     # one compiled pass (Eigen's rational form)
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    y = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += np.float32(coefficient)
        y *= t
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    y *= a
    np.subtract(1, y, out=y)
    return np.copysign(y, x, out=y)


def _gelu_(x, out, approximate):
    """out = GELU(x); returns what the derivative needs (tanh u, or Φ(x))."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        np.multiply(x, 0.5 * (1 + t), out=out)
        return t
    if jit_erf.usable(x, out):
        cdf = np.empty_like(x)
        jit_erf.gelu(x, out, cdf)                  # one compiled pass
        return cdf
    scaled = x * x.dtype.type(_SQRT_HALF)
    cdf = erf_float32(scaled) if x.dtype == np.float32 else erf(scaled)
    cdf += 1
    cdf *= 0.5
    np.multiply(x, cdf, out=out)
    return cdf


def _gelu_derivative(x, saved, approximate):
    if approximate == "tanh":
        t = saved
        du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
    return saved + x * (_INV_SQRT_2PI * np.exp(-0.5 * x * x))


class ActivationDropout(Function):
    """y = act(x) ⊙ m / (1 - p) (p = 0: y = act(x)); see the module docstring."""

    def forward(self, x, activation="relu", approximate="none", p=0.5):
        keep = keep_mask(x.shape, p).reshape(-1) if p > 0 else None
        scale = x.dtype.type(1.0 / (1.0 - p))
        flat_x, out = x.reshape(-1), np.empty(x.size, dtype=x.dtype)
        need = self.needs_input_grad[0]
        gate = np.empty(x.size, dtype=bool) if activation == "relu" else             (np.empty_like(out) if need else None)

        def work(a, b):
            xs, ys = flat_x[a:b], out[a:b]
            if activation == "relu":
                np.greater(xs, 0, out=gate[a:b])
                if keep is not None:
                    gate[a:b] &= keep[a:b]
                np.multiply(xs, gate[a:b], out=ys)
            else:
                saved = _gelu_(xs, ys, approximate)
                if gate is not None:
                    gate[a:b] = saved
                if keep is not None:
                    ys *= keep[a:b]
            if keep is not None:
                ys *= scale

        for_each_chunk(in_cache_blocks(work), x.size, MIN_SIZE)
        if need:
            self.scale, self.shape, self.approximate = scale, x.shape, approximate
            self.gate, self.keep = gate, keep
            self.x = None if activation == "relu" else flat_x
        return out.reshape(x.shape)

    def backward(self, g):
        flat_g = np.ascontiguousarray(g).reshape(-1)
        grad = np.empty_like(flat_g)
        gate, keep, x, scale = self.gate, self.keep, self.x, self.scale

        def work(a, b):
            gs = grad[a:b]
            if x is None:                                  # ReLU: gate = [x > 0] ⊙ m
                np.multiply(flat_g[a:b], gate[a:b], out=gs)
            else:                                          # GELU: gate = Φ(x) or tanh u
                np.multiply(flat_g[a:b], _gelu_derivative(x[a:b], gate[a:b], self.approximate),
                            out=gs)
                if keep is not None:
                    gs *= keep[a:b]
            if keep is not None:
                gs *= scale

        for_each_chunk(in_cache_blocks(work), grad.size, MIN_SIZE)
        return grad.reshape(self.shape)


def activation_dropout(input, activation="relu", p=0.0, training=True, approximate="none"):
    """dropout(act(input), p, training) with act 'relu' or 'gelu', fused and multi-core."""
    if activation not in ("relu", "gelu"):
        raise ValueError(f"activation_dropout: activation must be 'relu' or 'gelu', got "
                         f"{activation!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"activation_dropout: dropout probability has to be between 0 and 1, "
                         f"but got {p}")
    if training and p == 1:
        return dropout(relu(input) if activation == "relu" else gelu(input, approximate), p)
    return ActivationDropout.apply(input, activation=activation, approximate=approximate,
                                   p=float(p) if training else 0.0)
