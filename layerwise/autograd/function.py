"""``Function``: one differentiable operation, forward and backward side by side.

A subclass computes on plain ndarrays::

    class Mul(Function):
        '''z = a * b;  dL/da = g * b,  dL/db = g * a'''
        def forward(self, a, b):
            self.a, self.b = a, b            # save only what backward needs
            return a * b
        def backward(self, g):
            return g * self.b, g * self.a    # one gradient per tensor input

``Mul.apply(x, y)`` unwraps the tensors, runs ``forward``, and, when gradients are
being recorded and some input requires them, links the result to this node of the
graph. Positional arguments of ``apply`` are tensors (or ``None`` for an absent
optional input such as a bias); keyword arguments are plain parameters.

Rules every subclass follows:
- ``backward`` returns one array (or ``None``) per positional input, shaped like it;
- it never modifies ``grad_output`` in place (it may be shared with other nodes);
- ``self.needs_input_grad[i]`` tells whether input ``i`` wants a gradient, so
  backward can skip work (and forward can skip saving).
"""
from .grad_mode import is_grad_enabled


_NO_GRADS = {n: (False,) * n for n in range(8)}


class Function:
    """Base class of every differentiable operation (a node of the graph)."""

    #: tensors this node was applied to (set only when the graph is recorded)
    inputs = ()
    #: one bool per positional input: does it need a gradient?
    needs_input_grad = ()

    def forward(self, *arrays, **params):  # pragma: no cover - interface
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, grad_output):  # pragma: no cover - interface
        raise NotImplementedError(
            f"{type(self).__name__} is not differentiable (no backward defined)")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the operation on tensors; record it in the graph when needed."""
        fn = cls()
        if is_grad_enabled():
            needs = tuple([t is not None and t.requires_grad for t in inputs])
            record = True in needs
        else:
            record = False
        fn.needs_input_grad = needs if record else _NO_GRADS.get(len(inputs)) or \
            (False,) * len(inputs)
        out = fn.forward(*[None if t is None else t.data for t in inputs], **params)
        if record:
            fn.inputs = inputs
            return Tensor._from_op(out, fn)
        return Tensor._from_op(out, None)

    def release(self):
        """Drop what forward saved, once backward has used it (frees the graph)."""
        self.__dict__.clear()
        self.released = True

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}Backward>"


from .tensor import Tensor  # noqa: E402  (Tensor needs Function defined first)
