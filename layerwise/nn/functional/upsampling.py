"""Resizing images: ``F.interpolate`` (nearest and bilinear), PyTorch's conventions exactly.

Both modes are separable: along each axis an output row is a fixed combination of input
rows, so the whole resize is two small matrix products,

    y = A_H · x · A_Wᵀ        (A_H: H_out x H_in, A_W: W_out x W_in)
    dL/dx = A_Hᵀ · dL/dy · A_W

with the rows of A given by PyTorch's index rules (s = 1/scale_factor when a scale
factor is given, else in/out; computed in float32 like PyTorch's CPU kernels):

- nearest:        src = min(floor(dst · s), in - 1)                 (one 1 per row)
- nearest-exact:  src = min(floor((dst + 0.5) · s), in - 1)
- bilinear, align_corners=False: src = max((dst + 0.5)·s - 0.5, 0), then
  i0 = floor(src), i1 = min(i0 + 1, in - 1), λ = min(src - i0, 1): weights (1 - λ, λ)
- bilinear, align_corners=True:  src = dst · (in - 1)/(out - 1) (0 if out == 1), same weights.
"""
import math

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend.blas import matmul

__all__ = ["interpolate", "upsample", "interpolation_matrix"]

MODES = ("nearest", "nearest-exact", "bilinear")


def _scale(in_size, out_size, scale_factor):
    """PyTorch's ``compute_scales_value``: 1/scale_factor if given, else in/out (float32)."""
    if scale_factor is not None and scale_factor > 0:
        return np.float32(1.0 / scale_factor)
    return np.float32(in_size) / np.float32(out_size)


def interpolation_matrix(in_size, out_size, mode, align_corners=False, scale_factor=None):
    """The (out_size, in_size) float64 matrix A of one axis: y = A · x along that axis."""
    dst = np.arange(out_size, dtype=np.float32)
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        scale = _scale(in_size, out_size, scale_factor)
        offset = np.float32(0.5) if mode == "nearest-exact" else np.float32(0)
        src = np.floor((dst + offset) * scale).astype(np.int64)
        matrix[rows, np.minimum(src, in_size - 1)] = 1.0
        return matrix
    if align_corners:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1) if out_size > 1 else \
            np.float32(0)
        src = dst * scale
    else:
        scale = _scale(in_size, out_size, scale_factor)
        src = np.maximum(scale * (dst + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    i0 = src.astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = np.minimum(src - i0.astype(np.float32), np.float32(1))
    np.add.at(matrix, (rows, i0), 1 - lam.astype(np.float64))
    np.add.at(matrix, (rows, i1), lam.astype(np.float64))
    return matrix


class Interpolate(Function):
    """y = A_H · x · A_Wᵀ (nearest: a gather); dL/dx = A_Hᵀ · dL/dy · A_W."""

    def forward(self, x, size=(1, 1), mode="nearest", align_corners=False, scales=(None, None)):
        heights = interpolation_matrix(x.shape[2], size[0], mode, align_corners, scales[0])
        widths = interpolation_matrix(x.shape[3], size[1], mode, align_corners, scales[1])
        self.rows, self.cols = heights.astype(x.dtype), widths.astype(x.dtype)
        if mode.startswith("nearest"):
            return np.ascontiguousarray(x[:, :, heights.argmax(axis=1)][..., widths.argmax(axis=1)])
        return matmul(matmul(self.rows, x), self.cols.T)

    def backward(self, grad_output):
        return (matmul(matmul(self.rows.T, grad_output), self.cols),)


def _sizes(name, input, size, scale_factor, recompute_scale_factor):
    """(output size (H, W), scale factors passed to the kernel) by PyTorch's rules."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: give exactly one of size and scale_factor (got size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
        if len(size) != 2:
            raise ValueError(f"{name}: size must be an int or a pair (H, W) for a 4-D input, "
                             f"got {size!r}")
        if min(size) <= 0:
            raise ValueError(f"{name}: size must be positive, got {size}")
        return size, (None, None)
    factors = (scale_factor, scale_factor) if np.isscalar(scale_factor) else tuple(scale_factor)
    if len(factors) != 2 or min(factors) <= 0:
        raise ValueError(f"{name}: scale_factor must be a positive number or a pair, got "
                         f"{scale_factor!r}")
    out = tuple(int(math.floor(float(n) * float(f))) for n, f in zip(input.shape[2:], factors))
    if min(out) <= 0:
        raise ValueError(f"{name}: scale_factor {scale_factor!r} gives an empty output for input "
                         f"of shape {tuple(input.shape)}")
    return out, ((None, None) if recompute_scale_factor else tuple(float(f) for f in factors))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False, _name="interpolate"):
    """Resize a batch of images (N, C, H, W) to ``size`` or by ``scale_factor``.

    mode: 'nearest' (default), 'nearest-exact' or 'bilinear'; align_corners (bilinear
    only, default False) maps the corner pixels' centres onto each other.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{_name}: expected input to be a Tensor, got {type(input).__name__}")
    if input.data.ndim != 4:
        raise NotImplementedError(f"{_name}: only 4-D inputs (N, C, H, W) are supported, got "
                                  f"input of shape {tuple(input.shape)}")
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{_name}: expected a floating point input, got {input.data.dtype}")
    if mode not in MODES:
        raise NotImplementedError(f"{_name}: mode {mode!r} is not supported; choose from "
                                  f"{', '.join(MODES)}")
    if align_corners is not None and mode != "bilinear":
        raise ValueError(f"{_name}: align_corners option can only be set with the interpolating "
                         f"modes: linear | bilinear | bicubic | trilinear (mode is {mode!r})")
    if antialias:
        raise NotImplementedError(f"{_name}: antialias=True is not supported")
    out_size, scales = _sizes(_name, input, size, scale_factor, recompute_scale_factor)
    return Interpolate.apply(input, size=out_size, mode=mode, align_corners=bool(align_corners),
                             scales=scales)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated PyTorch alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)
