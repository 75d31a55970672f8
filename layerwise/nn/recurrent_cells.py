"""Recurrent cells: one time step of an RNN, LSTM or GRU (``RNNCell``, ``LSTMCell``, ``GRUCell``).

A cell is what a recurrent layer applies at each step; use it to write your own loop
over time (e.g. feeding each output back as the next input). Parameters
``weight_ih`` (gates·H, input_size), ``weight_hh`` (gates·H, H), ``bias_ih``,
``bias_hh`` (gates·H), drawn from U(-1/√H, 1/√H); input (N, input_size) or
(input_size,), state (N, H) or (H,), default zeros. The equations are those of the
layers (``nn/functional/recurrent.py``, ``lstm.py``, ``gru.py``) for one step.
"""
import math

import numpy as np

from ..autograd.factories import zeros
from ..autograd.ops import squeeze, unsqueeze
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size!r}")
        dtype = np.dtype(dtype or np.float32)
        self.input_size, self.hidden_size, self.bias = int(input_size), hidden_size, bool(bias)
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dtype))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"instead (shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size} (input shape "
                               f"{tuple(input.shape)})")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype {input.dtype} does not match weight "
                               f"dtype {self.weight_ih.dtype}")
        batched = input.ndim == 2
        return (input if batched else unsqueeze(input, 0)), batched

    def _check_state(self, state, batched, batch, label="hx"):
        name = type(self).__name__
        if state is None:
            return zeros(batch, self.hidden_size, dtype=self.weight_ih.dtype)
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: expected {label} to be a Tensor, got "
                            f"{type(state).__name__}")
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{name}: Expected {label} of shape {expected} (the input is "
                               f"{'batched' if batched else 'unbatched'}), got "
                               f"{tuple(state.shape)}")
        return state if batched else unsqueeze(state, 0)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text


def _unbatch(tensor, batched):
    return tensor if batched else squeeze(tensor, 0)


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or ReLU)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from "
                             f"'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, batched = self._check_input(input)
        h = self._check_state(hx, batched, x.shape[0])
        step = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        return _unbatch(step(x, h, *self._weights()), batched)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c))`` returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input, hx=None):
        x, batched = self._check_input(input)
        if hx is None:
            h = c = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h, c = hx
        else:
            raise TypeError("LSTMCell: the state must be a tuple (h, c)")
        h = self._check_state(h, batched, x.shape[0], "hx[0]")
        c = self._check_state(c, batched, x.shape[0], "hx[1]")
        h_next, c_next = F.lstm_cell(x, (h, c), *self._weights())
        return _unbatch(h_next, batched), _unbatch(c_next, batched)


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) ⊙ n + z ⊙ h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        x, batched = self._check_input(input)
        h = self._check_state(hx, batched, x.shape[0])
        return _unbatch(F.gru_cell(x, h, *self._weights()), batched)
