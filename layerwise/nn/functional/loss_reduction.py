"""What the losses share: the reduction of per-element losses and its gradient.

``reduction='none'`` keeps ℓ, ``'sum'`` gives Σℓ, ``'mean'`` gives Σℓ / divisor, where
each loss says what its divisor is (the number of elements, or a sum of weights).
"""
import numpy as np

from ...autograd.tensor import Tensor

__all__ = []

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(name, reduction, size_average=None, reduce=None):
    """``reduction`` is one of 'none', 'mean', 'sum'; the legacy arguments are refused."""
    if size_average is not None or reduce is not None:
        raise ValueError(f"{name}: size_average and reduce are deprecated in PyTorch and "
                         f"not supported; use reduction='none'|'mean'|'sum'")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction "
                         f"(expected 'none', 'mean' or 'sum')")


def reduce_loss(loss, reduction, divisor):
    """ℓ reduced: 'none' -> ℓ, 'sum' -> Σℓ, 'mean' -> Σℓ / divisor (in ℓ's dtype).

    A zero divisor (every target ignored) gives NaN, as in PyTorch, without a warning.
    """
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        if divisor:
            total = total / divisor
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                total = total / np.asarray(0, dtype=loss.dtype)
    return np.asarray(total, dtype=loss.dtype)


def upstream_scale(g, reduction, divisor):
    """dL/dℓ for every element: g ('none', 'sum') or g / divisor ('mean').

    With a zero divisor nothing contributed to the loss, so the scale is 0.
    """
    if reduction == "mean":
        return g / divisor if divisor else g * 0
    return g


def as_constant(value, like, name, what):
    """A weight argument as an ndarray of ``like``'s dtype (no promotion), or None."""
    if value is None:
        return None
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: {what} must be numeric, got dtype {array.dtype}")
    return array.astype(like.data.dtype, copy=False)
