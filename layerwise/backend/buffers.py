"""A pool of reusable scratch arrays.

A fresh multi-megabyte array costs a page fault per 4 KiB page the first time it is
written, which for im2col columns is as much time as the copy that fills them.
Kernels therefore ``take`` big work arrays from this pool and ``give`` them back
when done (a convolution gives its columns back once its backward pass has used
them), so a training loop reuses the same memory step after step. An array that is
never given back is simply freed by Python.
"""
import threading
from collections import defaultdict

import numpy as np

MAX_PER_SHAPE = 4

_lock = threading.Lock()
_free = defaultdict(list)


def take(shape, dtype):
    """An uninitialized array of ``shape`` and ``dtype`` (recycled when possible)."""
    key = (tuple(shape), np.dtype(dtype).str)
    with _lock:
        stack = _free.get(key)
        if stack:
            return stack.pop()
    return np.empty(shape, dtype)


def give(array):
    """Return ``array`` (obtained from ``take``, no longer referenced elsewhere) to the pool."""
    if array is None or array.base is not None:
        return
    key = (array.shape, array.dtype.str)
    with _lock:
        stack = _free[key]
        if len(stack) < MAX_PER_SHAPE:
            stack.append(array)


def clear():
    """Free every pooled array."""
    with _lock:
        _free.clear()
