"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``, ...

Default dtypes follow PyTorch: Python floats become float32, Python ints int64;
an ndarray keeps its dtype (float64 data stays float64).
"""
import numpy as np

from .random import get_rng
from .tensor import Tensor

float32 = np.float32
float64 = np.float64
float16 = np.float16
int64 = np.int64
int32 = np.int32
uint8 = np.uint8
bool_ = np.bool_
long = np.int64
double = np.float64
half = np.float16

_default_dtype = np.float32


def set_default_dtype(dtype):
    global _default_dtype
    _default_dtype = np.dtype(dtype).type


def get_default_dtype():
    return np.dtype(_default_dtype)


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        array = np.array(data, dtype=dtype)
        if dtype is None and array.dtype == np.float64:
            array = array.astype(_default_dtype)
    if dtype is None and array.dtype.kind == "i" and not isinstance(data, np.ndarray):
        array = array.astype(np.int64)
    return array


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (list, number, ndarray or Tensor)."""
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """Like :func:`tensor` but shares an ndarray's memory when the dtype already fits."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor(data)
    return tensor(data, dtype)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and dtype."""
    return Tensor(array)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _dtype(dtype):
    return np.dtype(dtype or _default_dtype)


def zeros(*size, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(size), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(size), _dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return Tensor(np.empty(_shape(size), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full(tuple(size), fill_value, _dtype(dtype)), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(np.zeros_like(np.asarray(t), dtype=dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones_like(np.asarray(t), dtype=dtype), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full_like(np.asarray(t), fill_value, dtype=dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and values.dtype == np.float64:
        dtype = _default_dtype
    return Tensor(values.astype(dtype or values.dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return Tensor(np.linspace(start, end, steps, dtype=_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform samples on [0, 1)."""
    rng = generator or get_rng()
    return Tensor(rng.random(_shape(size), dtype=_dtype(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Standard normal samples."""
    rng = generator or get_rng()
    return Tensor(rng.standard_normal(_shape(size), dtype=_dtype(dtype)), requires_grad)


def randint(low, high=None, size=(), dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    rng = generator or get_rng()
    return Tensor(rng.integers(low, high, size=tuple(size)).astype(dtype or np.int64))


def randperm(n, generator=None):
    rng = generator or get_rng()
    return Tensor(rng.permutation(n).astype(np.int64))


def is_tensor(obj):
    return isinstance(obj, Tensor)
