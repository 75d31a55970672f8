"""PyTorch twins of layerwise's VAE and DCGAN for bench/generative.py: the same layers under
the same names, so ``copy_weights`` moves layerwise's initial weights over (strict)."""
import torch
from torch import nn


class VAE(nn.Module):
    def __init__(self, pixels=784, hidden=(512,), latent_dim=2, image_shape=(1, 28, 28)):
        super().__init__()
        layers, width = [nn.Flatten()], pixels
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.encoder = nn.Sequential(*layers)
        self.fc_mu, self.fc_logvar = nn.Linear(width, latent_dim), nn.Linear(width, latent_dim)
        layers, width = [], latent_dim
        for h in hidden[::-1]:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.decoder = nn.Sequential(*layers, nn.Linear(width, pixels), nn.Unflatten(1, image_shape))

    def losses(self, x, eps):
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        logits = self.decoder(mu + torch.exp(0.5 * logvar) * eps)
        recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = (0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)).mean()
        return recon, kl

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))


def dcgan(latent_dim=64, g=32, d=32):
    generator = nn.Sequential(
        nn.ConvTranspose2d(latent_dim, 2 * g, 7, 1, 0, bias=False), nn.BatchNorm2d(2 * g), nn.ReLU(),
        nn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.ReLU(),
        nn.ConvTranspose2d(g, 1, 4, 2, 1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, d, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * d, 1, 7, 1, 0), nn.Flatten())
    return nn.ModuleDict({"generator": generator, "discriminator": discriminator})


def copy_weights(layerwise_model, torch_model):
    state = {k: torch.from_numpy(v.data.copy()) for k, v in layerwise_model.state_dict().items()}
    torch_model.load_state_dict(state, strict=True)
    return torch_model
