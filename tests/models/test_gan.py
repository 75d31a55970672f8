"""GANs: the losses against their formulas, a training step, the DCGAN's shapes and its
parity with PyTorch, and a generator that does not fit its discriminator."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn, optim
from layerwise.models import GAN, dcgan, mlp_gan
from layerwise.models.gan import discriminator_loss, generator_loss


def test_losses_are_the_non_saturating_formulas():
    real, fake = np.array([2.0, -0.5, 0.3]), np.array([-1.0, 0.7, 0.0])
    s = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected_d = -np.mean(np.log(s(real))) - np.mean(np.log(1 - s(fake)))
    expected_g = -np.mean(np.log(s(fake)))
    assert discriminator_loss(lw.tensor(real), lw.tensor(fake)).item() == pytest.approx(expected_d)
    assert generator_loss(lw.tensor(fake)).item() == pytest.approx(expected_g)


def test_mlp_gan_training_step_updates_both_networks():
    lw.manual_seed(0)
    model = mlp_gan(latent_dim=4, hidden=(16, 32), image_shape=(1, 4, 4))
    opt_g = optim.Adam(model.generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = optim.Adam(model.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g0 = [p.data.copy() for p in model.generator.parameters()]
    d0 = [p.data.copy() for p in model.discriminator.parameters()]
    real = np.random.default_rng(0).uniform(-1, 1, (8, 1, 4, 4)).astype(np.float32)
    logs = model.train_step(lw.tensor(real), opt_g, opt_d)
    assert set(logs) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert 0 < logs["d_real"] < 1 and np.isfinite(logs["loss_g"])
    assert all(not np.array_equal(a, p.data) for a, p in zip(g0, model.generator.parameters()))
    assert all(not np.array_equal(a, p.data) for a, p in zip(d0, model.discriminator.parameters()))
    assert model.sample(3).shape == (3, 1, 4, 4)


def torch_dcgan(latent, g, d):
    tn = torch.nn
    generator = tn.Sequential(
        tn.ConvTranspose2d(latent, 2 * g, 7, 1, 0, bias=False), tn.BatchNorm2d(2 * g), tn.ReLU(),
        tn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False), tn.BatchNorm2d(g), tn.ReLU(),
        tn.ConvTranspose2d(g, 1, 4, 2, 1), tn.Tanh())
    discriminator = tn.Sequential(
        tn.Conv2d(1, d, 4, 2, 1), tn.LeakyReLU(0.2),
        tn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), tn.BatchNorm2d(2 * d), tn.LeakyReLU(0.2),
        tn.Conv2d(2 * d, 1, 7, 1, 0), tn.Flatten())
    return tn.ModuleDict({"generator": generator, "discriminator": discriminator})


def test_dcgan_shapes_and_parity_with_torch():
    lw.manual_seed(0)
    model = dcgan(latent_dim=8, generator_features=4, discriminator_features=4)
    reference = torch_dcgan(8, 4, 4)
    reference.load_state_dict({k: torch.tensor(v.data) for k, v in model.state_dict().items()})
    z = model.latent(3, np.random.default_rng(0))
    assert z.shape == (3, 8, 1, 1)
    fake = model.generate(lw.tensor(z))
    expected = reference["generator"](torch.tensor(z))
    assert fake.shape == (3, 1, 28, 28)
    np.testing.assert_allclose(fake.data, expected.detach().numpy(), atol=1e-5)
    logits = model.discriminate(fake)
    np.testing.assert_allclose(logits.data, reference["discriminator"](expected).detach().numpy()
                               .ravel(), atol=1e-4)
    conv_weights = model.generator[0].weight.data
    assert abs(conv_weights.std() - 0.02) < 0.005   # DCGAN's N(0, 0.02) initialization


def test_generator_that_does_not_fit_the_discriminator_is_a_clear_error():
    generator = nn.Sequential(nn.Linear(4, 25), nn.Unflatten(1, (1, 5, 5)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    with pytest.raises(ValueError, match=r"generator makes images of shape \(1, 5, 5\) but the "
                                         r"discriminator expects \(1, 4, 4\)"):
        GAN(generator, discriminator, 4, (1, 4, 4))
    with pytest.raises(ValueError, match="discriminator cannot take the generator's output"):
        GAN(generator, discriminator, 4, (1, 5, 5))
    model = mlp_gan(4, (8,), (1, 4, 4))
    with pytest.raises(ValueError, match="latent vectors must have 4 numbers"):
        model.generate(np.zeros((2, 7), np.float32))
