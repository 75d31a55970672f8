"""Gradient clipping (PyTorch's ``torch.nn.utils.clip_grad_norm_`` and friends).

Clipping by norm rescales all gradients together so that their total norm,

    ‖g‖_p = (Σ_params Σ_entries |g|^p)^(1/p)      (max |g| for p = inf),

is at most ``max_norm``: every gradient is multiplied by
min(1, max_norm / (‖g‖_p + 1e-6)). This keeps the direction of the update and tames
exploding gradients (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
recurrent neural networks"). Clipping by value clamps each entry to [-c, c].

Gradients are rescaled by assigning new arrays (``p.grad.data = p.grad.data * c``),
never in place: a gradient array may be shared with another tensor.
"""
import numpy as np

from ...autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _sum_of_powers(array, p):
    """Σ |a|^p of one gradient, as a Python float."""
    flat = array.reshape(-1)
    if p == 2.0:
        return float(np.dot(flat, flat))
    if p == 1.0:
        return float(np.abs(flat).sum())
    with np.errstate(divide="ignore"):
        return float((np.abs(flat) ** p).sum())


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all ``tensors`` together (as if concatenated), a 0-d Tensor.

    ``norm_type`` may be any nonzero float, ``inf`` (largest |entry|), ``-inf``
    (smallest) or 0 (PyTorch's: the number of tensors with a nonzero entry).
    ``foreach`` is accepted for PyTorch compatibility and ignored.
    """
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*arrays)
    if norm_type == np.inf:
        total = max(float(np.abs(a).max(initial=0.0)) for a in arrays)
    elif norm_type == -np.inf:
        total = min(float(np.abs(a).min(initial=np.inf)) for a in arrays)
    elif norm_type == 0.0:
        total = float(sum(1 for a in arrays if np.count_nonzero(a)))
    else:
        with np.errstate(divide="ignore", over="ignore"):
            total = sum(_sum_of_powers(a, norm_type) for a in arrays) ** (1.0 / norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    return Tensor(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), PyTorch's coefficient."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    norm = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    scalar = norm.dtype.type if norm.dtype.kind == "f" else np.float32
    # in the norm's precision, as PyTorch computes it
    coefficient = float(scalar(max_norm) / (scalar(norm) + scalar(1e-6)))
    if coefficient >= 1.0:  # PyTorch multiplies by the clamped 1.0: nothing changes
        return
    with np.errstate(invalid="ignore"):    # inf · 0 = nan, as in PyTorch
        for grad in grads:
            grad.data = grad.data * coefficient   # a new array: the old one may be shared


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped
            (those without a gradient are ignored).
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm (``float('inf')`` for the max norm).
        error_if_nonfinite: raise ``RuntimeError`` if the total norm is nan or inf
            (otherwise the gradients are multiplied by the resulting nan or 0).

    Returns:
        the total norm of the gradients *before* clipping (a 0-d Tensor).
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry of ``parameters`` to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad.data = np.clip(p.grad.data, -clip_value, clip_value)
