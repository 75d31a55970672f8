"""Normalization layers: ``BatchNorm1d``/``2d``/``3d`` and ``LayerNorm``.

Batch norm keeps running estimates of each channel's mean and variance in buffers
(``running_mean``, ``running_var``, and ``num_batches_tracked``, a 0-d int64 count),
saved in ``state_dict`` under PyTorch's names. In training mode it normalizes with
the batch's statistics and updates the running ones; in eval mode it uses the
running ones, so a single sample gives a deterministic answer.
"""
import numpy as np

from ..autograd.tensor import Tensor
from . import functional as F
from .functional.normalization import BatchNormInference, BatchNormTraining
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm"]


class _BatchNorm(Module):
    #: accepted input dimensions, and how to describe them in an error
    dims, layout = (), ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        n = self.num_features
        if affine:
            self.weight = Parameter(np.ones(n, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(n, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(n, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(n, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def _check_input(self, input):
        name, x = type(self).__name__, input.data
        if x.ndim not in self.dims:
            expected = " or ".join(f"{d}-D" for d in self.dims)
            raise RuntimeError(f"{name}: expected {expected} input {self.layout}, got "
                               f"{x.ndim}-D input of shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise RuntimeError(f"{name}: expected input with {self.num_features} channels "
                               f"(num_features), got shape {tuple(x.shape)}")
        dtype = self.weight.data.dtype if self.weight is not None else (
            self.running_mean.data.dtype if self.running_mean is not None else x.dtype)
        if x.dtype != dtype:
            raise RuntimeError(f"{name}: input dtype {x.dtype} does not match the layer's "
                               f"dtype {dtype}; convert one of them (x.float() or "
                               f"module.double())")

    def forward(self, input):
        self._check_input(input)
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            if input.data.size // self.num_features <= 1:
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per "
                                 f"channel when training, got input of shape "
                                 f"{tuple(input.shape)}")
            update = self.training and self.track_running_stats
            factor = 0.0
            if update:
                self.num_batches_tracked.data += 1
                factor = (1.0 / float(self.num_batches_tracked.data) if self.momentum is None
                          else self.momentum)
            return BatchNormTraining.apply(
                input, self.weight, self.bias,
                running_mean=self.running_mean.data if update else None,
                running_var=self.running_var.data if update else None,
                momentum=float(factor), eps=float(self.eps))
        return BatchNormInference.apply(input, self.weight, self.bias,
                                        mean=self.running_mean.data,
                                        var=self.running_var.data, eps=float(self.eps))

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over the channels of an (N, C) or (N, C, L) input."""

    dims, layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over the channels (feature maps) of an (N, C, H, W) input."""

    dims, layout = (4,), "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm over the channels of an (N, C, D, H, W) input."""

    dims, layout = (5,), "(N, C, D, H, W)"


class LayerNorm(Module):
    """Normalizes each sample over its last dimensions (``normalized_shape``).

    weight (ones) and bias (zeros) have shape ``normalized_shape`` when
    ``elementwise_affine``; ``bias=False`` keeps only the weight.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = np.dtype(dtype or np.float32)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.elementwise_affine:
            self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


__all__ += ["LocalResponseNorm"]


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet, ZF Net):
    b_c = a_c / (k + α/n Σ_{c' near c} a_{c'}²)^β over ``size`` = n neighbouring channels.

    No parameters. Input (N, C, ...) with at least 3 dimensions; output of the same shape.
    AlexNet's constants are size=5, alpha=1e-4, beta=0.75, k=2.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
