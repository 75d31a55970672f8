"""Deep Boltzmann machines (Salakhutdinov & Hinton 2009): several layers of binary units,
every pair of neighbouring layers connected by undirected weights, no connection inside a
layer — an RBM with more hidden layers, and unlike a DBN undirected all the way down.

Layers s⁰ = v (visible), s¹ = h¹, ..., s^L = h^L; weight W^l (n_l x n_(l-1)) joins
layer l-1 to layer l, bias b^l belongs to layer l:

    E(v, h¹, ..., h^L) = -Σ_l b^l·s^l - Σ_(l≥1) s^lᵀ W^l s^(l-1),     p = e^(-E) / Z

A layer's units depend only on its two neighbours, with input from below and from above:

    p(s^l_j = 1 | rest) = σ(b^l_j + W^l_j·s^(l-1) + W^(l+1)_:jᵀ s^(l+1))

so the odd layers are independent given the even ones and vice versa: block Gibbs
sampling alternates the two halves. The posterior p(h | v) no longer factorizes (h¹ hears
h² as well as v), so the positive phase uses **mean-field** inference: the factorized
q(h) = Π μ_j^h_j (1 - μ_j)^(1-h_j) that maximizes the variational lower bound

    log p(v) ≥ E_q[-E(v, h)] + H(q) - log Z
             = Σ_l b^l·μ^l + Σ_l μ^lᵀ W^l μ^(l-1) - Σ_j [μ_j log μ_j + (1-μ_j) log(1-μ_j)] - log Z

(μ⁰ = v), found by the fixed-point updates μ^l = σ(b^l + W^l μ^(l-1) + W^(l+1)ᵀ μ^(l+1)),
odd layers then even ones — each block update maximizes the bound exactly, so it never
decreases. Learning follows the likelihood gradient with the data expectation taken under q
and the model expectation estimated by persistent Gibbs chains (PCD):

    ∂/∂W^l ≈ E_data,q[μ^l μ^(l-1)ᵀ] - E_chains[s^l s^(l-1)ᵀ],   ∂/∂b^l ≈ E_data,q[μ^l] - E_chains[s^l]

Pre-training (``pretrain``) is Salakhutdinov & Hinton's greedy stack of RBMs with doubled
inputs: every hidden layer of a DBM listens to two neighbours, so each RBM of the stack
counts twice the input that it alone will provide in the DBM — the bottom RBM computes
p(h¹ | v) = σ(2W¹v + b¹), the top one p(h^(L-1) | h^L) = σ(2W^Lᵀh^L + b^(L-1)), the middle
ones both — and the learnt weights are then used unchanged.

For models small enough, ``log_partition`` and ``log_likelihood`` enumerate the even layers
and sum the odd ones out analytically (Σ_(s odd) e^(-E) = e^(even terms) Π_j (1 + e^(input_j))).
"""
import itertools

import numpy as np
from scipy.special import expit, logsumexp

from .. import nn, optim
from ..autograd.factories import get_default_dtype, tensor
from ..autograd.random import get_rng
from ..autograd.tensor import Tensor
from .rbm import softplus

__all__ = ["DBM"]

MAX_ENUMERATED_STATES = 2 ** 22


def binary_entropy(mu):
    """-[μ log μ + (1-μ) log(1-μ)] summed over units, per row (0 log 0 = 0)."""
    mu = np.clip(mu, 1e-12, 1 - 1e-12)
    return -(mu * np.log(mu) + (1 - mu) * np.log1p(-mu)).sum(axis=1)


class DBM(nn.Module):
    """Deep Boltzmann machine with binary units in layers ``sizes = (visible, h¹, ..., h^L)``
    (module docstring). Parameters: ``weight_l`` (sizes[l], sizes[l-1]) for l = 1..L, the
    layout of ``nn.Linear(sizes[l-1], sizes[l])``, and ``bias_l`` (sizes[l]) for l = 0..L.
    """

    def __init__(self, sizes=(784, 500, 1000), weight_std=0.01, dtype=None):
        super().__init__()
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 3 or min(sizes) < 1:
            raise ValueError(f"DBM: needs a visible and at least two hidden layers of positive "
                             f"size (one hidden layer is an RBM), got sizes {sizes}")
        self.sizes = sizes
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        rng = get_rng()
        for l in range(1, len(sizes)):
            setattr(self, f"weight_{l}", nn.Parameter(
                (rng.standard_normal((sizes[l], sizes[l - 1])) * weight_std).astype(dtype)))
        for l in range(len(sizes)):
            setattr(self, f"bias_{l}", nn.Parameter(np.zeros(sizes[l], dtype)))
        self.chains = None  # the persistent chains' states, one array per layer

    # ------------------------------------------------------------------ structure
    @property
    def depth(self):
        """L, the number of hidden layers."""
        return len(self.sizes) - 1

    def weight(self, l):
        """W^l (n_l x n_(l-1)) as an ndarray, l = 1..L."""
        return getattr(self, f"weight_{l}").data

    def bias(self, l):
        return getattr(self, f"bias_{l}").data

    @property
    def dtype(self):
        return self.bias(0).dtype

    def check_visible(self, v):
        """``v`` as a (N, sizes[0]) ndarray in [0, 1]; images are flattened."""
        v = v.data if isinstance(v, Tensor) else np.asarray(v)
        if v.ndim > 2:
            v = v.reshape(v.shape[0], -1)
        if v.ndim == 1:
            v = v[None]
        if v.shape[1] != self.sizes[0]:
            raise ValueError(f"DBM: expected {self.sizes[0]} visible values per sample, got input "
                             f"of shape {v.shape}")
        if v.size and (v.min() < 0 or v.max() > 1):
            raise ValueError(f"DBM: binary visible units need inputs in [0, 1] (probabilities "
                             f"or binary pixels), got values in [{v.min():g}, {v.max():g}]")
        return v.astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ conditionals
    def layer_input(self, l, states):
        """b^l + W^l s^(l-1) + W^(l+1)ᵀ s^(l+1): the total input of layer l's units."""
        total = self.bias(l)
        if l > 0:
            total = total + states[l - 1] @ self.weight(l).T
        if l < self.depth:
            total = total + states[l + 1] @ self.weight(l + 1)
        return total

    def conditional(self, l, states):
        """p(s^l = 1 | its neighbours) = σ(layer_input)."""
        return expit(self.layer_input(l, states))

    def gibbs_step(self, states, rng=None):
        """One sweep of block Gibbs sampling: all odd layers, then all even layers (v too)."""
        rng = get_rng() if rng is None else rng
        states = list(states)
        for parity in (1, 0):
            for l in range(parity, self.depth + 1, 2):
                p = self.conditional(l, states)
                states[l] = (rng.random(p.shape) < p).astype(self.dtype)
        return states

    def energy(self, states):
        """E(v, h¹, ..., h^L) per sample for binary (or mean-field) states, one array per layer."""
        e = -sum(states[l] @ self.bias(l) for l in range(self.depth + 1))
        for l in range(1, self.depth + 1):
            e = e - np.einsum("ni,ji,nj->n", states[l - 1], self.weight(l), states[l])
        return e

    # ------------------------------------------------------------------ inference
    def bottom_up(self, v):
        """The doubled-weight bottom-up pass that starts mean-field inference: μ^l =
        σ(b^l + 2W^l μ^(l-1)) below the top (each such layer will also hear from above),
        σ(b^L + W^L μ^(L-1)) at the top. Returns [v, μ¹, ..., μ^L]."""
        states = [self.check_visible(v)]
        for l in range(1, self.depth + 1):
            scale = 2.0 if l < self.depth else 1.0
            states.append(expit(self.bias(l) + scale * (states[-1] @ self.weight(l).T)))
        return states

    def mean_field(self, v, steps=10, tolerance=None):
        """q(h | v): [v, μ¹, ..., μ^L] after ``steps`` fixed-point sweeps (odd then even
        hidden layers), stopping early when no μ moves more than ``tolerance``."""
        states = self.bottom_up(v)
        for _ in range(steps):
            change = 0.0
            for parity in (1, 0):
                for l in range(parity or 2, self.depth + 1, 2):     # hidden layers only
                    new = self.conditional(l, states)
                    change = max(change, float(np.abs(new - states[l]).max(initial=0.0)))
                    states[l] = new
            if tolerance is not None and change < tolerance:
                break
        return states

    def variational_bound(self, v, steps=10, states=None):
        """E_q[-E(v, h)] + H(q) per sample: log p(v) + log Z minus KL(q ‖ p(h|v)) ≥ 0."""
        states = self.mean_field(v, steps) if states is None else states
        entropy = sum(binary_entropy(mu) for mu in states[1:])
        return -self.energy(states) + entropy

    def transform(self, v, steps=10, layers=None):
        """Features: the mean-field μ of the top hidden layer (or of ``layers``, a list of
        hidden-layer indices, concatenated)."""
        states = self.mean_field(v, steps)
        layers = [self.depth] if layers is None else layers
        return np.concatenate([states[l] for l in layers], axis=1)

    def forward(self, v):
        return tensor(self.transform(v))

    # ------------------------------------------------------------------ learning
    def statistics(self, states):
        """E[s^l s^(l-1)ᵀ] and E[s^l] over the rows: one phase of the gradient, by name."""
        n = len(states[0])
        stats = {f"bias_{l}": states[l].mean(axis=0) for l in range(self.depth + 1)}
        for l in range(1, self.depth + 1):
            stats[f"weight_{l}"] = states[l].T @ states[l - 1] / n
        return stats

    def init_chains(self, n, rng=None, v=None):
        """n persistent chains, started from ``v`` (sampled bottom-up) or from random bits."""
        rng = get_rng() if rng is None else rng
        if v is None:
            v = (rng.random((n, self.sizes[0])) < 0.5).astype(self.dtype)
        mus = self.bottom_up(v[:n])
        self.chains = [mus[0]] + [(rng.random(m.shape) < m).astype(self.dtype) for m in mus[1:]]
        return self.chains

    def persistent_cd(self, v, k=1, mean_field_steps=10, n_chains=None, rng=None):
        """Set ``.grad`` of every parameter to -(data term - model term) (module docstring):
        the data term under mean-field q(h | v), the model term from k Gibbs sweeps of the
        persistent chains (created at the first call: ``n_chains``, default len(v), started
        from the batch). Returns the chains' states."""
        if k < 1:
            raise ValueError(f"DBM: k (Gibbs sweeps per update) must be >= 1, got {k}")
        rng = get_rng() if rng is None else rng
        v = self.check_visible(v)
        positive = self.statistics(self.mean_field(v, mean_field_steps))
        if self.chains is None:
            n_chains = n_chains or len(v)
            self.init_chains(n_chains, rng, v if len(v) >= n_chains else None)
        for _ in range(k):
            self.chains = self.gibbs_step(self.chains, rng)
        negative = self.statistics(self.chains)
        for name, param in self.named_parameters():
            param.grad = tensor((negative[name] - positive[name]).astype(param.data.dtype))
        return self.chains

    def reset_chains(self):
        self.chains = None

    def pretrain_layer(self, l, x, epochs=1, lr=0.05, k=1, batch_size=64, momentum=0.5, seed=0,
                       on_batch=None):
        """CD-k for the RBM of the stack that joins layer l-1 (data ``x``) to layer l, with
        doubled inputs (module docstring). Trains W^l and b^l (and b⁰ when l = 1). Returns the
        per-epoch logs (reconstruction error on up to 2,000 rows of x)."""
        up = 2.0 if l < self.depth else 1.0          # layer l will also hear from above
        down = 2.0 if l > 1 else 1.0                 # layer l-1 will also hear from below
        params = [getattr(self, f"weight_{l}"), getattr(self, f"bias_{l}")]
        if l == 1:
            params.append(self.bias_0)
        optimizer = optim.SGD(params, lr=lr, momentum=momentum)
        w, c, b = self.weight(l), self.bias(l), self.bias(l - 1)
        rng = np.random.default_rng([seed, l])
        history = []
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            for number, start in enumerate(range(0, len(x), batch_size)):
                batch = x[order[start:start + batch_size]]
                p_h = expit(c + up * (batch @ w.T))
                h = (rng.random(p_h.shape) < p_h).astype(self.dtype)
                for _ in range(k):
                    p_v = expit(b + down * (h @ w))
                    v_neg = (rng.random(p_v.shape) < p_v).astype(self.dtype)
                    p_h_neg = expit(c + up * (v_neg @ w.T))
                    h = (rng.random(p_h_neg.shape) < p_h_neg).astype(self.dtype)
                n = len(batch)
                grads = [(p_h_neg.T @ v_neg - p_h.T @ batch) / n,
                         p_h_neg.mean(axis=0) - p_h.mean(axis=0)]
                if l == 1:
                    grads.append(v_neg.mean(axis=0) - batch.mean(axis=0))
                for param, grad in zip(params, grads):
                    param.grad = tensor(grad.astype(self.dtype))
                optimizer.step()
                if on_batch is not None:
                    on_batch(number, float(np.mean((batch - p_v) ** 2)))
            sample = x[:2000]
            recon = expit(b + down * (expit(c + up * (sample @ w.T)) @ w))
            history.append({"layer": l, "epoch": epoch + 1,
                            "reconstruction_error": float(np.mean((sample - recon) ** 2))})
        return history

    def pretrain_features(self, x, l):
        """The data of RBM l + 1 in the stack: p(h^l | h^(l-1)) = σ(b^l + 2W^l x) below the top."""
        return expit(self.bias(l) + (2.0 if l < self.depth else 1.0) * (x @ self.weight(l).T))

    def pretrain(self, data, epochs=1, **options):
        """Greedy layer-wise pre-training with doubled inputs, bottom up (``pretrain_layer``
        for each l; options: lr, k, batch_size, momentum, seed). Returns all epochs' logs."""
        x = self.check_visible(data)
        history = []
        for l in range(1, self.depth + 1):
            history += self.pretrain_layer(l, x, epochs, **options)
            x = self.pretrain_features(x, l)
        self.reset_chains()
        return history

    def reconstruction_error(self, v, steps=10):
        """Mean squared error per value between v and E[v | h¹ = μ¹] after mean-field."""
        v = self.check_visible(v)
        states = self.mean_field(v, steps)
        return float(np.mean((v - expit(self.bias(0) + states[1] @ self.weight(1))) ** 2))

    # ------------------------------------------------------------------ sampling
    def sample(self, n, k=1000, generator=None):
        """E[v | h¹] after k Gibbs sweeps of n fresh chains from random states: (n, sizes[0])."""
        rng = get_rng() if generator is None else generator
        states = [(rng.random((n, s)) < 0.5).astype(self.dtype) for s in self.sizes]
        for _ in range(k):
            states = self.gibbs_step(states, rng)
        return self.conditional(0, states)

    # ------------------------------------------------------------------ exact, small models
    def _even_odd_states(self, fixed_visible=None):
        """Every joint configuration of the even layers (v included unless fixed)."""
        even = [l for l in range(0, self.depth + 1, 2) if not (l == 0 and fixed_visible is not None)]
        count = 2 ** sum(self.sizes[l] for l in even)
        if count > MAX_ENUMERATED_STATES:
            raise ValueError(f"DBM: exact enumeration needs {count:,} states of the even layers "
                             f"(limit {MAX_ENUMERATED_STATES:,}); use a smaller model")
        bits = np.array(list(itertools.product([0.0, 1.0], repeat=sum(self.sizes[l] for l in even))),
                        dtype=np.float64).reshape(count, -1)
        return even, bits

    def _log_sum_odd(self, states):
        """log Σ_(odd layers) e^(-E) for given even layers: even-only terms + Σ softplus."""
        total = sum(states[l] @ self.bias(l).astype(np.float64)
                    for l in range(0, self.depth + 1, 2))
        for l in range(1, self.depth + 1, 2):
            total = total + softplus(self.layer_input(l, states)).sum(axis=1)
        return total

    def _unnormalized_log_marginal(self, v):
        """log Σ_h e^(-E(v, h)) for each row of v, by enumeration."""
        even, bits = self._even_odd_states(fixed_visible=v)
        out = np.empty(len(v))
        for i, row in enumerate(v):
            states = [None] * (self.depth + 1)
            states[0] = np.repeat(row[None].astype(np.float64), len(bits), axis=0)
            offset = 0
            for l in even:
                states[l] = bits[:, offset:offset + self.sizes[l]]
                offset += self.sizes[l]
            for l in range(1, self.depth + 1, 2):
                states[l] = np.zeros((len(bits), self.sizes[l]))
            out[i] = logsumexp(self._log_sum_odd(states))
        return out

    def log_partition(self):
        """log Z, exactly, by enumerating the even layers (small models only)."""
        even, bits = self._even_odd_states()
        states = [None] * (self.depth + 1)
        offset = 0
        for l in even:
            states[l] = bits[:, offset:offset + self.sizes[l]]
            offset += self.sizes[l]
        for l in range(1, self.depth + 1, 2):
            states[l] = np.zeros((len(bits), self.sizes[l]))
        return float(logsumexp(self._log_sum_odd(states)))

    def log_likelihood(self, v, log_z=None):
        """log p(v) per sample, exactly (small models only)."""
        v = self.check_visible(v).astype(np.float64)
        log_z = self.log_partition() if log_z is None else log_z
        return self._unnormalized_log_marginal(v) - log_z

    def config(self):
        return {"sizes": list(self.sizes)}

    def extra_repr(self):
        return f"sizes={self.sizes}"
