"""VAE: the KL term against its closed form, the reparameterization, the ELBO terms against
the same network in PyTorch, generation and interpolation, latent-size errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise.models import VAE
from layerwise.models.vae import gaussian_kl


def test_kl_term_matches_the_closed_form_and_torch():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    sigma2 = np.exp(logvar)
    closed = 0.5 * np.sum(sigma2 + mu ** 2 - 1 - np.log(sigma2), axis=1)
    ours = gaussian_kl(lw.tensor(mu), lw.tensor(logvar)).data
    np.testing.assert_allclose(ours, closed, rtol=1e-12)
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * logvar)))
    p = torch.distributions.Normal(torch.zeros(5, 3, dtype=torch.float64),
                                   torch.ones(5, 3, dtype=torch.float64))
    np.testing.assert_allclose(ours, torch.distributions.kl_divergence(q, p).sum(1).numpy(),
                               rtol=1e-10)


def test_reparameterization_is_differentiable_in_mu_and_sigma():
    model = VAE((1, 4, 4), (8,), 2)
    mu = lw.tensor(np.array([[0.5, -1.0]]), requires_grad=True)
    logvar = lw.tensor(np.array([[0.2, -0.4]]), requires_grad=True)
    eps = np.array([[1.5, -0.5]])
    z = model.reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(z.data, mu.data + np.exp(0.5 * logvar.data) * eps)
    z.sum().backward()
    np.testing.assert_allclose(mu.grad.data, 1)
    np.testing.assert_allclose(logvar.grad.data, 0.5 * np.exp(0.5 * logvar.data) * eps)


def torch_vae(pixels, hidden, latent):
    class Reference(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(pixels, hidden),
                                               torch.nn.ReLU())
            self.fc_mu = torch.nn.Linear(hidden, latent)
            self.fc_logvar = torch.nn.Linear(hidden, latent)
            self.decoder = torch.nn.Sequential(torch.nn.Linear(latent, hidden), torch.nn.ReLU(),
                                               torch.nn.Linear(hidden, pixels))

        def losses(self, x, eps):
            h = self.encoder(x)
            mu, logvar = self.fc_mu(h), self.fc_logvar(h)
            z = mu + torch.exp(0.5 * logvar) * eps
            logits = self.decoder(z)
            recon = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, x.flatten(1), reduction="sum") / len(x)
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
            return recon, kl
    return Reference()


def test_elbo_terms_and_gradients_match_torch():
    lw.manual_seed(0)
    model = VAE((1, 6, 6), (16,), 3)
    reference = torch_vae(36, 16, 3)
    reference.load_state_dict({k: torch.tensor(v.data) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.random((8, 1, 6, 6)).astype(np.float32)
    eps = rng.standard_normal((8, 3)).astype(np.float32)
    terms = model.losses(lw.tensor(x), eps)
    terms["loss"].backward()
    recon, kl = reference.losses(torch.tensor(x), torch.tensor(eps))
    (recon + kl).backward()
    assert terms["reconstruction"].item() == pytest.approx(recon.item(), rel=1e-5)
    assert terms["kl"].item() == pytest.approx(kl.item(), rel=1e-5)
    grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[name].grad.numpy(), atol=1e-4, rtol=1e-3)
    assert model.elbo(x)["elbo"] < 0


def test_generation_interpolation_and_latent_errors():
    model = VAE((1, 6, 6), (16,), 2)
    samples = model.sample(5, np.random.default_rng(0))
    assert samples.shape == (5, 1, 6, 6) and 0 <= samples.min() and samples.max() <= 1
    x = np.random.default_rng(1).random((2, 1, 6, 6)).astype(np.float32)
    path = model.interpolate(x[0], x[1], steps=4)
    mu, _ = model.encode(lw.tensor(x))
    np.testing.assert_allclose(path[0], model.decode(mu[:1]).data[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], model.decode(mu[1:]).data[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"VAE: latent codes must have shape \(N, 2\).*got \(3, 8\)"):
        model.decode(np.zeros((3, 8), np.float32))
    with pytest.raises(ValueError, match="VAE: expected images"):
        model.losses(np.zeros((2, 1, 5, 5), np.float32))
