"""Learned filters: the weights of a conv layer drawn as small images.

A Conv2d layer holds ``out_channels`` filters w[k] of shape (C, kh, kw); filter k
responds most to an input patch shaped like itself, since its output is the dot
product Σ w[k, c, p, q] · x[c, i + p, j + q]. First-layer filters look straight at
pixels, so after training they show edge, stripe and blob detectors — the same
kinds of patterns as the classic hand-made kernels.
"""
import numpy as np

from .model_parts import get_layer, require_conv_layers
from .plotting import Saved, grid_shape, plt, save

__all__ = ["filter_images", "plot_filters"]


def filter_images(weight):
    """(images (K, kh, kw) or (K, kh, kw, 3), how the channels were combined).

    One input channel: the weights themselves. Three (RGB): each filter min-max scaled
    to [0, 1] to be drawn in colour. Otherwise: the mean over the input channels.
    """
    weight = np.asarray(weight, dtype=np.float32)
    if weight.ndim != 4:
        raise ValueError(f"filters: expected a conv weight (out, in, kh, kw), got shape "
                         f"{weight.shape}")
    channels = weight.shape[1]
    if channels == 1:
        return weight[:, 0], "weights"
    if channels == 3:
        low = weight.min(axis=(1, 2, 3), keepdims=True)
        span = np.maximum(weight.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
        return ((weight - low) / span).transpose(0, 2, 3, 1), "RGB, each filter min-max scaled"
    return weight.mean(axis=1), f"mean over its {channels} input channels"


def plot_filters(model, path, layer=None, max_filters=64, title=None):
    """A grid of the filters of conv layer ``layer`` (default: the first one).

    Signed weights share one colour scale centred on zero (red positive, blue
    negative) with its colour bar. Returns ``Saved(path, panels)``; raises ValueError
    for a model without conv layers or an unknown layer name.
    """
    layers = require_conv_layers(model, "filters")
    name, conv = (layers[0] if layer is None else (layer, get_layer(model, layer)))
    if not hasattr(conv, "weight") or getattr(conv.weight, "ndim", 0) != 4:
        raise ValueError(f"filters: layer {name!r} ({type(conv).__name__}) is not a conv layer")
    images, how = filter_images(conv.weight.data)
    count = min(len(images), max_filters)
    rows, columns = grid_shape(count, 8)
    fig, axes = plt.subplots(rows, columns, figsize=(1.5 * columns + 1.2, 1.5 * rows + 0.9),
                             squeeze=False, layout="constrained")
    limit = float(np.abs(images[:count]).max()) or 1.0
    shown = None
    for k, ax in enumerate(axes.ravel()):
        if k >= count:
            ax.axis("off")
            continue
        if images.ndim == 4:
            shown = ax.imshow(images[k], interpolation="nearest")
        else:
            shown = ax.imshow(images[k], cmap="RdBu_r", vmin=-limit, vmax=limit,
                              interpolation="nearest")
        ax.set_title(f"filter {k}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if images.ndim == 3:
        fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.03, shrink=0.8, aspect=25,
                     label="weight (red +, blue −)")
    out_channels, in_channels, kh, kw = conv.weight.shape
    model_name = getattr(model, "name", type(model).__name__)
    fig.suptitle(title or f"Filters of conv layer '{name}' of {model_name}", fontsize=11)
    fig.supxlabel(f"{out_channels} filters of {kh}x{kw}x{in_channels} "
                       f"({'first ' + str(count) + ' shown; ' if count < out_channels else ''}"
                       f"{how}); each pixel is one weight", fontsize=9)
    return Saved(save(fig, path), count)
