"""Builders of the unsupervised families by name, for ``get_model`` and the CLI.

Each takes the zoo's common arguments (``in_channels``, ``image_size``; ``num_classes`` is
accepted and ignored) plus its own hyperparameters, and returns the model; ``config()``
of the model gives back those hyperparameters, which checkpoints store.
"""
from .autoencoder import Autoencoder, ConvAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from .dbn import DBN
from .gan import dcgan, mlp_gan
from .rbm import RBM
from .vae import VAE

__all__ = ["GENERATIVE_BUILDERS", "build_generative"]


def _shape(in_channels, image_size):
    return (in_channels, image_size, image_size)


def autoencoder(num_classes=None, in_channels=1, image_size=28, hidden=(256,), code_dim=32,
                reconstruction="bce", **_):
    return Autoencoder(_shape(in_channels, image_size), tuple(hidden), code_dim, reconstruction)


def conv_autoencoder(num_classes=None, in_channels=1, image_size=28, channels=(16, 32),
                     code_dim=32, reconstruction="bce", **_):
    return ConvAutoencoder(_shape(in_channels, image_size), tuple(channels), code_dim,
                           reconstruction)


def denoising_autoencoder(num_classes=None, in_channels=1, image_size=28, hidden=(256,),
                          code_dim=32, reconstruction="bce", noise="gaussian", noise_level=0.3,
                          **_):
    return DenoisingAutoencoder(_shape(in_channels, image_size), tuple(hidden), code_dim,
                                reconstruction, noise, noise_level)


def sparse_autoencoder(num_classes=None, in_channels=1, image_size=28, hidden=(), code_dim=64,
                       reconstruction="bce", sparsity_target=0.05, sparsity_weight=3.0, **_):
    return SparseAutoencoder(_shape(in_channels, image_size), tuple(hidden), code_dim,
                             reconstruction, sparsity_target, sparsity_weight)


def vae(num_classes=None, in_channels=1, image_size=28, hidden=(512,), latent_dim=2, **_):
    return VAE(_shape(in_channels, image_size), tuple(hidden), latent_dim)


def gan(num_classes=None, in_channels=1, image_size=28, latent_dim=64, hidden=(256, 512), **_):
    return mlp_gan(latent_dim, tuple(hidden), _shape(in_channels, image_size))


def dcgan_model(num_classes=None, in_channels=1, image_size=28, latent_dim=64,
                generator_features=32, discriminator_features=32, **_):
    return dcgan(latent_dim, generator_features, discriminator_features,
                 _shape(in_channels, image_size))


def rbm(num_classes=None, in_channels=1, image_size=28, n_hidden=256, visible="bernoulli", **_):
    return RBM(in_channels * image_size * image_size, n_hidden, visible)


def dbn(num_classes=None, in_channels=1, image_size=28, hidden=(500, 250), visible="bernoulli",
        **_):
    return DBN((in_channels * image_size * image_size,) + tuple(hidden), visible)


GENERATIVE_BUILDERS = {
    "autoencoder": autoencoder, "conv-autoencoder": conv_autoencoder,
    "denoising-autoencoder": denoising_autoencoder, "sparse-autoencoder": sparse_autoencoder,
    "vae": vae, "gan": gan, "dcgan": dcgan_model, "rbm": rbm, "dbn": dbn,
}


def build_generative(config):
    """The model a generative checkpoint's config describes (``model`` + ``model_args``)."""
    name = config["model"]
    if name not in GENERATIVE_BUILDERS:
        raise KeyError(f"{name!r} is not a generative model; known: {', '.join(GENERATIVE_BUILDERS)}")
    return GENERATIVE_BUILDERS[name](**config.get("model_args", {}))
