"""The variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes").

The encoder gives, for an image x, a Gaussian q(z|x) = N(μ(x), diag σ²(x)) over the
latent code (it outputs μ and log σ²); the decoder gives pixel probabilities
p(x|z) = Π_i Bernoulli(x_i; σ(logits_i(z))); the prior is p(z) = N(0, I).

Training maximizes the evidence lower bound, for each image

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) ‖ p(z))  ≤  log p(x),

i.e. minimizes  -ELBO = reconstruction + KL, both reported separately (nats per image):

    reconstruction = -log p(x|z) = Σ_i BCE(x_i, σ(logits_i(z))),   one z per image,
    KL = -½ Σ_j (1 + log σ_j² - μ_j² - σ_j²)                        (closed form).

The reparameterization trick makes the sample differentiable in μ and σ:
z = μ + σ ⊙ ε, ε ~ N(0, I). New images come from the prior: decode(z), z ~ N(0, I);
``interpolate`` decodes the straight line between two images' means.
"""
import math

import numpy as np

from .. import nn
from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..autograd.random import get_rng
from ..autograd.tensor import Tensor
from .autoencoder import _mlp, check_images

__all__ = ["VAE", "gaussian_kl"]


def gaussian_kl(mu, logvar):
    """KL(N(μ, diag e^logvar) ‖ N(0, I)) per sample: -½ Σ_j (1 + logvar_j - μ_j² - e^logvar_j)."""
    return ((mu * mu + logvar.exp() - logvar - 1) * 0.5).sum(dim=1)


class VAE(nn.Module):
    """Dense VAE: pixels -> hidden (ReLU) -> (μ, log σ²) -> z -> hidden (ReLU) -> pixel logits.

    ``encode(x) -> (mu, logvar)``, ``reparameterize(mu, logvar, eps)``, ``decode(z)``
    (probabilities), ``forward(x, eps=None) -> (logits, mu, logvar)``, ``losses(x, eps)``
    (loss = -ELBO, reconstruction, kl, elbo), ``sample(n)``, ``interpolate(x0, x1, steps)``.
    """

    def __init__(self, image_shape=(1, 28, 28), hidden=(512,), latent_dim=2):
        super().__init__()
        self.image_shape, self.hidden = tuple(image_shape), tuple(hidden)
        self.latent_dim = int(latent_dim)
        if self.latent_dim < 1:
            raise ValueError(f"VAE: latent_dim must be positive, got {latent_dim}")
        pixels = math.prod(self.image_shape)
        width = self.hidden[-1] if self.hidden else pixels
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp((pixels,) + self.hidden), nn.ReLU()) \
            if self.hidden else nn.Sequential(nn.Flatten())
        self.fc_mu = nn.Linear(width, self.latent_dim)
        self.fc_logvar = nn.Linear(width, self.latent_dim)
        self.decoder = nn.Sequential(*_mlp((self.latent_dim,) + self.hidden[::-1] + (pixels,)),
                                     nn.Unflatten(1, self.image_shape))

    # ------------------------------------------------------------------ parts
    def encode(self, x):
        h = self.encoder(check_images("VAE", x, self.image_shape))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar, eps=None):
        """z = μ + e^(½ logvar) ⊙ ε with ε ~ N(0, I) (or the given ``eps``)."""
        if eps is None:
            eps = get_rng().standard_normal(mu.shape).astype(mu.data.dtype)
        eps = eps if isinstance(eps, Tensor) else tensor(np.asarray(eps, mu.data.dtype))
        if tuple(eps.shape) != tuple(mu.shape):
            raise ValueError(f"VAE: eps must have the latent shape {tuple(mu.shape)}, got "
                             f"{tuple(eps.shape)}")
        return mu + (logvar * 0.5).exp() * eps

    def check_latent(self, z):
        if not isinstance(z, Tensor):
            z = tensor(np.asarray(z, dtype=np.float32))
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"VAE: latent codes must have shape (N, {self.latent_dim}) (this "
                             f"model's latent_dim is {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def decode_logits(self, z):
        return self.decoder(self.check_latent(z))

    def decode(self, z):
        """Pixel probabilities (the mean of p(x|z)), in [0, 1]."""
        return nn.functional.sigmoid(self.decode_logits(z))

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar, eps)), mu, logvar

    # ------------------------------------------------------------------ loss
    def losses(self, x, eps=None):
        """{'loss': -ELBO, 'reconstruction', 'kl' (tensors, nats per image, batch mean)}."""
        x = check_images("VAE", x, self.image_shape)
        logits, mu, logvar = self(x, eps)
        n = x.shape[0]
        recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = gaussian_kl(mu, logvar).sum() / n
        return {"loss": recon + kl, "reconstruction": recon, "kl": kl}

    @no_grad()
    def elbo(self, images, batch_size=500, seed=0):
        """Mean ELBO terms over ``images`` (one z per image from a seeded ε): a dict of floats
        ``elbo`` (= -(reconstruction + kl)), ``reconstruction``, ``kl``."""
        was_training = self.training
        self.eval()
        rng = np.random.default_rng(seed)
        totals = {"reconstruction": 0.0, "kl": 0.0}
        for start in range(0, len(images), batch_size):
            x = np.asarray(images[start:start + batch_size], dtype=np.float32)
            eps = rng.standard_normal((len(x), self.latent_dim)).astype(np.float32)
            terms = self.losses(tensor(x), eps)
            for key in totals:
                totals[key] += terms[key].item() * len(x)
        self.train(was_training)
        out = {k: v / len(images) for k, v in totals.items()}
        out["elbo"] = -(out["reconstruction"] + out["kl"])
        return out

    # ------------------------------------------------------------------ generation
    @no_grad()
    def sample(self, n, generator=None):
        """n images decoded from z ~ N(0, I): (n, C, H, W) in [0, 1]."""
        rng = generator or get_rng()
        z = rng.standard_normal((n, self.latent_dim)).astype(np.float32)
        return self.decode(tensor(z)).data

    @no_grad()
    def interpolate(self, x0, x1, steps=8):
        """Images decoded along μ(x0) + t (μ(x1) - μ(x0)), t = 0..1: (steps, C, H, W)."""
        pair = np.stack([np.asarray(x0, np.float32), np.asarray(x1, np.float32)])
        mu, _ = self.encode(tensor(pair))
        t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
        z = mu.data[0] + t * (mu.data[1] - mu.data[0])
        return self.decode(tensor(z)).data

    def config(self):
        return {"image_shape": list(self.image_shape), "hidden": list(self.hidden),
                "latent_dim": self.latent_dim}
