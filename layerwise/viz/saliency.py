"""Which pixels made the model decide: saliency maps and Grad-CAM.

Saliency (Simonyan et al., 2014): the gradient of the class score y_c (the logit,
before softmax) with respect to the input pixels, M[i, j] = max_c' |∂y_c / ∂x[c', i, j]|
— how much a small change of each pixel would move the score.

Grad-CAM (Selvaraju et al., 2017): take the feature maps A^k (K, h, w) of a conv layer
(by default the last) and their gradients ∂y_c/∂A^k; weight each map by its average
gradient and keep the positive part:

    α_k = (1 / (h·w)) Σ_{i,j} ∂y_c / ∂A^k[i, j],      L = ReLU(Σ_k α_k A^k)

then stretch L (h, w) bilinearly to the input size. Both are computed by the
library's own backward pass: a forward hook on the conv layer keeps its output and
``retain_grad`` keeps that output's gradient; the parameters are frozen meanwhile.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .model_parts import (as_batch, class_name, evaluation, frozen_parameters, get_layer,
                          require_conv_layers)
from .plotting import Saved, image_for_display, plt, save, show_image

__all__ = ["Attribution", "saliency_map", "grad_cam", "plot_saliency"]


@dataclass
class Attribution:
    """A map over the input pixels for one class, with the model's probabilities."""
    map: np.ndarray            # (H, W)
    target: int                # the class explained
    probabilities: np.ndarray  # softmax of the logits
    method: str                # 'saliency' or 'grad-cam'
    layer: str = ""            # Grad-CAM's conv layer
    coarse: np.ndarray = None  # Grad-CAM at the layer's own resolution (h, w)


def _softmax(logits):
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _scores_backward(model, x, target):
    """Forward ``x`` (1, C, H, W), then backpropagate the one-hot of ``target`` (the
    arg-max class when None). Returns (target, probabilities)."""
    scores = model(x)
    if scores.ndim != 2 or scores.shape[0] != 1:
        raise ValueError(f"saliency: expected the model to output class scores (1, classes), "
                         f"got shape {tuple(scores.shape)}")
    logits = scores.data[0].astype(np.float64)
    classes = logits.shape[0]
    target = int(np.argmax(logits)) if target is None else int(target)
    if not 0 <= target < classes:
        raise ValueError(f"saliency: target class {target} is outside 0..{classes - 1}")
    one_hot = np.zeros_like(scores.data)
    one_hot[0, target] = 1
    scores.backward(one_hot)
    return target, _softmax(logits)


def saliency_map(model, image, target=None):
    """|∂ score_target / ∂ pixel|, max over channels: an :class:`Attribution` (H, W)."""
    x = as_batch(image, requires_grad=True)
    with evaluation(model), frozen_parameters(model):
        target, probabilities = _scores_backward(model, x, target)
    return Attribution(np.abs(x.grad.data[0]).max(axis=0), target, probabilities, "saliency")


def _resize(array, size):
    """Bilinear resize of a 2-D float array to (H, W)."""
    if array.shape == tuple(size):
        return array.astype(np.float32)
    image = Image.fromarray(array.astype(np.float32), mode="F")
    return np.asarray(image.resize((size[1], size[0]), Image.BILINEAR), dtype=np.float32)


def grad_cam(model, image, target=None, layer=None):
    """ReLU(Σ_k α_k A^k) for conv layer ``layer`` (default: the last conv layer), resized
    to the input: an :class:`Attribution` whose ``coarse`` field is the (h, w) original."""
    layers = require_conv_layers(model, "Grad-CAM")
    name, conv = layers[-1] if layer is None else (layer, get_layer(model, layer))
    kept = {}

    def keep(module, inputs, output):
        output.retain_grad()
        kept["maps"] = output
    handle = conv.register_forward_hook(keep)
    x = as_batch(image, requires_grad=True)
    try:
        with evaluation(model), frozen_parameters(model):
            target, probabilities = _scores_backward(model, x, target)
    finally:
        handle.remove()
    if "maps" not in kept or kept["maps"].ndim != 4:
        raise ValueError(f"Grad-CAM: layer {name!r} gave no (1, K, h, w) feature maps")
    maps = kept["maps"].data[0].astype(np.float64)
    grads = kept["maps"].grad
    grads = np.zeros_like(maps) if grads is None else grads.data[0].astype(np.float64)
    weights = grads.mean(axis=(1, 2))                                    # α_k
    coarse = np.maximum(np.tensordot(weights, maps, axes=1), 0.0)        # ReLU(Σ α_k A^k)
    return Attribution(_resize(coarse, x.shape[2:]), target, probabilities, "grad-cam",
                       name, coarse.astype(np.float32))


def plot_saliency(image, attributions, path, classes=None, true_label=None,
                  display_image=None, title=None):
    """The input, then for each attribution its map (with a colour bar) and the map laid
    over the image. Returns ``Saved(path, panels)``."""
    attributions = [a for a in attributions if a is not None]
    if not attributions:
        raise ValueError("plot_saliency: nothing to draw (no saliency or Grad-CAM map)")
    shown_image = image if display_image is None else display_image
    columns = 1 + 2 * len(attributions)
    fig, axes = plt.subplots(1, columns, figsize=(3.3 * columns, 3.6), squeeze=False)
    axes = axes[0]
    first = attributions[0]
    predicted = int(np.argmax(first.probabilities))
    truth = "" if true_label is None else f"true: {class_name(classes, true_label)}\n"
    show_image(axes[0], shown_image, f"{truth}predicted: {class_name(classes, predicted)} "
                                     f"({first.probabilities[predicted]:.0%})", fontsize=9)
    axes[0].set_xlabel("input image", fontsize=8)
    background, cmap = image_for_display(shown_image)
    for k, attribution in enumerate(attributions):
        label = ("|∂score/∂pixel|" if attribution.method == "saliency"
                 else "Grad-CAM relevance")
        name = ("Saliency" if attribution.method == "saliency"
                else f"Grad-CAM (layer '{attribution.layer}', "
                     f"{attribution.coarse.shape[0]}x{attribution.coarse.shape[1]})")
        heat = axes[1 + 2 * k].imshow(attribution.map, cmap="inferno")
        fig.colorbar(heat, ax=axes[1 + 2 * k], fraction=0.046, pad=0.04, label=label)
        axes[1 + 2 * k].set_title(f"{name}\nfor class {class_name(classes, attribution.target)}",
                                  fontsize=9)
        overlay = axes[2 + 2 * k]
        overlay.imshow(background, cmap=cmap)
        top = max(float(attribution.map.max()), 1e-12)
        overlay.imshow(attribution.map / top, cmap="inferno", alpha=0.55, vmin=0, vmax=1)
        overlay.set_title(f"{name.split(' (')[0]} over the image", fontsize=9)
        for ax in (axes[1 + 2 * k], overlay):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("bright = pixels that move the score most", fontsize=7)
    fig.suptitle(title or "What the model looks at", fontsize=11)
    fig.tight_layout()
    return Saved(save(fig, path), len(attributions))

