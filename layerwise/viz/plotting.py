"""Matplotlib set-up shared by the pictures: a file backend, no screen needed."""
import math
from collections import namedtuple

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# A written picture and how many data panels it holds (filters, maps, images).
Saved = namedtuple("Saved", "path panels")


def save(fig, path, dpi=120):
    """Save ``fig`` to ``path`` (a PNG file, or a binary file object) and free it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def grid_shape(count, max_columns=8):
    """(rows, columns) of a near-square grid for ``count`` panels, at most ``max_columns`` wide."""
    columns = max(1, min(max_columns, math.ceil(math.sqrt(count))))
    return math.ceil(count / columns), columns


def image_for_display(image):
    """(array, colour map) to draw an image given as (H, W), (1, H, W) or (3, H, W):
    grey for one channel (or the channel mean), RGB min-max scaled to [0, 1] for three."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image, "gray"
    if image.ndim == 3 and image.shape[0] == 3:
        low, high = image.min(), image.max()
        return ((image - low) / max(high - low, 1e-12)).transpose(1, 2, 0), None
    if image.ndim == 3:
        return image.mean(axis=0), "gray"
    raise ValueError(f"expected an image (H, W) or (C, H, W), got shape {image.shape}")


def show_image(ax, image, title, fontsize=8):
    """Draw ``image`` on ``ax`` without ticks, titled."""
    array, cmap = image_for_display(image)
    ax.imshow(array, cmap=cmap)
    ax.set_title(title, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
