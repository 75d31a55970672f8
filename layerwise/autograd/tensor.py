"""``Tensor``: an ndarray that remembers how it was computed.

A tensor holds its values in ``data`` (a NumPy array), and, when it was produced by
a recorded operation, the node that produced it (``grad_fn``). Calling
``backward()`` on a scalar result fills ``.grad`` of every leaf tensor created with
``requires_grad=True``. The methods mirror PyTorch's (``t.sum(dim=1, keepdim=True)``,
``t.view(-1, 4)``, ``t.permute(0, 2, 3, 1)``); each is a thin call into
``layerwise.autograd.ops``, where the ``Function`` with its backward lives.
"""
import numpy as np

from .tensor_methods import TensorMethods


class Tensor(TensorMethods):
    """A multi-dimensional array with automatic differentiation.

    The operators and the PyTorch-style methods (``t.sum(dim=1)``, ``t.view(-1, 4)``...)
    are in ``tensor_methods.TensorMethods``; this class holds the data, the graph
    links and the conversions.
    """

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


from . import ops  # noqa: E402  (the ops need Tensor defined first)
from . import tensor_methods  # noqa: E402

tensor_methods.Tensor, tensor_methods.ops = Tensor, ops
