"""The classic hand-made kernels of image processing, applied with ``F.conv2d``.

Before networks learned their filters, people designed them: each output pixel is
Σ_{p,q} K[p, q] · X[i + p - 1, j + q - 1] (a 3x3 cross-correlation centred on the
pixel). ``'same'`` padding (one ring of zeros) keeps the H x W size; ``'valid'`` (no
padding) gives (H - 3 + 1) x (W - 3 + 1), by (W - F + 2P)/S + 1.

- identity: the image itself;
- edge detection (two variants) and the Laplacian ∇²X ≈ X[i-1,j] + X[i+1,j] + X[i,j-1]
  + X[i,j+1] - 4·X[i,j]: zero on flat regions, large at edges;
- sharpen = identity - Laplacian: the image plus its edges;
- box blur (the mean of 3x3) and Gaussian blur (weights 1-2-1 ⊗ 1-2-1 / 16);
- Sobel x (horizontal gradient, responds to vertical edges) and Sobel y (vertical
  gradient, horizontal edges).
"""
from pathlib import Path

import numpy as np

from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..backend.conv import conv_output_size
from ..nn import functional as F
from .plotting import plt, save

__all__ = ["CLASSIC_KERNELS", "classic_kernel", "apply_kernel", "load_grey_image",
           "plot_kernel_grid"]

# name -> (title, integer matrix, scale): kernel = scale · matrix
CLASSIC_KERNELS = {
    "identity": ("Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], 1),
    "edge-diagonal": ("Edge detection (diagonal)", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]], 1),
    "edge-all": ("Edge detection (all directions)",
                 [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], 1),
    "laplacian": ("Laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]], 1),
    "sharpen": ("Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], 1),
    "box-blur": ("Box blur", [[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "gaussian-blur": ("Gaussian blur", [[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "sobel-x": ("Sobel x (vertical edges)", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 1),
    "sobel-y": ("Sobel y (horizontal edges)", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], 1),
}


def classic_kernel(name):
    """The named 3x3 kernel as a float32 array (see ``CLASSIC_KERNELS``)."""
    if name not in CLASSIC_KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose from {', '.join(CLASSIC_KERNELS)}")
    _, matrix, scale = CLASSIC_KERNELS[name]
    return (np.array(matrix, dtype=np.float64) * scale).astype(np.float32)


def apply_kernel(image, kernel, padding="same"):
    """``F.conv2d`` of a 2-D image (H, W) with a 2-D kernel; padding 'same' or 'valid'
    (or an int). Returns a float32 array."""
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"apply_kernel: expected a 2-D image and a 2-D kernel, got shapes "
                         f"{image.shape} and {kernel.shape}")
    if padding == "valid" and any(k > s for k, s in zip(kernel.shape, image.shape)):
        raise ValueError(f"apply_kernel: the {kernel.shape[0]}x{kernel.shape[1]} kernel is "
                         f"larger than the {image.shape[0]}x{image.shape[1]} image")
    with no_grad():
        out = F.conv2d(tensor(image[None, None]), tensor(kernel[None, None]), padding=padding)
    return out.numpy()[0, 0]


def load_grey_image(path, max_side=512):
    """An image file as grey levels in [0, 1] (H, W); larger images are shrunk so their
    longer side is ``max_side`` pixels."""
    from PIL import Image
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such image file: {str(path)!r}")
    try:
        with Image.open(path) as img:
            img = img.convert("L")
            if max(img.size) > max_side:
                ratio = max_side / max(img.size)
                img = img.resize((max(1, round(img.width * ratio)),
                                  max(1, round(img.height * ratio))), Image.LANCZOS)
            return np.asarray(img, dtype=np.float32) / 255.0
    except OSError as err:
        raise ValueError(f"cannot read {str(path)!r} as an image: {err}") from None


def _kernel_text(name):
    _, matrix, scale = CLASSIC_KERNELS[name]
    width = max(len(str(v)) for row in matrix for v in row)
    rows = ["[" + " ".join(f"{v:>{width}}" for v in row) + "]" for row in matrix]
    prefix = "" if scale == 1 else f"1/{round(1 / scale)} × "
    return "\n".join((prefix if i == 1 else " " * len(prefix)) + r for i, r in enumerate(rows))


def _display_range(values, percent=0.5):
    """Colour limits that ignore the most extreme ``percent`` % on each side (the zero
    padding of 'same' makes large values on the border that would wash out the rest)."""
    low, high = np.percentile(values, [percent, 100 - percent])
    if high <= low:
        low, high = float(values.min()), float(values.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def plot_kernel_grid(image, path, names=None, title="Classic kernels", columns=5):
    """The image and its convolution with each kernel (``same`` padding), one labelled
    panel each: the kernel's values, the 'same' and 'valid' output sizes, a colour bar
    (edge detectors give signed outputs, so the scale matters). Returns ``path``."""
    image = np.asarray(image, dtype=np.float32)
    names = list(CLASSIC_KERNELS) if names is None else list(names)
    for name in names:
        classic_kernel(name)  # unknown names fail before drawing
    h, w = image.shape
    valid = (conv_output_size(h, 3), conv_output_size(w, 3))
    if min(valid) < 1:
        raise ValueError(f"plot_kernel_grid: the image ({h}x{w}) is smaller than the 3x3 "
                         f"kernels")
    count = len(names) + 1
    rows = -(-count // columns)
    aspect = h / w
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, (3.0 * aspect + 1.6) * rows),
                             squeeze=False)
    panels = [("Original image", image, f"{h}x{w} pixels, grey levels in [0, 1]")]
    for name in names:
        output = apply_kernel(image, classic_kernel(name), "same")
        panels.append((CLASSIC_KERNELS[name][0] + "\n" + _kernel_text(name), output,
                       f"same: {h}x{w}   valid: {valid[0]}x{valid[1]}"))
    for ax, (panel_title, values, caption) in zip(axes.ravel(), panels):
        low, high = _display_range(values)
        shown = ax.imshow(values, cmap="gray", vmin=low, vmax=high)
        clipped = values.min() < low or values.max() > high
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, extend="both" if clipped else
                     "neither", label="pixel value" + (" (clipped)" if clipped else ""))
        ax.set_title(panel_title, fontsize=9, family="monospace")
        ax.set_xlabel(caption, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[count:]:
        ax.axis("off")
    fig.suptitle(f"{title}: each panel is F.conv2d(image, kernel, padding='same'); colours "
                 f"span the 0.5-99.5 percentiles of its values", fontsize=12)
    fig.tight_layout()
    return save(fig, path)
