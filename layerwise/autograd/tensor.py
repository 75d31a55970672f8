"""``Tensor``: an ndarray that remembers how it was computed.

A tensor holds its values in ``data`` (a NumPy array), and, when it was produced by
a recorded operation, the node that produced it (``grad_fn``). Calling
``backward()`` on a scalar result fills ``.grad`` of every leaf tensor created with
``requires_grad=True``. The methods mirror PyTorch's (``t.sum(dim=1, keepdim=True)``,
``t.view(-1, 4)``, ``t.permute(0, 2, 3, 1)``); each is a thin call into
``layerwise.autograd.ops``, where the ``Function`` with its backward lives.
"""
import numpy as np

from .grad_mode import is_grad_enabled


class Tensor:
    """A multi-dimensional array with automatic differentiation."""

    __slots__ = ("data", "grad", "requires_grad", "_grad_fn", "_hooks", "_post_hooks",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False):
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._grad_fn = None
        self._hooks = None
        self._post_hooks = None
        self._retains_grad = False
        if requires_grad and data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, "
                               f"got dtype {data.dtype}")

    @classmethod
    def _from_op(cls, data, grad_fn):
        """Wrap an operation's result (no copy, no checks: the hot path)."""
        t = cls.__new__(cls)
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)
        t.data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t._grad_fn = grad_fn
        t._hooks = None
        t._post_hooks = None
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------- graph
    @property
    def grad_fn(self):
        """The node that produced this tensor, or ``None`` for a leaf."""
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    def backward(self, gradient=None, retain_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad; add it to ``.grad``."""
        from .engine import default_grad, run_backward

        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not "
                               "have a grad_fn: nothing to differentiate")
        if gradient is None:
            grad = default_grad(self)
        else:
            grad = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if grad.shape != self.data.shape:
                raise RuntimeError(f"backward: gradient has shape {grad.shape}, "
                                   f"expected {self.data.shape} (the tensor's shape)")
            grad = grad.astype(self.data.dtype, copy=False)
        run_backward(self, grad, retain_graph, _wrap_grad)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always do)."""
        if self._grad_fn is not None:
            self._retains_grad = True
            self._grad_fn.retained_output = self

    def register_hook(self, hook):
        """Call ``hook(grad) -> Tensor or None`` on this tensor's gradient during backward."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
        self._hooks = (self._hooks or []) + [hook]
        if self._grad_fn is not None:
            self._grad_fn.retained_output = self
        return _RemovableHandle(self, "_hooks", hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a leaf's ``.grad`` has been accumulated."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks can only be registered on leaves")
        self._post_hooks = (self._post_hooks or []) + [hook]
        return _RemovableHandle(self, "_post_hooks", hook)

    def detach(self):
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._from_op(self.data, None)

    def detach_(self):
        self._grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use detach() to get a tensor outside the graph")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, "
                               f"got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    # ----------------------------------------------------------- conversion
    def numpy(self):
        """The underlying ndarray (shared memory). Refuses when a graph is attached."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be "
                             f"converted to a Python scalar")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def clone(self):
        return ops.clone(self)

    def to(self, dtype=None, *args, **kwargs):
        """Cast to ``dtype`` (devices other than 'cpu' are rejected)."""
        if isinstance(dtype, str) and dtype in ("cpu",):
            return self
        if isinstance(dtype, str):
            raise RuntimeError(f"device {dtype!r} is not available: layerwise runs on the CPU")
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return ops.cast(self, dtype)

    type = to

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return Tensor(self.data.astype(np.int64))

    def int(self):
        return Tensor(self.data.astype(np.int32))

    def bool(self):
        return Tensor(self.data.astype(bool))

    def cpu(self):
        return self

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # ----------------------------------------------------------- attributes
    @property
    def shape(self):
        return Size(self.data.shape)

    def size(self, dim=None):
        return Size(self.data.shape) if dim is None else self.data.shape[dim]

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def nelement(self):
        return self.data.size

    def element_size(self):
        return self.data.itemsize

    @property
    def device(self):
        return "cpu"

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self._grad_fn is not None:
            extra += f", grad_fn={self._grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    __hash__ = object.__hash__

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


class Size(tuple):
    """The shape of a tensor: a tuple, printed like PyTorch's ``torch.Size``."""

    def __repr__(self):
        return f"Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


class _RemovableHandle:
    def __init__(self, tensor, attribute, hook):
        self.tensor, self.attribute, self.hook = tensor, attribute, hook

    def remove(self):
        hooks = [h for h in getattr(self.tensor, self.attribute) or () if h is not self.hook]
        setattr(self.tensor, self.attribute, hooks or None)


def _wrap_grad(array):
    return Tensor._from_op(array, None)


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


from . import ops  # noqa: E402  (the ops need Tensor defined first)
