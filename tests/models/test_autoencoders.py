"""Autoencoders: shapes, the UFLDL sparsity penalty against its closed form, the denoising
corruptions, learning on a tiny problem, clear errors."""
import math

import numpy as np
import pytest

import layerwise as lw
from layerwise import optim
from layerwise.models import Autoencoder, ConvAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from layerwise.models.autoencoder import sparsity_penalty


def images(n=16, seed=0, size=8):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, size, size)).astype(np.float32)


def test_sparsity_penalty_matches_the_closed_form():
    rng = np.random.default_rng(0)
    activations = rng.uniform(0.01, 0.99, (10, 5))
    rho, beta = 0.05, 3.0
    rho_hat = activations.mean(axis=0)
    expected = beta * np.sum(rho * np.log(rho / rho_hat) +
                             (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    value = sparsity_penalty(lw.tensor(activations), rho, beta)
    assert value.item() == pytest.approx(expected, rel=1e-10)
    # zero when every unit's mean activation is the target, and its gradient too
    at_target = lw.tensor(np.full((4, 3), rho), requires_grad=True)
    penalty = sparsity_penalty(at_target, rho, beta)
    penalty.backward()
    assert penalty.item() == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(at_target.grad.data, 0, atol=1e-10)


def test_sparsity_penalty_gradient_is_the_ufldl_delta_term():
    """∂/∂a_j(x) of β Σ KL = β/m (-ρ/ρ̂_j + (1-ρ)/(1-ρ̂_j))  (UFLDL's backprop term)."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 0.9, (6, 4))
    t = lw.tensor(a, requires_grad=True)
    sparsity_penalty(t, 0.1, 2.0).backward()
    rho_hat = a.mean(axis=0)
    expected = 2.0 / 6 * (-0.1 / rho_hat + 0.9 / (1 - rho_hat))
    np.testing.assert_allclose(t.grad.data, np.broadcast_to(expected, a.shape), rtol=1e-10)


@pytest.mark.parametrize("model", [Autoencoder((1, 8, 8), (32,), 4),
                                   ConvAutoencoder((1, 8, 8), (4, 8), 4),
                                   DenoisingAutoencoder((1, 8, 8), (32,), 4),
                                   SparseAutoencoder((1, 8, 8), (), 16)])
def test_shapes_and_terms(model):
    x = images()
    assert model.encode(x).shape == (16, model.code_dim)
    out = model(x)
    assert out.shape == (16, 1, 8, 8) and 0 <= out.data.min() and out.data.max() <= 1
    terms = model.losses(x)
    terms["loss"].backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model.losses(x.reshape(16, 64))["loss"].item() > 0   # flat images are accepted


def test_dense_autoencoder_learns_a_low_dimensional_dataset():
    lw.manual_seed(0)
    rng = np.random.default_rng(0)
    basis = rng.random((2, 64))
    x = (rng.random((200, 2)) @ basis / 2).astype(np.float32).reshape(200, 1, 8, 8)
    model = Autoencoder((1, 8, 8), (32,), 2, reconstruction="mse")
    opt = optim.Adam(model.parameters(), lr=3e-3)
    first = model.losses(x)["loss"].item()
    for _ in range(300):
        loss = model.losses(x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first


@pytest.mark.parametrize("noise", ["gaussian", "saltpepper", "masking"])
def test_denoising_corruptions(noise):
    model = DenoisingAutoencoder((1, 8, 8), (16,), 4, noise=noise, noise_level=0.3)
    x = np.full((50, 1, 8, 8), 0.5, np.float32)
    noisy = model.corrupt(x, np.random.default_rng(0)).data
    changed = np.mean(noisy != x)
    assert noisy.shape == x.shape and 0 <= noisy.min() and noisy.max() <= 1
    assert changed > (0.9 if noise == "gaussian" else 0.2)
    if noise == "saltpepper":
        assert set(np.unique(noisy[noisy != 0.5])) <= {0.0, 1.0}


def test_clear_errors():
    model = Autoencoder((1, 8, 8), (16,), 4)
    with pytest.raises(ValueError, match=r"Autoencoder: expected images of shape \(N, 1, 8, 8\)"):
        model.encode(np.zeros((2, 1, 9, 9), np.float32))
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 4\)"):
        model.decode(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvAutoencoder((1, 10, 10))
    with pytest.raises(ValueError, match="unknown noise"):
        DenoisingAutoencoder(noise="speckle")
    assert math.isclose(SparseAutoencoder().sparsity_target, 0.05)
