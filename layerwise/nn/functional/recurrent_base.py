"""What every recurrent layer op shares: the time-step schedule and the final states.

**Layout.** A recurrent op sees its input as *time-major packed rows*: a 2-D array
(rows, features) where time step t owns ``batch_sizes[t]`` consecutive rows, one per
sequence still running at t, the sequences sorted by decreasing length (PyTorch's
``PackedSequence`` layout). A padded batch of B sequences of equal length T is the
special case ``batch_sizes = (B,) * T``: the (T, B, features) array read as
(T·B, features), without a copy. At step t only the first ``batch_sizes[t]`` rows
of the hidden state take part, so a sequence that has ended keeps its last state:
padding never reaches outputs, gradients or final states.

**Work per step.** The input projection of all steps is one GEMM before the loop
(X W_ihᵀ + b, shape (rows, gates·H)); each step adds one GEMM h_{t-1} W_hhᵀ and
elementwise gate maths on preallocated arrays. Backpropagation through time walks
the steps in reverse with one GEMM per step (dh_{t-1} = dA_t W_hh); the weight
gradients are single GEMMs over all steps at the end: dW_ih = dAᵀ X,
dW_hh = dAᵀ H_prev, where H_prev stacks every step's previous hidden state.

**Final states.** The op returns the per-step outputs; the final hidden (and cell)
state come out as *side outputs* (:class:`FinalState` nodes reading the values the
op computed). Their gradients are handed to the op's node, which runs after them
in the backward pass, so no array is copied or sliced to expose them.
"""
import numpy as np

from ...autograd.function import Function
from ...backend.blas import matmul


class TimeSteps:
    """Which rows of the packed input each time step owns.

    ``batch_sizes[t]`` sequences are running at step t (non-increasing in t);
    step t owns rows ``offsets[t] : offsets[t] + batch_sizes[t]``.
    """

    __slots__ = ("batch_sizes", "blocks", "batch", "rows", "uniform", "tables")

    def __init__(self, batch_sizes, name="recurrent layer"):
        sizes = [int(b) for b in batch_sizes]
        if not sizes:
            raise ValueError(f"{name}: empty sequence (no time steps)")
        if sizes[-1] < 1 or any(a < b for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"{name}: batch_sizes must be positive and "
                             f"non-increasing (sequences sorted by decreasing length), "
                             f"got {sizes}")
        self.batch_sizes = tuple(sizes)
        self.batch = sizes[0]
        self.uniform = sizes[-1] == sizes[0]
        blocks, start = [], 0
        for size in sizes:
            blocks.append((start, start + size, size))
            start += size
        self.blocks = tuple(blocks)
        self.rows = start
        self.tables = {}

    @classmethod
    def padded(cls, length, batch):
        """The schedule of a padded (length, batch, features) input."""
        key = (length, batch)
        if key not in _UNIFORM_CACHE:
            if len(_UNIFORM_CACHE) > 64:
                _UNIFORM_CACHE.clear()
            _UNIFORM_CACHE[key] = cls([batch] * length)
        return _UNIFORM_CACHE[key]

    def order(self, reverse):
        """The blocks in processing order (backward in time for the reverse direction)."""
        return self.blocks[::-1] if reverse else self.blocks

    def table(self, reverse):
        """``order(reverse)`` as an int64 array of (start, stop, n) rows, for compiled loops
        (made once per schedule and direction, read-only: padded schedules are cached)."""
        tables = self.tables
        if reverse not in tables:
            table = np.array(self.order(reverse), dtype=np.int64).reshape(-1, 3)
            table.flags.writeable = False
            tables[reverse] = table
        return tables[reverse]

    def __len__(self):
        return len(self.batch_sizes)


_UNIFORM_CACHE = {}


class FinalState(Function):
    """A second output of a recurrent layer op (its final hidden or cell state).

    ``forward(output, key, value)`` returns ``value``, an array the op computed. In
    the backward pass this node runs before the op (it consumes the op's output) and
    hands its gradient to the op's node under ``key``; the op's output itself gets
    a zero (broadcast, memory-free) contribution from here.
    """

    def forward(self, output, key=None, value=None):
        self.key, self.output_shape = key, output.shape
        return value

    def backward(self, g):
        owner = self.inputs[0].grad_fn
        grads = owner.__dict__.setdefault("final_grads", {})
        grads[self.key] = grads[self.key] + g if self.key in grads else g
        if "zero_output_grad" in owner.__dict__:
            return None  # the op's node is already scheduled by a sibling final state
        zero = np.broadcast_to(np.zeros((), dtype=g.dtype), self.output_shape)
        owner.zero_output_grad = zero
        return zero


def final_states(output, finals, keys):
    """Tensors of the op's final states ``keys`` (e.g. ("h_n", "c_n")), linked to ``output``."""
    return tuple(FinalState.apply(output, key=key, value=finals[key]) for key in keys)


class RecurrentLayerFunction(Function):
    """Base of the per-layer, per-direction recurrent ops (Elman RNN, LSTM, GRU).

    Positional inputs: ``x`` (rows, input_size) packed rows, ``h0`` (batch, H) or
    None, ``c0`` (batch, H) or None (LSTM only), ``w_ih``, ``w_hh``, ``b_ih``,
    ``b_hh`` (or None), ``w_hr`` (LSTM projection, or None). Parameters: ``steps``
    (a :class:`TimeSteps`), ``reverse`` (process time backwards), ``finals`` (a dict
    the op fills with its final states).
    """

    def take_final_grads(self, g):
        """(gradients of the final states by key, whether ``g``, the output's gradient, is zero).

        The output's gradient is known to be zero when it is exactly the placeholder a
        :class:`FinalState` node sent (nothing else used the per-step outputs).
        """
        grads = self.__dict__.pop("final_grads", {})
        zero = self.__dict__.pop("zero_output_grad", None)
        return grads, g is zero

    @staticmethod
    def initial_state(h0, batch, size, dtype):
        """A fresh, writable copy of the initial state (zeros when not given)."""
        if h0 is None:
            return np.zeros((batch, size), dtype=dtype)
        return np.array(h0, dtype=dtype, copy=True, order="C")

    @staticmethod
    def state_buffer(h0, batch, size, dtype, bias):
        """The hidden-state buffer: (batch, size), plus a last column of ones with a bias.

        With that column, the recurrent GEMM [h 1] [W_hhᵀ; b] adds the bias at no cost
        (a GEMM with K + 1 runs as fast), instead of a pass over all steps' gates.
        """
        h = np.empty((batch, size + (bias is not None)), dtype=dtype)
        h[:, :size] = 0 if h0 is None else h0
        if bias is not None:
            h[:, size] = 1
        return h

    @staticmethod
    def final_state(buffer, size):
        """The state part of a buffer made by ``state_buffer``, as its own array."""
        return buffer if buffer.shape[1] == size else np.ascontiguousarray(buffer[:, :size])

    @staticmethod
    def recurrent_grad_start(grads, key, batch, size, dtype):
        """The gradient flowing into the last step's state: dL/d(final state), or zeros."""
        g = grads.get(key)
        if g is None:
            return np.zeros((batch, size), dtype=dtype)
        return np.array(g, dtype=dtype, copy=True, order="C")


def gate_blocks(weight, order):
    """Rows (gates·H, K) of a weight as per-gate blocks (gates, H, K), in ``order``."""
    blocks = weight.reshape(len(order), -1, weight.shape[-1])
    return blocks[list(order)]


def with_bias_row(w_T, bias):
    """Per-gate (G, K, H) weights with the bias (G, H) appended as row K (or unchanged)."""
    if bias is None:
        return np.ascontiguousarray(w_T)
    return np.ascontiguousarray(np.concatenate([w_T, bias[:, None, :]], axis=1))


def sigmoid_from_half_tanh_(y):
    """In place: σ(2y) = (1 + tanh(y)) / 2, for gates whose weights were halved.

    Equal to ``scipy.special.expit(2y)`` to float rounding (|error| < 1e-7 in float32),
    never overflows, and runs NumPy's vectorized tanh (expit is ~7x slower on float32).
    """
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


def project_steps(x, w_T, steps, reverse, keep):
    """The input projections x_t W_ihᵀ of every step, per gate: (all, per_step).

    ``per_step`` yields (start, stop, n, gates (G, n, H)) in processing order. With
    ``keep`` (training: backward needs every step's gates) all steps are projected by
    one GEMM into one (G, rows, H) array, returned as ``all``. Otherwise (inference)
    ``all`` is None and the steps are projected a few at a time into a small reused
    buffer that stays in cache while the steps consume it.
    """
    if keep:
        gates = matmul(x, w_T)
        return gates, ((start, stop, n, gates[:, start:stop])
                       for start, stop, n in steps.order(reverse))
    return None, _projected_in_chunks(x, w_T, steps, reverse)


def _projected_in_chunks(x, w_T, steps, reverse):
    for group, part, first in _projected_chunks(x, w_T, steps, reverse):
        for start, stop, n in group.tolist():
            yield start, stop, n, part[:, start - first:stop - first]


def _projected_chunks(x, w_T, steps, reverse):
    """(steps' table rows, buffer (G, ·, H) whose first rows hold their projections, the
    first input row) for ~``PROJECTION_CHUNK_ROWS`` rows at a time, one reused buffer."""
    table = steps.table(reverse)
    chunk = max(1, PROJECTION_CHUNK_ROWS // steps.batch)
    buffer = np.empty((w_T.shape[0], chunk * steps.batch, w_T.shape[2]), dtype=x.dtype)
    for s in range(0, len(table), chunk):
        group = table[s:s + chunk]
        first, last = int(group[:, 0].min()), int(group[:, 1].max())
        matmul(x[first:last], w_T, out=buffer[:, :last - first])
        yield group, buffer, first


PROJECTION_CHUNK_ROWS = 512   # inference: project ~512 rows (e.g. 8 steps of 64) at a time


def run_projected(x, w_T, steps, reverse, keep, run):
    """Project the inputs as ``project_steps`` does and hand them to a compiled loop over
    the steps: ``run(table, gates, first_row)`` with ``table`` the steps' (start, stop, n)
    rows and ``gates`` (G, ·, H) C-contiguous, holding the projections of rows
    first_row... With ``keep`` (training) one GEMM for all rows and one call, returning
    the gates; otherwise ~512 rows at a time into one reused buffer, a call per chunk
    of steps, returning None."""
    if keep:
        gates = matmul(x, w_T)
        run(steps.table(reverse), gates, 0)
        return gates
    for group, buffer, first in _projected_chunks(x, w_T, steps, reverse):
        run(group, buffer, first)      # the whole buffer: C-contiguous, the loops vectorize
    return None


def project_inputs(x, w_ih, bias):
    """X W_ihᵀ + bias for every row at once (one GEMM): (rows, gates·H)."""
    out = matmul(x, w_ih.T)
    if bias is not None:
        out += bias
    return out


def combined_bias(b_ih, b_hh, dtype):
    if b_ih is None:
        return None
    return (b_ih + b_hh).astype(dtype, copy=False)


def check_layer_shapes(name, x, h0, w_ih, w_hh, steps, state_size, c0=None, cell_size=None):
    """Fail early, naming the op, when the arrays do not fit together."""
    if x.ndim != 2 or x.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"{name}: expected input rows of size {w_ih.shape[1]}, got shape "
                           f"{tuple(x.shape)}")
    if x.shape[0] != steps.rows:
        raise RuntimeError(f"{name}: the input has {x.shape[0]} rows but the batch sizes "
                           f"{list(steps.batch_sizes)} add up to {steps.rows}")
    if h0 is not None and h0.shape != (steps.batch, state_size):
        raise RuntimeError(f"{name}: expected initial hidden state of shape "
                           f"{(steps.batch, state_size)}, got {tuple(h0.shape)}")
    if c0 is not None and c0.shape != (steps.batch, cell_size):
        raise RuntimeError(f"{name}: expected initial cell state of shape "
                           f"{(steps.batch, cell_size)}, got {tuple(c0.shape)}")
