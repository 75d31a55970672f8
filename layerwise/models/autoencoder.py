"""Autoencoders: networks that learn h(x) ≈ x through a smaller code, "mainly used for
dimensionality reduction".

An encoder f maps an image x to a code z = f(x) with fewer numbers than pixels; a
decoder g maps the code back, x̂ = g(z) = σ(logits). Training minimizes the
reconstruction error per image, summed over its pixels and averaged over the batch:

    'bce':  Σ_i -[x_i log x̂_i + (1 - x_i) log(1 - x̂_i)]      (pixels read as probabilities)
    'mse':  Σ_i (x_i - x̂_i)²

Variants (each a class here, the variational one in ``vae.py``):

- ``Autoencoder``: dense, undercomplete (784 -> 256 -> code -> 256 -> 784).
- ``ConvAutoencoder``: strided convolutions down (28 -> 14 -> 7), transposed
  convolutions up (7 -> 14 -> 28).
- ``DenoisingAutoencoder``: reconstructs the clean x from a corrupted x̃ (the noise
  types of ``layerwise.data.transforms``: Gaussian noise, salt and pepper; or masking).
- ``SparseAutoencoder``: sigmoid code units pushed to be rarely active, the UFLDL
  formulation: with ρ̂_j = (1/m) Σ_x a_j(x) the mean activation of unit j over the batch,

      J = reconstruction + β Σ_j KL(ρ ‖ ρ̂_j),
      KL(ρ ‖ ρ̂_j) = ρ log(ρ / ρ̂_j) + (1 - ρ) log((1 - ρ) / (1 - ρ̂_j)).

Every model has ``encode(x)``, ``decode(z)`` (images in [0, 1]), ``forward(x)`` (the
reconstruction) and ``losses(x)``: a dict with the ``loss`` to minimize and its terms.
"""
import math

import numpy as np

from .. import nn
from ..autograd.factories import tensor
from ..autograd.tensor import Tensor
from ..data import transforms

__all__ = ["Autoencoder", "ConvAutoencoder", "DenoisingAutoencoder", "SparseAutoencoder",
           "reconstruction_loss", "sparsity_penalty", "check_images"]


def check_images(model, x, image_shape):
    """``x`` as a Tensor of shape (N, *image_shape) (a flat (N, C·H·W) batch is reshaped)."""
    if not isinstance(x, Tensor):
        x = tensor(np.asarray(x, dtype=np.float32))
    shape = tuple(x.shape)
    pixels = math.prod(image_shape)
    if len(shape) == 2 and shape[1] == pixels:
        return x.reshape(shape[0], *image_shape)
    if shape[1:] != tuple(image_shape):
        raise ValueError(f"{model}: expected images of shape (N, {', '.join(map(str, image_shape))})"
                         f" or (N, {pixels}), got {shape}")
    return x


def reconstruction_loss(logits, x, kind="bce"):
    """Reconstruction error per image (summed over pixels), averaged over the batch."""
    n = x.shape[0]
    if kind == "bce":
        return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    if kind == "mse":
        return nn.functional.mse_loss(nn.functional.sigmoid(logits), x, reduction="sum") / n
    raise ValueError(f"unknown reconstruction loss {kind!r}; choose 'bce' or 'mse'")


def sparsity_penalty(activations, target=0.05, weight=3.0, eps=1e-6):
    """β Σ_j KL(ρ ‖ ρ̂_j) with ρ̂_j the mean of activations[:, j] over the batch (UFLDL).

    ``activations`` in (0, 1) (sigmoid units), shape (N, units); ρ = ``target``, β = ``weight``.
    """
    rho_hat = activations.mean(dim=0).clamp(eps, 1 - eps)
    rho = float(target)
    kl = rho * (math.log(rho) - rho_hat.log()) + \
        (1 - rho) * (math.log(1 - rho) - (1 - rho_hat).log())
    return kl.sum() * weight


def _mlp(sizes, last_activation=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if last_activation is not None:
        layers.append(last_activation)
    return layers


class Autoencoder(nn.Module):
    """Dense undercomplete autoencoder: pixels -> hidden... -> code -> ...hidden -> pixels.

    The decoder's last layer gives logits; ``decode`` applies the sigmoid.
    """

    name_in_errors = "Autoencoder"

    def __init__(self, image_shape=(1, 28, 28), hidden=(256,), code_dim=32, reconstruction="bce",
                 code_activation=None):
        super().__init__()
        self.image_shape, self.code_dim = tuple(image_shape), int(code_dim)
        self.hidden, self.reconstruction = tuple(hidden), reconstruction
        pixels = math.prod(self.image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp((pixels,) + self.hidden + (code_dim,),
                                                         code_activation))
        self.decoder = nn.Sequential(*_mlp((code_dim,) + self.hidden[::-1] + (pixels,)),
                                     nn.Unflatten(1, self.image_shape))

    def encode(self, x):
        return self.encoder(check_images(self.name_in_errors, x, self.image_shape))

    def _check_code(self, z):
        if not isinstance(z, Tensor):
            z = tensor(np.asarray(z, dtype=np.float32))
        if z.ndim != 2 or z.shape[1] != self.code_dim:
            raise ValueError(f"{self.name_in_errors}: codes must have shape (N, {self.code_dim}) "
                             f"(code size of this model), got {tuple(z.shape)}")
        return z

    def decode_logits(self, z):
        return self.decoder(self._check_code(z))

    def decode(self, z):
        return nn.functional.sigmoid(self.decode_logits(z))

    def forward(self, x):
        return self.decode(self.encode(x))

    def corrupt(self, x):
        """The input the encoder sees in training (the clean x here; noisy for denoising)."""
        return x

    def losses(self, x):
        x = check_images(self.name_in_errors, x, self.image_shape)
        logits = self.decode_logits(self.encode(self.corrupt(x) if self.training else x))
        recon = reconstruction_loss(logits, x, self.reconstruction)
        return {"loss": recon, "reconstruction": recon}

    def config(self):
        return {"image_shape": list(self.image_shape), "hidden": list(self.hidden),
                "code_dim": self.code_dim, "reconstruction": self.reconstruction}


class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder for H x W images with H, W divisible by 4:

    conv 3x3/2 (C1) -> ReLU -> conv 3x3/2 (C2) -> ReLU -> flatten -> Linear(code)
    Linear -> ReLU -> (C2, H/4, W/4) -> convT 3x3/2 (C1) -> ReLU -> convT 3x3/2 (channels)
    e.g. 1x28x28 -> 16x14x14 -> 32x7x7 -> code -> 32x7x7 -> 16x14x14 -> 1x28x28.
    """

    name_in_errors = "ConvAutoencoder"

    def __init__(self, image_shape=(1, 28, 28), channels=(16, 32), code_dim=32,
                 reconstruction="bce"):
        nn.Module.__init__(self)
        c, h, w = self.image_shape = tuple(image_shape)
        if h % 4 or w % 4:
            raise ValueError(f"ConvAutoencoder: image height and width must be divisible by 4, "
                             f"got {self.image_shape}")
        self.channels, self.code_dim, self.reconstruction = tuple(channels), int(code_dim), \
            reconstruction
        self.hidden = ()
        c1, c2 = self.channels
        small = (c2, h // 4, w // 4)
        self.encoder = nn.Sequential(
            nn.Conv2d(c, c1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(math.prod(small), code_dim))
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, math.prod(small)), nn.ReLU(), nn.Unflatten(1, small),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, c, 3, stride=2, padding=1, output_padding=1))

    def config(self):
        return {"image_shape": list(self.image_shape), "channels": list(self.channels),
                "code_dim": self.code_dim, "reconstruction": self.reconstruction}


NOISE_TYPES = ("gaussian", "saltpepper", "masking")


class DenoisingAutoencoder(Autoencoder):
    """Dense autoencoder trained to undo corruption: minimize loss(g(f(x̃)), x).

    noise: 'gaussian' (x + N(0, level²), clipped to [0, 1]: ``transforms.GaussianNoise``),
    'saltpepper' (a fraction ``level`` of pixels set to 0 or 1: ``transforms.SaltAndPepper``)
    or 'masking' (a fraction ``level`` of pixels set to 0).
    """

    name_in_errors = "DenoisingAutoencoder"

    def __init__(self, image_shape=(1, 28, 28), hidden=(256,), code_dim=32, reconstruction="bce",
                 noise="gaussian", noise_level=0.3):
        super().__init__(image_shape, hidden, code_dim, reconstruction)
        if noise not in NOISE_TYPES:
            raise ValueError(f"DenoisingAutoencoder: unknown noise {noise!r}; choose from "
                             f"{', '.join(NOISE_TYPES)}")
        self.noise, self.noise_level = noise, float(noise_level)

    def corrupt(self, x, rng=None):
        data = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
        if self.noise == "gaussian":
            noisy = transforms.GaussianNoise(self.noise_level, clip=(0.0, 1.0))(data, rng)
        elif self.noise == "saltpepper":
            noisy = transforms.SaltAndPepper(self.noise_level)(data, rng)
        else:
            keep = transforms._rng(rng).random(data.shape) >= self.noise_level
            noisy = data * keep
        return tensor(noisy.astype(data.dtype, copy=False))

    def config(self):
        return dict(super().config(), noise=self.noise, noise_level=self.noise_level)


class SparseAutoencoder(Autoencoder):
    """Sigmoid code units with the UFLDL sparsity penalty β Σ_j KL(ρ ‖ ρ̂_j) (module docstring).

    Defaults: ρ = 0.05, β = 3, as in the UFLDL tutorial; weight decay (its λ) is the
    optimizer's ``weight_decay``.
    """

    name_in_errors = "SparseAutoencoder"

    def __init__(self, image_shape=(1, 28, 28), hidden=(), code_dim=64, reconstruction="bce",
                 sparsity_target=0.05, sparsity_weight=3.0):
        super().__init__(image_shape, hidden, code_dim, reconstruction,
                         code_activation=nn.Sigmoid())
        if not 0 < sparsity_target < 1:
            raise ValueError(f"SparseAutoencoder: sparsity_target ρ must be in (0, 1), got "
                             f"{sparsity_target}")
        self.sparsity_target, self.sparsity_weight = float(sparsity_target), float(sparsity_weight)

    def losses(self, x):
        x = check_images(self.name_in_errors, x, self.image_shape)
        code = self.encode(x)
        recon = reconstruction_loss(self.decode_logits(code), x, self.reconstruction)
        penalty = sparsity_penalty(code, self.sparsity_target, self.sparsity_weight)
        return {"loss": recon + penalty, "reconstruction": recon, "sparsity": penalty,
                "mean_activation": float(code.data.mean())}

    def config(self):
        return dict(super().config(), sparsity_target=self.sparsity_target,
                    sparsity_weight=self.sparsity_weight)
