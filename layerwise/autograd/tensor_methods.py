"""The operators and PyTorch-style methods of ``Tensor`` (arithmetic, math, reductions, shape).

Each method is a thin call into ``layerwise.autograd.ops``, where the ``Function``
with its backward lives; comparisons and in-place updates act on ``data`` directly
and never carry gradients.
"""
import numpy as np

from .grad_mode import is_grad_enabled


class TensorMethods:
    """Mixed into ``Tensor``: everything you can compute with a tensor."""

    __slots__ = ()

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __iadd__(self, other):
        return _inplace(self, ops.add, other)

    def __isub__(self, other):
        return _inplace(self, ops.sub, other)

    def __imul__(self, other):
        return _inplace(self, ops.mul, other)

    def __itruediv__(self, other):
        return _inplace(self, ops.div, other)

    # comparisons give boolean tensors and never carry gradients
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def __eq__(self, other):
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor(self.data != _raw(other))

    def eq(self, other):
        return self == other

    def __and__(self, other):
        return Tensor(self.data & _raw(other))

    def __or__(self, other):
        return Tensor(self.data | _raw(other))

    def __invert__(self):
        return Tensor(~self.data)

    def add(self, other, alpha=1):
        return ops.add(self, other if alpha == 1 else ops.mul(other, alpha))

    def sub(self, other, alpha=1):
        return ops.sub(self, other if alpha == 1 else ops.mul(other, alpha))

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def matmul(self, other):
        return ops.matmul(self, other)

    def mm(self, other):
        return ops.matmul(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    # ---------------------------------------------------------- elementwise
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def clamp(self, min=None, max=None):
        return ops.clamp(self, min, max)

    clip = clamp

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def relu(self):
        return ops.relu(self)

    def softmax(self, dim):
        from ..nn.functional import softmax
        return softmax(self, dim)

    def log_softmax(self, dim):
        from ..nn.functional import log_softmax
        return log_softmax(self, dim)

    def sign(self):
        return Tensor(np.sign(self.data))

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    # ----------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False):
        return ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.mean(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return ops.var(self, dim, keepdim, unbiased=unbiased, correction=correction)

    def std(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return ops.std(self, dim, keepdim, unbiased=unbiased, correction=correction)

    def max(self, dim=None, keepdim=False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return ops.amin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return ops.logsumexp(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.argmin(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        return ops.norm(self, p, dim, keepdim)

    def all(self):
        return Tensor(np.all(self.data))

    def any(self):
        return Tensor(np.any(self.data))

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        return ops.reshape(self, _shape_args(shape))

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.permute(self, _shape_args(dims))

    @property
    def T(self):
        return ops.permute(self, tuple(reversed(range(self.data.ndim))))

    def t(self):
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.data.ndim}")
        return self.T

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def repeat(self, *sizes):
        return ops.repeat(self, _shape_args(sizes))

    def contiguous(self):
        return self

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)

    def flip(self, dims):
        return ops.flip(self, dims)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("in-place assignment into a tensor that requires grad would "
                               "break its gradient; do it under lw.no_grad() or build a new tensor")
        self.data[_raw_index(index)] = _raw(value)

    # ------------------------------------------------------------- in place
    def zero_(self):
        self.data[...] = 0
        return self

    def fill_(self, value):
        self.data[...] = value
        return self

    def copy_(self, src):
        self.data[...] = _raw(src)
        return self

    def add_(self, other, alpha=1):
        self.data += alpha * _raw(other) if alpha != 1 else _raw(other)
        return self

    def mul_(self, other):
        self.data *= _raw(other)
        return self

    def sub_(self, other, alpha=1):
        self.data -= alpha * _raw(other) if alpha != 1 else _raw(other)
        return self

    def div_(self, other):
        self.data /= _raw(other)
        return self

    def clamp_(self, min=None, max=None):
        np.clip(self.data, min, max, out=self.data)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from .random import normal_
        normal_(self.data, mean, std)
        return self

    def uniform_(self, a=0.0, b=1.0):
        from .random import uniform_
        uniform_(self.data, a, b)
        return self


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _shape_args(args):
    """Accept both ``t.view(2, 3)`` and ``t.view((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _inplace(tensor, op, other):
    """``a += b``: in place on the data when no graph is involved, else out of place."""
    if not tensor.requires_grad and not (isinstance(other, Tensor) and other.requires_grad):
        result = op(tensor, other).data
        if result.shape == tensor.data.shape:
            tensor.data[...] = result
            return tensor
    return op(tensor, other)


# Set by tensor.py once ``Tensor`` exists (the ops import Tensor, which imports this
# module to build its class): the class for results, and the differentiable ops.
Tensor = None
ops = None
