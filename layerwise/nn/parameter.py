"""``Parameter``: a tensor that a ``Module`` learns (registered when assigned as attribute)."""
import numpy as np

from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules list in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data
        data = np.asarray(data)
        if data.dtype.kind != "f":
            data = data.astype(np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor a module keeps in its state (e.g. running statistics) but does not learn."""

    __slots__ = ("persistent",)

    def __init__(self, data, persistent=True):
        super().__init__(data.data if isinstance(data, Tensor) else data)
        self.persistent = persistent
