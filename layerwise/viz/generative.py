"""Pictures of the unsupervised models: image grids, input/reconstruction pairs, 2-D latent
maps coloured by class, images decoded from a latent lattice, training curves of the
loss terms (GAN losses and D(x)/D(G(z)) included), RBM filters, and a GIF of the samples
a fixed noise gives epoch after epoch.

Images are (N, C, H, W) (or (N, H·W) for square grey images) with values in [0, 1].
Every figure has a title, axis labels or captions, and a colour bar where values matter.
"""
import math

import numpy as np

from .plotting import plt, save

__all__ = ["tile_images", "plot_image_grid", "plot_reconstructions", "plot_latent_map",
           "plot_latent_lattice", "plot_curves", "plot_gan_history", "plot_filters_grid",
           "save_gif"]


def _as_images(images):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        side = int(round(math.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"cannot show vectors of {images.shape[1]} values as square images")
        images = images.reshape(-1, 1, side, side)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {images.shape}")
    return images


def tile_images(images, columns=8, pad=1, value=1.0):
    """One (rows·(H+pad), columns·(W+pad)) grey (or (.., 3) RGB) array holding the images."""
    images = _as_images(images)
    n, c, h, w = images.shape
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    canvas = np.full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), value, np.float32)
    for k in range(n):
        r, col = divmod(k, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[:, top:top + h, left:left + w] = images[k]
    return canvas[0] if c == 1 else canvas.transpose(1, 2, 0)


def _colorbar(fig, ax, mappable, label):
    bar = fig.colorbar(mappable, ax=ax, fraction=0.035, pad=0.02)
    bar.set_label(label)


def plot_image_grid(images, path, title, columns=8, xlabel=None):
    """A grid of images with a grey-level colour bar."""
    canvas = tile_images(images, columns)
    fig, ax = plt.subplots(figsize=(0.9 * min(columns, len(images)) + 1.5,
                                    0.9 * math.ceil(len(images) / columns) + 1))
    shown = ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(xlabel or f"{len(images)} images, {columns} per row")
    if canvas.ndim == 2:
        _colorbar(fig, ax, shown, "pixel value")
    return save(fig, path)


def plot_reconstructions(rows, path, title, names=("input", "reconstruction")):
    """Aligned rows of images (e.g. inputs, noisy inputs, reconstructions), each row named."""
    rows = [_as_images(r) for r in rows]
    count = len(rows[0])
    h = rows[0].shape[2]
    canvas = tile_images(np.concatenate(rows), columns=count)
    fig, ax = plt.subplots(figsize=(0.8 * count + 2, 0.9 * len(rows) + 1))
    shown = ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
    ax.set_yticks([1 + (h + 1) * i + h / 2 for i in range(len(rows))])
    ax.set_yticklabels(names)
    ax.set_xticks([])
    ax.set_xlabel(f"{count} test images (columns)")
    ax.set_title(title)
    _colorbar(fig, ax, shown, "pixel value")
    return save(fig, path)


def _two_dimensions(codes):
    """(N, 2) coordinates and axis names: the codes themselves if 2-D, else their 2 PCs."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.shape[1] == 2:
        return codes, ("z₁", "z₂")
    if codes.shape[1] == 1:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))]), ("z₁", "(none)")
    centred = codes - codes.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, ("principal component 1 of the codes",
                                "principal component 2 of the codes")


def plot_latent_map(codes, labels, path, title, classes=None):
    """Codes of test images as points coloured by their class (codes > 2-D: their 2 PCs)."""
    points, (xlabel, ylabel) = _two_dimensions(codes)
    labels = np.asarray(labels)
    count = int(labels.max()) + 1 if labels.size else 1
    fig, ax = plt.subplots(figsize=(8, 6.5))
    shown = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7,
                       vmin=-0.5, vmax=count - 0.5)
    bar = fig.colorbar(shown, ax=ax, ticks=range(count))
    bar.set_label("class")
    if classes is not None:
        bar.ax.set_yticklabels(list(classes)[:count])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save(fig, path)


def plot_latent_lattice(decode, path, title, latent_dim=2, steps=15, span=(0.05, 0.95)):
    """Images decoded from a lattice of (z₁, z₂) at the normal quantiles ``span`` (other
    latent coordinates 0); ``decode(z (M, latent_dim)) -> images``."""
    from scipy.stats import norm
    values = norm.ppf(np.linspace(span[0], span[1], steps))
    z1, z2 = np.meshgrid(values, values[::-1])
    z = np.zeros((steps * steps, latent_dim), np.float32)
    z[:, 0] = z1.ravel()
    if latent_dim > 1:
        z[:, 1] = z2.ravel()
    images = _as_images(decode(z))
    canvas = tile_images(images, steps, pad=0)
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    extent = (values[0], values[-1], values[0], values[-1])
    shown = ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=extent)
    ax.set_xlabel("z₁ (normal quantiles)")
    ax.set_ylabel("z₂" + (" (other coordinates 0)" if latent_dim > 2 else ""))
    ax.set_title(title)
    _colorbar(fig, ax, shown, "pixel value")
    return save(fig, path)


def plot_curves(history, keys, path, title, xlabel="epoch", ylabel="nats per image"):
    """One line per key of ``history`` ({key: [values per epoch]})."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key in keys:
        values = history.get(key)
        if values:
            ax.plot(range(1, len(values) + 1), values, "-o", markersize=3, label=key)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return save(fig, path)


def plot_gan_history(history, path, title="GAN training"):
    """Left: L_D and L_G; right: mean D(x) and D(G(z)) (per logged step)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("loss_d", "discriminator L_D"), ("loss_g", "generator L_G")):
        if history.get(key):
            axes[0].plot(range(1, len(history[key]) + 1), history[key], label=label)
    for key, label in (("d_real", "D(x), real images"), ("d_fake", "D(G(z)), generated")):
        if history.get(key):
            axes[1].plot(range(1, len(history[key]) + 1), history[key], label=label)
    axes[1].axhline(0.5, color="grey", linestyle=":", label="0.5 (D cannot tell)")
    for ax, ylabel in zip(axes, ("loss (BCE)", "mean discriminator output")):
        ax.set_xlabel(history.get("step_unit", "epoch"))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_title("Losses")
    axes[1].set_title("Discriminator outputs")
    fig.suptitle(title)
    return save(fig, path)


def plot_filters_grid(weight, path, title, count=64, image_shape=None):
    """Rows of ``weight`` (units x pixels) drawn as images, blue-white-red around 0."""
    weight = np.asarray(weight)[:count]
    side = image_shape or (int(round(math.sqrt(weight.shape[1]))),) * 2
    columns = min(8, len(weight))
    rows = math.ceil(len(weight) / columns)
    limit = float(np.abs(weight).max()) or 1.0
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns + 1, 1.2 * rows + 0.8),
                             squeeze=False)
    shown = None
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < len(weight):
            shown = ax.imshow(weight[k].reshape(side), cmap="bwr", vmin=-limit, vmax=limit)
            ax.set_title(f"unit {k}", fontsize=7)
        else:
            ax.axis("off")
    fig.suptitle(title)
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.03)
    bar.set_label("weight")
    return save(fig, path)


def save_gif(frames, path, captions=None, scale=3, duration=400):
    """An animated GIF of grey frames in [0, 1] (e.g. tiled sample grids), each captioned."""
    from PIL import Image, ImageDraw
    images = []
    for k, frame in enumerate(frames):
        pixels = (np.clip(np.asarray(frame), 0, 1) * 255).astype(np.uint8)
        image = Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale),
                                               Image.NEAREST).convert("RGB")
        band = Image.new("RGB", (image.width, 18), (255, 255, 255))
        if captions is not None:
            ImageDraw.Draw(band).text((4, 3), captions[k], fill=(0, 0, 0))
        framed = Image.new("RGB", (image.width, image.height + 18), (255, 255, 255))
        framed.paste(band, (0, 0))
        framed.paste(image, (0, 18))
        images.append(framed)
    if not images:
        raise ValueError("save_gif: no frames")
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0)
    return path
