"""``BernoulliRBM``: a scikit-learn-compatible estimator on top of ``layerwise.models.RBM``.

Same parameter names, defaults, attributes and methods as
``sklearn.neural_network.BernoulliRBM``, so it stands in a scikit-learn ``Pipeline``
(e.g. RBM features -> LogisticRegression), works with ``clone``, ``get_params`` and
grid search. Training is scikit-learn's: persistent contrastive divergence with one
Gibbs step (stochastic maximum likelihood), plain SGD with step ``learning_rate`` on
the batch-mean gradient, batches taken in order (no shuffling), weights initialized
from N(0, 0.01²), biases zero; here the gradient is filled by
``RBM.contrastive_divergence(persistent=True)`` and the step made by ``optim.SGD``.

scikit-learn is optional: without it the estimator inherits from small stand-ins that
provide ``get_params``, ``set_params`` and ``fit_transform``.
"""
import inspect

import numpy as np

from .. import optim
from .rbm import RBM

try:  # scikit-learn present: be a real estimator (Pipeline, clone, grid search)
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    class NotFittedError(ValueError, AttributeError):
        pass

    class BaseEstimator:
        """Minimal ``get_params`` / ``set_params`` (scikit-learn's protocol)."""

        @classmethod
        def _get_param_names(cls):
            signature = inspect.signature(cls.__init__)
            return sorted(p.name for p in signature.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator "
                                     f"{type(self).__name__}; valid parameters: {valid}")
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class TransformerMixin:
        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)

__all__ = ["BernoulliRBM"]


class BernoulliRBM(TransformerMixin, BaseEstimator):
    """Bernoulli restricted Boltzmann machine trained by persistent CD (scikit-learn's API).

    Parameters: ``n_components`` (hidden units, 256), ``learning_rate`` (0.1),
    ``batch_size`` (10), ``n_iter`` (passes over the data, 10), ``verbose`` (0),
    ``random_state`` (None, an int, or a ``numpy.random.Generator``).
    Attributes after ``fit``: ``components_`` (n_components, n_features),
    ``intercept_hidden_``, ``intercept_visible_``, ``h_samples_`` (persistent chains'
    hidden samples), ``n_features_in_``, and ``rbm_`` (the layerwise ``RBM``).
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10,
                 verbose=0, random_state=None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _generator(self):
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        if isinstance(self.random_state, np.random.RandomState):
            return np.random.default_rng(self.random_state.randint(2 ** 31))
        return np.random.default_rng(self.random_state)

    def _validate(self, X, reset):
        if hasattr(X, "toarray"):
            X = X.toarray()
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"BernoulliRBM: expected a 2-D array (n_samples, n_features), got "
                             f"shape {X.shape}")
        if not reset and X.shape[1] != self.n_features_in_:
            raise ValueError(f"BernoulliRBM: X has {X.shape[1]} features, but BernoulliRBM is "
                             f"expecting {self.n_features_in_} features as input")
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"BernoulliRBM: Bernoulli visible units need values in [0, 1], got "
                             f"values in [{X.min():g}, {X.max():g}]; rescale (e.g. X / 255) or "
                             f"binarize the data first")
        return X

    def _check_fitted(self):
        if not hasattr(self, "rbm_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with appropriate arguments before using this estimator.")

    def _initialize(self, X):
        for name, value, low in (("n_components", self.n_components, 1),
                                 ("batch_size", self.batch_size, 1), ("n_iter", self.n_iter, 0)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"BernoulliRBM: {name} must be an int >= {low}, got {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"BernoulliRBM: learning_rate must be > 0, got {self.learning_rate}")
        self._rng = self._generator()
        self.n_features_in_ = X.shape[1]
        self.rbm_ = RBM(X.shape[1], self.n_components, dtype=X.dtype)
        self.rbm_.weight.data[...] = self._rng.normal(0, 0.01, self.rbm_.weight.shape)
        self._optimizer = optim.SGD(self.rbm_.parameters(), lr=self.learning_rate)

    def _fit_batch(self, batch):
        self.rbm_.contrastive_divergence(batch, k=1, persistent=True, rng=self._rng)
        self._optimizer.step()

    # ------------------------------------------------------------------ fitted attributes
    @property
    def components_(self):
        self._check_fitted()
        return self.rbm_.weight.data

    @property
    def intercept_hidden_(self):
        self._check_fitted()
        return self.rbm_.hidden_bias.data

    @property
    def intercept_visible_(self):
        self._check_fitted()
        return self.rbm_.visible_bias.data

    @property
    def h_samples_(self):
        self._check_fitted()
        chains = self.rbm_.chains
        if chains is None:
            return np.zeros((self.batch_size, self.n_components), self.rbm_.weight.data.dtype)
        return self.rbm_.sample_h(chains, self._rng)[1]

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Fit to X (n_samples, n_features) in [0, 1] for ``n_iter`` passes; returns self."""
        X = self._validate(X, reset=True)
        self._initialize(X)
        n_batches = int(np.ceil(len(X) / self.batch_size))
        bounds = np.linspace(0, len(X), n_batches + 1).astype(int)  # even slices, like sklearn
        for iteration in range(1, self.n_iter + 1):
            for start, stop in zip(bounds[:-1], bounds[1:]):
                self._fit_batch(X[start:stop])
            if self.verbose:
                print(f"[BernoulliRBM] Iteration {iteration}, pseudo-likelihood = "
                      f"{self.score_samples(X).mean():.2f}")
        return self

    def partial_fit(self, X, y=None):
        """One CD update on X as a single batch (initializes on the first call); returns self."""
        first = not hasattr(self, "rbm_")
        X = self._validate(X, reset=first)
        if first:
            self._initialize(X)
        self._fit_batch(X)
        return self

    def transform(self, X):
        """Latent features p(h = 1 | v) (n_samples, n_components)."""
        self._check_fitted()
        return self.rbm_.hidden_probabilities(self._validate(X, reset=False))

    def score_samples(self, X):
        """Pseudo-likelihood per sample: V · log σ(F(ṽ) - F(v)), ṽ one random bit flipped
        (not deterministic, as in scikit-learn)."""
        self._check_fitted()
        return self.rbm_.pseudo_likelihood(self._validate(X, reset=False), rng=self._generator())

    def gibbs(self, v):
        """One Gibbs step v -> h -> v: the sampled visible layer."""
        self._check_fitted()
        return self.rbm_.gibbs(self._validate(v, reset=False), 1, self._rng)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
