"""Restricted Boltzmann machines: two undirected, fully connected layers (visible v,
hidden h) with no connection inside a layer, used for feature extraction.

Energy, with weight W (hidden x visible), visible bias b, hidden bias c:

    Bernoulli visible:  E(v, h) = -bᵀv - cᵀh - hᵀWv,          v ∈ {0, 1}^V
    Gaussian visible:   E(v, h) = ½‖v - b‖² - cᵀh - hᵀWv,       v ∈ R^V (unit variance)

p(v, h) = e^(-E(v, h)) / Z. Summing h out gives the free energy, p(v) = e^(-F(v)) / Z:

    F(v) = -bᵀv - Σ_j softplus(c_j + W_j·v)      (Gaussian: ½‖v - b‖² - Σ_j softplus(...))

Both conditionals factorize: p(h_j = 1 | v) = σ(c_j + W_j·v); p(v_i = 1 | h) = σ(b_i + hᵀW_:i)
(Gaussian: v | h ~ N(b + Wᵀh, I)), so Gibbs sampling alternates whole layers.

Log-likelihood gradient (data: the training batch; model: samples of p):

    ∂ log p(v) / ∂W = E_data[p(h|v) vᵀ] - E_model[h vᵀ]       (positive - negative phase)
    ∂ / ∂b = E_data[v] - E_model[v],   ∂ / ∂c = E_data[p(h|v)] - E_model[p(h|v)]

The model expectation is intractable (Z sums over 2^(V+H) states); contrastive
divergence CD-k (Hinton 2002) estimates it from v_k, k Gibbs steps from the data;
persistent CD (Tieleman 2008) keeps its chains from one update to the next.
``contrastive_divergence`` fills each parameter's ``.grad`` with the *negative* estimate,
so any layerwise optimizer (which minimizes) steps the RBM up the likelihood.

Metrics: reconstruction error ‖v - E[v | p(h|v)]‖² and the pseudo-likelihood
log PL(v) = Σ_i log p(v_i | v_-i) = Σ_i log σ(F(v with bit i flipped) - F(v)), estimated
like scikit-learn with one random bit per sample, times V (or exactly, summing all bits).
"""
import numpy as np
from scipy.special import expit, log_expit

from .. import nn
from ..autograd.factories import get_default_dtype, tensor
from ..autograd.random import get_rng
from ..autograd.tensor import Tensor

__all__ = ["RBM", "softplus"]

VISIBLE_UNITS = ("bernoulli", "gaussian")


def softplus(x):
    """log(1 + eˣ) without overflow."""
    return np.logaddexp(0, x)


class RBM(nn.Module):
    """Restricted Boltzmann machine with Bernoulli hidden units and Bernoulli or Gaussian
    visible units (module docstring). Parameters ``weight`` (n_hidden, n_visible) — the
    layout of ``nn.Linear(n_visible, n_hidden)`` —, ``visible_bias``, ``hidden_bias``.
    """

    def __init__(self, n_visible, n_hidden, visible="bernoulli", weight_std=0.01, dtype=None):
        super().__init__()
        if visible not in VISIBLE_UNITS:
            raise ValueError(f"RBM: visible units must be one of {VISIBLE_UNITS}, got {visible!r}")
        self.n_visible, self.n_hidden, self.visible = int(n_visible), int(n_hidden), visible
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = nn.Parameter(
            (get_rng().standard_normal((self.n_hidden, self.n_visible)) * weight_std).astype(dtype))
        self.visible_bias = nn.Parameter(np.zeros(self.n_visible, dtype))
        self.hidden_bias = nn.Parameter(np.zeros(self.n_hidden, dtype))
        self.chains = None  # persistent CD's visible states (not saved: not a parameter)

    # ------------------------------------------------------------------ checks
    @property
    def name_in_errors(self):
        return f"RBM ({self.visible.capitalize()} visible units)"

    def check_visible(self, v):
        """``v`` as a (N, n_visible) ndarray of the RBM's dtype; images are flattened."""
        v = v.data if isinstance(v, Tensor) else np.asarray(v)
        if v.ndim > 2:
            v = v.reshape(v.shape[0], -1)
        if v.ndim == 1:
            v = v[None]
        if v.shape[1] != self.n_visible:
            raise ValueError(f"{self.name_in_errors}: expected {self.n_visible} visible values per "
                             f"sample, got input of shape {v.shape}")
        v = v.astype(self.weight.data.dtype, copy=False)
        if self.visible == "bernoulli" and v.size and (v.min() < 0 or v.max() > 1):
            raise ValueError(f"{self.name_in_errors}: inputs must lie in [0, 1] (probabilities "
                             f"or binary pixels), got values in [{v.min():g}, {v.max():g}]; "
                             f"rescale or binarize the images, or use visible='gaussian' for "
                             f"real-valued data")
        return v

    def _rng(self, rng):
        return get_rng() if rng is None else rng

    # ------------------------------------------------------------------ conditionals
    def hidden_preactivation(self, v):
        return v @ self.weight.data.T + self.hidden_bias.data

    def hidden_probabilities(self, v):
        """p(h_j = 1 | v) = σ(c_j + W_j·v), (N, n_hidden)."""
        return expit(self.hidden_preactivation(v))

    def visible_mean(self, h):
        """E[v | h]: σ(b + hᵀW) (Bernoulli) or b + hᵀW (Gaussian), (N, n_visible)."""
        pre = h @ self.weight.data + self.visible_bias.data
        return expit(pre) if self.visible == "bernoulli" else pre

    def sample_h(self, v, rng=None):
        """(p(h | v), a binary sample of it)."""
        p = self.hidden_probabilities(self.check_visible(v))
        return p, (self._rng(rng).random(p.shape) < p).astype(p.dtype)

    def sample_v(self, h, rng=None):
        """(E[v | h], a sample: binary for Bernoulli units, mean + N(0, 1) for Gaussian)."""
        mean = self.visible_mean(np.asarray(h, dtype=self.weight.data.dtype))
        rng = self._rng(rng)
        if self.visible == "bernoulli":
            return mean, (rng.random(mean.shape) < mean).astype(mean.dtype)
        return mean, mean + rng.standard_normal(mean.shape).astype(mean.dtype)

    def gibbs(self, v, k=1, rng=None):
        """The visible sample after k steps v -> h -> v of block Gibbs sampling."""
        v = self.check_visible(v)
        rng = self._rng(rng)
        for _ in range(k):
            _, h = self.sample_h(v, rng)
            _, v = self.sample_v(h, rng)
        return v

    # ------------------------------------------------------------------ energies
    def energy(self, v, h):
        """E(v, h) per sample (module docstring)."""
        v, h = self.check_visible(v), np.asarray(h, dtype=self.weight.data.dtype)
        interaction = np.einsum("nj,ji,ni->n", h, self.weight.data, v)
        hidden = h @ self.hidden_bias.data
        if self.visible == "bernoulli":
            return -(v @ self.visible_bias.data) - hidden - interaction
        return 0.5 * ((v - self.visible_bias.data) ** 2).sum(axis=1) - hidden - interaction

    def free_energy(self, v):
        """F(v) = -bᵀv - Σ_j softplus(c_j + W_j·v) (Gaussian: ½‖v - b‖² - Σ_j ...), per sample."""
        v = self.check_visible(v)
        hidden_term = softplus(self.hidden_preactivation(v)).sum(axis=1)
        if self.visible == "bernoulli":
            return -(v @ self.visible_bias.data) - hidden_term
        return 0.5 * ((v - self.visible_bias.data) ** 2).sum(axis=1) - hidden_term

    # ------------------------------------------------------------------ learning
    def phase_statistics(self, v):
        """E[p(h|v) vᵀ], E[v], E[p(h|v)] over the rows of v: one phase of the gradient."""
        v = self.check_visible(v)
        p = self.hidden_probabilities(v)
        n = v.shape[0]
        return {"weight": p.T @ v / n, "visible_bias": v.mean(axis=0),
                "hidden_bias": p.mean(axis=0)}

    def contrastive_divergence(self, v, k=1, persistent=False, rng=None):
        """CD-k (or persistent CD-k): set ``.grad`` of every parameter to
        -(positive phase - negative phase) (module docstring); returns the negative samples.

        CD-k starts its k Gibbs steps at the data; PCD continues its persistent chains
        (as many as the first batch had rows, started at that batch).
        """
        v = self.check_visible(v)
        if k < 1:
            raise ValueError(f"{self.name_in_errors}: k (Gibbs steps) must be >= 1, got {k}")
        positive = self.phase_statistics(v)
        if persistent:
            if self.chains is None or self.chains.shape[1] != self.n_visible:
                self.chains = v.copy()
            start = self.chains
        else:
            start = v
        negative_samples = self.gibbs(start, k, rng)
        if persistent:
            self.chains = negative_samples
        negative = self.phase_statistics(negative_samples)
        for name, param in (("weight", self.weight), ("visible_bias", self.visible_bias),
                            ("hidden_bias", self.hidden_bias)):
            grad = (negative[name] - positive[name]).astype(param.data.dtype)
            param.grad = tensor(grad)
        return negative_samples

    def reset_chains(self):
        self.chains = None

    # ------------------------------------------------------------------ metrics
    def reconstruction_error(self, v):
        """Mean over samples of ‖v - E[v | h = p(h|v)]‖² / V (mean squared error per value)."""
        v = self.check_visible(v)
        recon = self.visible_mean(self.hidden_probabilities(v))
        return float(np.mean((v - recon) ** 2))

    def pseudo_likelihood(self, v, rng=None, exact=False, chunk=64):
        """log PL(v) per sample (Bernoulli visible units only).

        exact=False: scikit-learn's estimate V · log σ(F(ṽ) - F(v)), ṽ = v with one random
        bit flipped; exact=True: Σ_i log σ(F(v with bit i flipped) - F(v)).
        """
        if self.visible != "bernoulli":
            raise ValueError(f"{self.name_in_errors}: the pseudo-likelihood is defined here for "
                             f"binary visible units; use reconstruction_error for Gaussian ones")
        v = self.check_visible(v)
        if not exact:
            rng = self._rng(rng)
            flipped = v.copy()
            rows, cols = np.arange(len(v)), rng.integers(0, self.n_visible, len(v))
            flipped[rows, cols] = 1 - flipped[rows, cols]
            return self.n_visible * log_expit(self.free_energy(flipped) - self.free_energy(v))
        out = np.empty(len(v))
        w, b = self.weight.data, self.visible_bias.data
        for start in range(0, len(v), chunk):
            part = v[start:start + chunk]
            pre = self.hidden_preactivation(part)                     # (n, H)
            delta = 1 - 2 * part                                      # +1 where 0 -> 1
            flipped_pre = pre[:, None, :] + delta[:, :, None] * w.T[None]   # (n, V, H)
            # F(ṽ_i) - F(v) = -b_i δ_i - Σ_j [softplus(pre_j + δ_i W_ji) - softplus(pre_j)]
            diff = -b * delta - (softplus(flipped_pre).sum(axis=2) -
                                 softplus(pre).sum(axis=1, keepdims=True))
            out[start:start + chunk] = log_expit(diff).sum(axis=1)
        return out

    # ------------------------------------------------------------------ use
    def forward(self, v):
        """The features p(h | v) as a Tensor (no gradient: RBMs learn by CD)."""
        return tensor(self.hidden_probabilities(self.check_visible(v)))

    def transform(self, v):
        return self.hidden_probabilities(self.check_visible(v))

    def sample(self, n, k=1000, generator=None, start=None):
        """E[v | h] after k Gibbs steps from random visible states (or ``start``): (n, V)."""
        rng = self._rng(generator)
        if start is None:
            start = (rng.random((n, self.n_visible)) < 0.5).astype(self.weight.data.dtype) \
                if self.visible == "bernoulli" else \
                rng.standard_normal((n, self.n_visible)).astype(self.weight.data.dtype)
        v = self.gibbs(start, max(k - 1, 0), rng) if k > 1 else self.check_visible(start)
        _, h = self.sample_h(v, rng)
        return self.visible_mean(h)

    def config(self):
        return {"n_visible": self.n_visible, "n_hidden": self.n_hidden, "visible": self.visible}

    def extra_repr(self):
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, visible={self.visible!r}"
