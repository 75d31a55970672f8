"""Generative adversarial networks (Goodfellow et al. 2014): a generator G and a
discriminator D trained against each other.

G maps noise z ~ N(0, I) to an image; D maps an image to a logit, D(x) = σ(logit) being
its belief that x is real. Images live in [-1, 1] (G ends with tanh); ``sample``
returns them in [0, 1]. With BCE(ℓ, y) = -[y log σ(ℓ) + (1 - y) log(1 - σ(ℓ))]:

    discriminator:  L_D = BCE(D(x), 1) + BCE(D(G(z)), 0)
                        = -log D(x) - log(1 - D(G(z)))
    generator, non-saturating:  L_G = BCE(D(G(z)), 1) = -log D(G(z))

(the minimax generator loss log(1 - D(G(z))) saturates when D wins early; the
non-saturating form has the same fixed point and strong gradients then).

- ``mlp_gan``: fully connected G and D with LeakyReLU(0.2).
- ``dcgan`` (Radford et al. 2016) for 28x28: G: z (as a 1x1 map) -> convT 7x7 -> 7x7 ->
  convT 4/2/1 -> 14x14 -> convT 4/2/1 -> 28x28, batch norm + ReLU between, tanh at the end;
  D: conv 4/2/1 -> 14x14 -> conv 4/2/1 -> 7x7 -> conv 7x7 -> 1 logit, LeakyReLU(0.2),
  batch norm on the middle layer; weights ~ N(0, 0.02) (BN scales ~ N(1, 0.02)); Adam with
  lr 2e-4 and β1 = 0.5.
"""
import math

import numpy as np

from .. import nn
from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..autograd.random import get_rng
from ..autograd.tensor import Tensor
from ..nn import init

__all__ = ["GAN", "mlp_gan", "dcgan", "dcgan_init_", "discriminator_loss", "generator_loss"]


def _bce(logits, value):
    target = np.full(logits.shape, value, dtype=logits.data.dtype)
    return nn.functional.binary_cross_entropy_with_logits(logits, target)


def discriminator_loss(real_logits, fake_logits):
    """L_D = BCE(D(x), 1) + BCE(D(G(z)), 0), each a batch mean."""
    return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


def generator_loss(fake_logits):
    """Non-saturating L_G = BCE(D(G(z)), 1) = -mean log D(G(z))."""
    return _bce(fake_logits, 1.0)


def _sigmoid_mean(logits):
    return float(np.mean(1 / (1 + np.exp(-np.clip(logits.data, -60, 60)))))


class GAN(nn.Module):
    """A generator and a discriminator, with the shapes checked to fit each other.

    ``latent_shape``: the shape of one z ((latent_dim,) or (latent_dim, 1, 1) for DCGAN).
    """

    def __init__(self, generator, discriminator, latent_dim, image_shape=(1, 28, 28),
                 latent_shape=None, kind="gan"):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.image_shape = int(latent_dim), tuple(image_shape)
        self.latent_shape = tuple(latent_shape or (self.latent_dim,))
        self.kind = kind
        self._check_shapes()

    @no_grad()
    def _check_shapes(self):
        modes = [m.training for m in self.modules()]
        self.eval()
        try:
            fake = self.generator(tensor(np.zeros((2,) + self.latent_shape, np.float32)))
            if tuple(fake.shape[1:]) != self.image_shape:
                raise ValueError(f"GAN: the generator makes images of shape {tuple(fake.shape[1:])}"
                                 f" but the discriminator expects {self.image_shape}")
            try:
                logits = self.discriminator(fake)
            except (RuntimeError, ValueError) as err:
                raise ValueError(f"GAN: the discriminator cannot take the generator's output of "
                                 f"shape {tuple(fake.shape)}: {err}") from None
            if logits.data.size != 2:
                raise ValueError(f"GAN: the discriminator must give one logit per image, got "
                                 f"output of shape {tuple(logits.shape)} for 2 images")
        finally:
            for m, mode in zip(self.modules(), modes):
                m.training = mode

    def check_latent(self, z):
        if not isinstance(z, Tensor):
            z = tensor(np.asarray(z, dtype=np.float32))
        if tuple(z.shape[1:]) != self.latent_shape:
            if z.ndim >= 2 and z.shape[1] != self.latent_dim:
                raise ValueError(f"GAN: latent vectors must have {self.latent_dim} numbers (this "
                                 f"model's latent_dim), got z of shape {tuple(z.shape)}")
            z = z.reshape(z.shape[0], *self.latent_shape)
        return z

    def latent(self, n, generator=None):
        """n noise vectors z ~ N(0, I), shaped for the generator."""
        rng = generator or get_rng()
        return rng.standard_normal((n,) + self.latent_shape).astype(np.float32)

    def generate(self, z):
        """G(z): images in [-1, 1]."""
        return self.generator(self.check_latent(z))

    def discriminate(self, images):
        """D's logits, one per image (N,)."""
        logits = self.discriminator(images)
        return logits.reshape(logits.shape[0])

    def forward(self, z):
        return self.generate(z)

    @no_grad()
    def sample(self, n, generator=None, z=None):
        """n generated images in [0, 1] (eval mode: batch norm uses its running statistics)."""
        was_training = self.training
        self.eval()
        z = self.latent(n, generator) if z is None else z
        images = (self.generate(z).data + 1) / 2
        self.train(was_training)
        return np.clip(images, 0, 1)

    def train_step(self, real, optimizer_g, optimizer_d, z=None):
        """One update of D then one of G on a batch of real images in [-1, 1]; returns floats
        loss_d, loss_g, d_real (mean D(x)), d_fake (mean D(G(z)) before D's step)."""
        real = real if isinstance(real, Tensor) else tensor(real)
        z = self.latent(real.shape[0]) if z is None else z
        fake = self.generate(z)
        real_logits = self.discriminate(real)
        fake_logits = self.discriminate(fake.detach())
        loss_d = discriminator_loss(real_logits, fake_logits)
        optimizer_d.zero_grad()
        loss_d.backward()
        optimizer_d.step()
        loss_g = generator_loss(self.discriminate(fake))
        optimizer_g.zero_grad()
        loss_g.backward()
        optimizer_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": _sigmoid_mean(real_logits), "d_fake": _sigmoid_mean(fake_logits)}

    def config(self):
        return {"latent_dim": self.latent_dim, "image_shape": list(self.image_shape)}


def mlp_gan(latent_dim=64, hidden=(256, 512), image_shape=(1, 28, 28)):
    """Fully connected GAN: G z -> 256 -> 512 -> pixels (tanh); D pixels -> 512 -> 256 -> 1."""
    image_shape, pixels = tuple(image_shape), math.prod(image_shape)
    layers, width = [], latent_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    generator = nn.Sequential(*layers, nn.Linear(width, pixels), nn.Tanh(),
                              nn.Unflatten(1, image_shape))
    layers, width = [nn.Flatten()], pixels
    for h in hidden[::-1]:
        layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    discriminator = nn.Sequential(*layers, nn.Linear(width, 1))
    model = GAN(generator, discriminator, latent_dim, image_shape, kind="gan")
    model.hidden = tuple(hidden)
    return model


def dcgan_init_(module):
    """DCGAN's initialization: conv weights ~ N(0, 0.02), BN γ ~ N(1, 0.02), β = 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)
    return module


def dcgan(latent_dim=64, generator_features=32, discriminator_features=32, image_shape=(1, 28, 28)):
    """DCGAN for 28x28 images (see the module docstring for the layers)."""
    c, h, w = image_shape = tuple(image_shape)
    if (h, w) != (28, 28):
        raise ValueError(f"dcgan: this DCGAN is built for 28x28 images, got {image_shape}")
    g, d = generator_features, discriminator_features
    generator = nn.Sequential(
        nn.ConvTranspose2d(latent_dim, 2 * g, 7, 1, 0, bias=False), nn.BatchNorm2d(2 * g),
        nn.ReLU(),                                                          # 7x7
        nn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(g, c, 4, 2, 1), nn.Tanh())                       # 28x28
    discriminator = nn.Sequential(
        nn.Conv2d(c, d, 4, 2, 1), nn.LeakyReLU(0.2),                        # 14x14
        nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2),  # 7x7
        nn.Conv2d(2 * d, 1, 7, 1, 0), nn.Flatten())                         # 1 logit
    model = GAN(generator, discriminator, latent_dim, image_shape, (latent_dim, 1, 1), "dcgan")
    model.generator_features, model.discriminator_features = g, d
    return dcgan_init_(model)
