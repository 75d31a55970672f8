"""Feature maps, "the eyes of the CNN": what each conv layer outputs for one image.

Conv layer l turns its input into K_l maps A^k = Σ_c w[k, c] ⋆ x[c] + b[k] (⋆ the
2-D cross-correlation); map k is bright where the input looks like filter k.
Early layers keep the image's layout (edges, textures); deeper ones are smaller
(pooling) and more abstract. The maps are captured with forward hooks on the
Conv2d layers during one forward pass, in evaluation mode and without gradients.
"""
import re
from pathlib import Path

import numpy as np

from ..autograd.grad_mode import no_grad
from .model_parts import as_batch, evaluation, require_conv_layers
from .plotting import Saved, grid_shape, plt, save, show_image

__all__ = ["feature_maps", "plot_feature_map_layer", "plot_feature_maps"]


def feature_maps(model, image):
    """[(layer name, maps (K, h, w) ndarray)] for every Conv2d layer, in the order the
    forward pass reaches them (the conv output, before any activation)."""
    layers = require_conv_layers(model, "feature maps")
    captured, handles = [], []
    for name, layer in layers:
        def hook(module, inputs, output, name=name):
            captured.append((name, output.data[0].copy()))
        handles.append(layer.register_forward_hook(hook))
    try:
        with evaluation(model), no_grad():
            model(as_batch(image))
    finally:
        for handle in handles:
            handle.remove()
    return captured


def plot_feature_map_layer(name, maps, path, image=None, max_maps=64, title=None,
                           caption=None):
    """One layer's maps as a grid with one shared colour scale and its colour bar; the
    input image first when given. Returns ``Saved(path, number of maps drawn)``."""
    maps = np.asarray(maps)
    count = min(len(maps), max_maps)
    extra = 0 if image is None else 1
    rows, columns = grid_shape(count + extra, 8)
    fig, axes = plt.subplots(rows, columns, figsize=(1.5 * columns + 1.2, 1.5 * rows + 0.9),
                             squeeze=False, layout="constrained")
    flat = axes.ravel()
    if image is not None:
        show_image(flat[0], image, "input image")
    low, high = float(maps[:count].min()), float(maps[:count].max())
    shown = None
    for k in range(count):
        ax = flat[extra + k]
        shown = ax.imshow(maps[k], cmap="viridis", vmin=low, vmax=high if high > low else low + 1)
        ax.set_title(f"map {k}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[extra + count:]:
        ax.axis("off")
    fig.colorbar(shown, ax=flat.tolist(), fraction=0.03, shrink=0.8, aspect=25,
                 label="activation (conv output)")
    k, h, w = maps.shape
    fig.suptitle(title or f"Feature maps of conv layer '{name}'", fontsize=11)
    fig.supxlabel(caption or f"{k} maps of {h}x{w}"
             f"{' (first ' + str(count) + ' shown)' if count < k else ''}, before the "
             f"activation; bright = the input looks like that map's filter here",
             fontsize=9)
    return Saved(save(fig, path), count)


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name) or "layer"


def plot_feature_maps(model, image, directory, prefix="feature_maps", max_maps=64,
                      display_image=None):
    """One PNG per conv layer in ``directory`` (``{prefix}_{i}_{layer}.png``); returns the
    list of ``Saved``. ``display_image`` (e.g. the un-normalized pixels) is drawn as the
    input panel; the model sees ``image``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shown_image = image if display_image is None else display_image
    saved = []
    for i, (name, maps) in enumerate(feature_maps(model, image), 1):
        path = directory / f"{prefix}_{i}_{_safe(name)}.png"
        saved.append(plot_feature_map_layer(name, maps, path, shown_image, max_maps,
                                            title=f"Feature maps of conv layer {i} ('{name}')"))
    return saved
