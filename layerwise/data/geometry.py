"""Vectorized geometric warps of image batches (the kernels behind augmentation).

An affine warp maps each output pixel back to a source position (inverse mapping)
and reads the source there by bilinear interpolation, for the whole batch at once:

    source = A⁻¹ (output - centre - shift) + centre

with A = rotation(θ) · scale(s). Angles are in degrees, counter-clockwise on the
screen (torchvision's convention); shifts in pixels, +x to the right, +y down.
Pixels whose source falls outside the image take the ``fill`` value.
"""
import numpy as np


def inverse_affine_matrices(angles_deg, scales, shifts_xy, height, width):
    """(N, 2, 3) matrices taking output (x, y, 1) to source (x, y) pixel coordinates."""
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    scales = np.asarray(scales, dtype=np.float64)
    shifts = np.asarray(shifts_xy, dtype=np.float64).reshape(-1, 2)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    cos, sin = np.cos(theta) / scales, np.sin(theta) / scales
    # rows point down, so a counter-clockwise turn on screen is clockwise in (x, y=row)
    m = np.empty((len(theta), 2, 3))
    m[:, 0, 0], m[:, 0, 1] = cos, -sin
    m[:, 1, 0], m[:, 1, 1] = sin, cos
    ox = cx + shifts[:, 0]
    oy = cy + shifts[:, 1]
    m[:, 0, 2] = cx - (m[:, 0, 0] * ox + m[:, 0, 1] * oy)
    m[:, 1, 2] = cy - (m[:, 1, 0] * ox + m[:, 1, 1] * oy)
    return m


def warp_affine(images, matrices, fill=0.0):
    """Resample ``images`` (N, C, H, W) at the source positions given by ``matrices``."""
    n, c, h, w = images.shape
    dtype = images.dtype if images.dtype.kind == "f" else np.float32
    rows, cols = np.mgrid[0:h, 0:w].astype(dtype).reshape(2, 1, h * w)
    m = matrices.astype(dtype)[:, :, :, None]
    src_x = m[:, 0, 0] * cols + m[:, 0, 1] * rows + m[:, 0, 2]      # (N, H*W)
    src_y = m[:, 1, 0] * cols + m[:, 1, 1] * rows + m[:, 1, 2]
    x0, y0 = np.floor(src_x), np.floor(src_y)
    wx, wy = src_x - x0, src_y - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    planes = images.reshape(n * c, h * w)
    base = (np.arange(n) * (c * h * w))[:, None]
    channel = (np.arange(c) * (h * w))[None, :, None]
    out = np.zeros((n, c, h * w), dtype=dtype)
    for dy, dx, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                           (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        index = base + np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)    # (N, H*W)
        values = np.take(planes, index[:, None, :] + channel)               # (N, C, H*W)
        values = np.where(inside[:, None, :], values, dtype.type(fill))
        out += values * weight[:, None, :]
    return out.reshape(n, c, h, w)


def crop_batch(images, tops, lefts, height, width):
    """Per-image crops ``images[i, :, tops[i]:tops[i]+height, lefts[i]:lefts[i]+width]``."""
    n, c = images.shape[:2]
    rows = (np.asarray(tops)[:, None] + np.arange(height))[:, None, :, None]
    cols = (np.asarray(lefts)[:, None] + np.arange(width))[:, None, None, :]
    return images[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


def rectangle_masks(tops, lefts, heights, widths, height, width):
    """Boolean (N, 1, H, W) masks that are True inside each image's rectangle."""
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    t, l_ = np.asarray(tops)[:, None, None], np.asarray(lefts)[:, None, None]
    h, w = np.asarray(heights)[:, None, None], np.asarray(widths)[:, None, None]
    return ((rows >= t) & (rows < t + h) & (cols >= l_) & (cols < l_ + w))[:, None]
