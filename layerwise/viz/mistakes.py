"""The most confidently wrong test images: where the model is sure and mistaken.

For each test image the model gives probabilities p = softmax(logits); a mistake is
argmax p ≠ label, and its confidence is max p. Sorting mistakes by confidence shows
label noise, look-alike classes and blind spots far better than the error rate does.
"""
import numpy as np

from .model_parts import class_name
from .plotting import Saved, grid_shape, plt, save, show_image

__all__ = ["softmax", "confident_mistakes", "plot_mistakes"]


def softmax(logits):
    """Row-wise softmax through log-sum-exp (no overflow)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confident_mistakes(probabilities, labels, count=16):
    """Indices of the ``count`` wrong predictions with the highest confidence, most
    confident first (fewer if there are fewer mistakes)."""
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"mistakes: expected probabilities (N, classes) and N labels, got "
                         f"shapes {probabilities.shape} and {labels.shape}")
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def plot_mistakes(images, labels, probabilities, path, classes=None, count=16, title=None):
    """A grid of the most confidently wrong images, each captioned with its true class
    and the predicted class with its probability. Returns ``Saved(path, panels)``."""
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    chosen = confident_mistakes(probabilities, labels, count)
    n_wrong = int((probabilities.argmax(axis=1) != labels).sum())
    rows, columns = grid_shape(max(len(chosen), 1), 8)
    fig, axes = plt.subplots(rows, columns, figsize=(1.75 * columns + 0.4, 2.15 * rows + 0.8),
                             squeeze=False)
    flat = axes.ravel()
    for ax, index in zip(flat, chosen):
        predicted = int(probabilities[index].argmax())
        show_image(ax, images[index], f"true: {class_name(classes, int(labels[index]))}\n"
                                      f"pred: {class_name(classes, predicted)} "
                                      f"({probabilities[index, predicted]:.0%})", fontsize=8)
        ax.set_xlabel(f"test image {index}", fontsize=7)
    for ax in flat[len(chosen):]:
        ax.axis("off")
    if not len(chosen):
        flat[0].text(0.5, 0.5, "no mistakes on this set", ha="center", va="center")
    fig.suptitle(title or f"Most confidently wrong test images ({n_wrong:,} mistakes in "
                          f"{len(labels):,} images)", fontsize=11)
    fig.tight_layout()
    return Saved(save(fig, path), len(chosen))
