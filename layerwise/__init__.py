"""layerwise: a deep learning framework written from scratch on NumPy.

    import layerwise as lw
    from layerwise import nn, optim
    import layerwise.nn.functional as F

The public names follow PyTorch's (``lw.tensor``, ``nn.Conv2d``, ``optim.Adam``...).
"""
from .autograd import (Function, Size, Tensor, enable_grad, gradcheck,  # noqa: F401
                       inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from .autograd.factories import (arange, as_tensor, bool_, double, empty, eye,  # noqa: F401
                                 float16, float32, float64, from_numpy, full, full_like,
                                 get_default_dtype, half, int32, int64, is_tensor, linspace,
                                 long, ones, ones_like, rand, randint, randn, randperm,
                                 set_default_dtype, tensor, uint8, zeros, zeros_like)
from .autograd.ops import (abs, amax, amin, argmax, argmin, cat, chunk, clamp, clip,  # noqa: F401
                           concatenate, exp, flatten, flip, log, logsumexp, matmul, max,
                           maximum, mean, min, minimum, norm, permute, relu, reshape,
                           sigmoid, split, sqrt, squeeze, stack, std, sum, tanh, transpose,
                           unbind, unsqueeze, var, where)
from .autograd.random import get_rng, get_rng_state, manual_seed, seed, set_rng_state  # noqa: F401

__version__ = "0.1.0"

from . import nn, optim  # noqa: E402,F401
