"""A Fréchet distance that works offline: FID with a Fashion-MNIST classifier trained by
layerwise in place of Inception-v3 (Heusel et al. 2017).

Real and generated images are mapped to the features of the classifier's last hidden
layer (the input of its final Linear); each set is summarized by the mean μ and the
covariance Σ of its features, and the two Gaussians are compared with the Fréchet
(2-Wasserstein) distance

    d² = ‖μ_r - μ_g‖² + Tr(Σ_r + Σ_g - 2 (Σ_r Σ_g)^½).

Lower is better. The value is only comparable between runs that use the same
classifier and sample sizes; two independent sets of real images give the floor (the
"real vs real" value), which no generator can be expected to beat.
"""
import numpy as np
from scipy import linalg

from .. import nn
from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad

__all__ = ["frechet_distance", "feature_statistics", "ClassifierFID", "train_feature_classifier"]


def feature_statistics(features):
    """(μ, Σ) of the rows of ``features`` (float64)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"feature_statistics: need at least 2 feature rows (N, D), got "
                         f"{features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """‖μ1 - μ2‖² + Tr(Σ1 + Σ2 - 2 (Σ1 Σ2)^½) (a tiny ridge keeps sqrtm finite)."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"frechet_distance: statistics of different sizes: {mu1.shape} vs "
                         f"{mu2.shape}, {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma1)) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


class ClassifierFID:
    """FID in the feature space of ``classifier`` (an ``nn.Sequential`` ending with a Linear).

    ``features(images)`` are the activations fed to the last layer; images are
    (N, C, H, W) in [0, 1], as the classifier was trained on.
    """

    def __init__(self, classifier, batch_size=500):
        if not isinstance(classifier, nn.Sequential) or not isinstance(classifier[-1], nn.Linear):
            raise ValueError("ClassifierFID: the classifier must be an nn.Sequential whose last "
                             "layer is an nn.Linear (its input is the feature vector)")
        self.classifier, self.batch_size = classifier, batch_size
        self.body = nn.Sequential(*list(classifier)[:-1])
        self._cache = {}

    @no_grad()
    def features(self, images):
        self.classifier.eval()
        images = np.asarray(images, dtype=np.float32)
        if images.size and (images.min() < -1e-3 or images.max() > 1 + 1e-3):
            raise ValueError(f"ClassifierFID: images must lie in [0, 1] like the classifier's "
                             f"training data, got values in [{images.min():g}, {images.max():g}]")
        return np.concatenate([self.body(tensor(images[i:i + self.batch_size])).data
                               for i in range(0, len(images), self.batch_size)])

    def statistics(self, images):
        return feature_statistics(self.features(images))

    def distance(self, images_a, images_b):
        """The classifier-FID between two sets of images."""
        return frechet_distance(*self.statistics(images_a), *self.statistics(images_b))

    @no_grad()
    def accuracy(self, images, labels):
        self.classifier.eval()
        logits = np.concatenate([self.classifier(tensor(np.asarray(
            images[i:i + self.batch_size], np.float32))).data
            for i in range(0, len(images), self.batch_size)])
        return float(np.mean(logits.argmax(axis=1) == np.asarray(labels)))


def train_feature_classifier(images, labels, model="seed004-cnn", epochs=2, batch_size=128,
                             lr=1e-3, seed=0, progress=False):
    """A classifier trained by layerwise on (images in [0, 1], labels): the FID's feature map."""
    from ..autograd.random import manual_seed
    from ..train import fit
    from .registry import get_model
    manual_seed(seed)
    classifier = get_model(model, num_classes=int(np.max(labels)) + 1,
                           in_channels=images.shape[1], image_size=images.shape[2])
    fit(classifier, (images, labels), epochs=epochs, batch_size=batch_size, seed=seed,
        progress=progress)
    classifier.eval()
    return classifier
