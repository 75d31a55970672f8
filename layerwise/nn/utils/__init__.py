"""Utilities on parameters and gradients (PyTorch's ``torch.nn.utils``).

- ``clip_grad_norm_`` / ``clip_grad_value_`` (and ``get_total_norm``,
  ``clip_grads_with_norm_``): gradient clipping, in ``clip_grad.py``;
- ``rnn``: ``PackedSequence``, ``pad_sequence``, ``pack_padded_sequence``... for
  variable-length batches of recurrent layers;
- ``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat
  vector and back (for line searches, second-order methods, weight averaging).
"""
from ...autograd.ops import cat
from ...autograd.tensor import Tensor
from . import rnn  # noqa: F401  (nn.utils.rnn: packed sequences)
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated in order, one 1-D Tensor (differentiable)."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into each parameter, in order.

    Each parameter gets a new array in its own dtype (PyTorch instead makes the
    parameters views of ``vec``; here later changes to ``vec`` do not leak in).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    if vec.data.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector, got shape "
                         f"{tuple(vec.data.shape)}")
    parameters = list(parameters)
    needed = sum(p.data.size for p in parameters)
    if vec.data.size != needed:
        raise ValueError(f"vector_to_parameters: the vector has {vec.data.size} entries, "
                         f"the parameters {needed}")
    start = 0
    for p in parameters:
        size = p.data.size
        p.data = vec.data[start:start + size].reshape(p.data.shape).astype(p.data.dtype)
        start += size
