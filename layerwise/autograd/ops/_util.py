"""Turning Python numbers and arrays into tensors that fit their partner's dtype."""
import numpy as np

from ..tensor import Tensor


def as_tensor_like(value, like):
    """``value`` as a constant tensor; Python numbers take ``like``'s float dtype (no promotion)."""
    if isinstance(value, Tensor):
        return value
    dtype = like.data.dtype if isinstance(like, Tensor) else None
    if dtype is not None and dtype.kind != "f":
        dtype = np.float32 if isinstance(value, float) else None
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return Tensor._from_op(value, None)
    return Tensor._from_op(np.asarray(value, dtype=dtype), None)


def pair(a, b):
    """Both operands of a binary op as tensors (at least one of them already is)."""
    if isinstance(a, Tensor):
        return a, as_tensor_like(b, a)
    return as_tensor_like(a, b), b
