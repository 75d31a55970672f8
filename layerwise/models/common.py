"""What the zoo's architectures share: input checks, weight initialization, and the few
operations between layers (concatenation, padding, adaptive pooling).

The operations between layers are written once for two kinds of values: real
``Tensor``s (training, inference) and the symbolic values of the ONNX exporter
(``layerwise.io.onnx_export``), which record a graph instead of computing. A symbolic
value provides the method of the same name (``cat``, ``pad_channels``,
``adaptive_avg_pool2d``); everything else a forward uses (``+``, ``*``, slicing,
``flatten``, ``relu``, calling layers) both kinds support directly.
"""
import math

import numpy as np

from ..autograd import ops
from ..autograd.random import get_rng
from ..autograd.tensor import Tensor
from ..nn import functional as F

__all__ = ["check_input", "check_image_size", "cat", "pad_channels", "adaptive_avg_pool2d",
           "normal_", "trunc_normal_", "kaiming_normal_", "zeros_", "ones_", "named"]


# ------------------------------------------------------------------ checks
def check_input(x, model, in_channels, min_size=1):
    """``x`` must be (N, in_channels, H, W) with H, W >= ``min_size``; else a clear error."""
    shape = tuple(x.shape)
    if len(shape) != 4:
        hint = " (add a batch dimension with x.unsqueeze(0))" if len(shape) == 3 else ""
        raise RuntimeError(f"{model}: expected a 4-D input (N, C, H, W), got input of shape "
                           f"{shape}{hint}")
    if shape[1] != in_channels:
        raise RuntimeError(f"{model}: expected {in_channels} input channels (in_channels="
                           f"{in_channels}), got input of shape {shape}; build the model with "
                           f"in_channels={shape[1]} or convert the images")
    if min(shape[2:]) < min_size:
        raise RuntimeError(f"{model}: input of {shape[2]}x{shape[3]} pixels is too small, "
                           f"this architecture needs at least {min_size}x{min_size} (its "
                           f"strides and poolings would shrink the feature maps to nothing); "
                           f"resize the images or use a small-input model (resnet20, "
                           f"vgg11_cifar, densenet_bc)")


def check_image_size(image_size, model, min_size):
    """Builders' early check of ``image_size`` (an int, a pair, or None for 'any')."""
    if image_size is None:
        return
    sizes = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    if min(sizes) < min_size:
        raise ValueError(f"{model}: image_size {image_size} is too small, this architecture "
                         f"needs inputs of at least {min_size}x{min_size} pixels; resize the "
                         f"images or use a small-input model (resnet20, vgg11_cifar, "
                         f"densenet_bc)")


def check_in_channels(in_channels, model):
    if isinstance(in_channels, bool) or not isinstance(in_channels, (int, np.integer)) \
            or in_channels < 1:
        raise ValueError(f"{model}: in_channels must be a positive integer, got {in_channels!r}")


def named(model, name):
    """Set the name shown by ``summary`` and in error messages."""
    model.name = name
    return model


# --------------------------------------------------- operations between layers
def cat(tensors, dim=1):
    """Concatenate along ``dim`` (channels by default): DenseNet and Inception."""
    tensors = list(tensors)
    if isinstance(tensors[0], Tensor):
        return ops.cat(tensors, dim)
    return type(tensors[0]).cat(tensors, dim)


def pad_channels(x, before, after):
    """Add ``before`` and ``after`` all-zero channels (the CIFAR ResNets' shortcut A)."""
    if isinstance(x, Tensor):
        return ops.pad(x, ((0, 0), (before, after), (0, 0), (0, 0)))
    return x.pad_channels(before, after)


def adaptive_avg_pool2d(x, output_size):
    """``F.adaptive_avg_pool2d`` for tensors and symbolic values."""
    if isinstance(x, Tensor):
        return F.adaptive_avg_pool2d(x, output_size)
    return x.adaptive_avg_pool2d(output_size)


# ------------------------------------------------------------------ init
# The zoo draws float32 directly from layerwise's generator (lw.manual_seed): the
# same distributions as torch.nn.init, and fast enough for VGG's 100M-weight layers.
def _fill(param, values):
    param.data[...] = values
    return param


def normal_(param, std, mean=0.0):
    """Fill with N(mean, std²)."""
    values = get_rng().standard_normal(param.data.shape, dtype=np.float32)
    values *= np.float32(std)
    if mean:
        values += np.float32(mean)
    return _fill(param, values)


def trunc_normal_(param, std, a=-2.0, b=2.0):
    """Fill with N(0, std²) restricted to [a·std, b·std] (redraws outside)."""
    values = get_rng().standard_normal(param.data.shape, dtype=np.float32)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = get_rng().standard_normal(int(bad.sum()), dtype=np.float32)
        bad = (values < a) | (values > b)
    values *= np.float32(std)
    return _fill(param, values)


def kaiming_normal_(param, mode="fan_in", gain=math.sqrt(2.0)):
    """He et al. (2015): N(0, gain²/fan), fan = fan_in (in·kh·kw) or fan_out (out·kh·kw);
    gain √2 for ReLU (torch.nn.init.kaiming_normal_ with nonlinearity='relu')."""
    shape = param.data.shape
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan = (shape[1] if mode == "fan_in" else shape[0]) * receptive
    return normal_(param, gain / math.sqrt(fan))


def zeros_(param):
    param.data[...] = 0
    return param


def ones_(param):
    param.data[...] = 1
    return param
