"""Recurrent layers: ``RNN`` (tanh / ReLU), ``LSTM``, ``GRU`` (PyTorch's ``torch.nn`` API).

A recurrent layer reads a sequence one step at a time with the *same* weights at
every step and a hidden state that carries memory from step to step, so it takes
sequences of any length. ``num_layers`` stacks layers (each reads the outputs of the
one below, with ``dropout`` between them in training), ``bidirectional`` adds a
second layer reading the sequence backwards (outputs concatenated). The equations
and backpropagation through time are in ``nn/functional/recurrent.py``, ``lstm.py``
and ``gru.py``: each layer and direction is one op over the whole sequence.

Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1,
H_out = proj_size or hidden_size):

- input (L, N, H_in), or (N, L, H_in) with ``batch_first=True``, or (L, H_in)
  unbatched, or a ``PackedSequence`` (``nn.utils.rnn``) for variable lengths;
- h_0 (D·num_layers, N, H_out) — never batch-first — default zeros; LSTM takes
  (h_0, c_0) with c_0 (D·num_layers, N, hidden_size);
- returns output (L, N, D·H_out) (or (N, L, .), or a PackedSequence) and h_n
  (LSTM: (h_n, c_n)) shaped like the initial states.

Parameters, for layer k and ``_reverse`` for the backward direction:
``weight_ih_l{k}`` (gates·H, H_in or D·H_out), ``weight_hh_l{k}`` (gates·H, H_out),
``bias_ih_l{k}``, ``bias_hh_l{k}`` (gates·H), LSTM with projection
``weight_hr_l{k}`` (proj_size, H); gates = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU:
r, z, n); all drawn from U(-1/√H, 1/√H) like PyTorch's.
"""
import math
import warnings

import numpy as np

from ..autograd.ops import cat, getitem, reshape, squeeze, stack, transpose, unbind, unsqueeze
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .functional.recurrent import recurrent_rows
from .functional.recurrent_base import TimeSteps
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The machinery shared by RNN, LSTM and GRU: parameters, shapes, layers, directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          f"layer, so non-zero dropout expects num_layers greater than 1, but "
                          f"got dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to "
                             f"disable projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size "
                             f"({proj_size} >= {hidden_size})")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bool(bias), bool(batch_first)
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), \
            int(proj_size)
        dtype = np.dtype(dtype or np.float32)
        directions = 2 if bidirectional else 1
        gate_size = GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                layer_input = self.input_size if layer == 0 else real_hidden * directions
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for base, shape in shapes:
                    setattr(self, base + suffix, Parameter(np.empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(base + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from U(-1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility (there is no cuDNN weight buffer here)."""

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction, as in PyTorch."""
        return [[p for p in self._layer_weights(layer, d) if p is not None]
                for layer in range(self.num_layers) for d in range(self._directions)]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _layer_weights(self, layer, direction):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) with None for the absent ones."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        p = self._parameters
        return (p["weight_ih" + suffix], p["weight_hh" + suffix], p.get("bias_ih" + suffix),
                p.get("bias_hh" + suffix), p.get("weight_hr" + suffix))

    # --------------------------------------------------------------- checking
    def _rows_and_steps(self, input):
        """(packed rows, TimeSteps, layout) of the input, after checking it."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data = input.data
            if data.ndim != 2:
                raise RuntimeError(f"{name}: packed input data must have 2 dimensions (rows, "
                                   f"features), got shape {tuple(data.shape)}")
            self._check_features(data)
            steps = TimeSteps(input.batch_sizes.data.tolist(), name)
            if steps.rows != data.shape[0]:
                raise RuntimeError(f"{name}: the packed data has {data.shape[0]} rows but its "
                                   f"batch_sizes add up to {steps.rows}")
            return data, steps, "packed"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor or a PackedSequence as input, got "
                            f"{type(input).__name__}")
        if input.ndim not in (2, 3):
            layout = "(batch, seq_len, features)" if self.batch_first else \
                "(seq_len, batch, features)"
            raise RuntimeError(f"{name}: expected a 3-D input {layout}, or a 2-D input "
                               f"(seq_len, features) for one unbatched sequence, got shape "
                               f"{tuple(input.shape)}")
        self._check_features(input)
        batched = input.ndim == 3
        x = input if batched else unsqueeze(input, 0 if self.batch_first else 1)
        if self.batch_first:
            x = transpose(x, 0, 1)
        length, batch = x.shape[0], x.shape[1]
        if length == 0:
            raise RuntimeError(f"{name}: empty sequence (length 0) in input of shape "
                               f"{tuple(input.shape)}; every sequence needs at least one step")
        if batch == 0:
            raise RuntimeError(f"{name}: empty batch in input of shape {tuple(input.shape)}")
        rows = reshape(x, (length * batch, x.shape[2]))
        return rows, TimeSteps.padded(length, batch), ("batched" if batched else "unbatched")

    def _check_features(self, x):
        name = type(self).__name__
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]} (input shape "
                               f"{tuple(x.shape)})")
        weight = self.weight_ih_l0
        if x.dtype != weight.dtype:
            raise RuntimeError(f"{name}: input dtype {x.dtype} does not match weight dtype "
                               f"{weight.dtype}; convert one of them (x.float() or "
                               f"module.double())")

    def _initial_states(self, hx, layout, batch, sorted_indices, label, size):
        """The per-layer-and-direction initial states (a tuple of (batch, size) tensors)."""
        name = type(self).__name__
        count = self.num_layers * self._directions
        if hx is None:
            return (None,) * count
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: expected the initial {label} to be a Tensor, got "
                            f"{type(hx).__name__}")
        if layout == "unbatched":
            if hx.ndim != 2:
                raise RuntimeError(f"{name}: for unbatched 2-D input, {label} should also be "
                                   f"2-D but got {hx.ndim}-D tensor of shape {tuple(hx.shape)}")
            hx = unsqueeze(hx, 1)
        elif hx.ndim != 3:
            raise RuntimeError(f"{name}: for batched input, {label} should be 3-D "
                               f"(num_layers * num_directions, batch, {size}) but got "
                               f"{hx.ndim}-D tensor of shape {tuple(hx.shape)}")
        expected = (count, batch, size)
        if tuple(hx.shape) != expected:
            shown = expected if layout != "unbatched" else (count, size)
            actual = tuple(hx.shape) if layout != "unbatched" else (hx.shape[0], hx.shape[2])
            raise RuntimeError(f"{name}: Expected {label} size {shown}, got {actual}")
        if hx.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(f"{name}: {label} dtype {hx.dtype} does not match weight dtype "
                               f"{self.weight_ih_l0.dtype}")
        if sorted_indices is not None:
            hx = getitem(hx, (slice(None), sorted_indices.data))
        return unbind(hx, 0)

    # ---------------------------------------------------------------- running
    def _run_layers(self, rows, steps, h0s, c0s):
        """All layers and directions; (output rows, [h_n...], [c_n...])."""
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                k = layer * self._directions + direction
                out, h_n, c_n = recurrent_rows(self.mode, rows, steps, h0s[k], c0s[k],
                                               self._layer_weights(layer, direction),
                                               reverse=direction == 1)
                outputs.append(out)
                h_list.append(h_n)
                c_list.append(c_n)
            rows = outputs[0] if len(outputs) == 1 else cat(outputs, dim=1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                rows = F.dropout(rows, self.dropout, training=True)
        return rows, h_list, c_list

    def _final(self, states, layout, unsorted_indices):
        out = stack(states, dim=0)
        if unsorted_indices is not None:
            out = getitem(out, (slice(None), unsorted_indices.data))
        return squeeze(out, 1) if layout == "unbatched" else out

    def _output(self, rows, input, steps, layout):
        if layout == "packed":
            return PackedSequence(rows, input.batch_sizes, input.sorted_indices,
                                  input.unsorted_indices)
        out = reshape(rows, (len(steps), steps.batch, rows.shape[1]))
        if layout == "unbatched":
            return squeeze(out, 1)
        return transpose(out, 0, 1) if self.batch_first else out

    def _forward(self, input, hx, cx=None):
        rows, steps, layout = self._rows_and_steps(input)
        packed = layout == "packed"
        sorted_indices = input.sorted_indices if packed else None
        real_hidden = self.proj_size or self.hidden_size
        label = "hidden[0]" if self.mode == "LSTM" else "hidden"
        h0s = self._initial_states(hx, layout, steps.batch, sorted_indices, label, real_hidden)
        c0s = self._initial_states(cx, layout, steps.batch, sorted_indices, "hidden[1]",
                                   self.hidden_size) if self.mode == "LSTM" else h0s
        out_rows, h_list, c_list = self._run_layers(rows, steps, h0s, c0s)
        unsorted = input.unsorted_indices if packed else None
        output = self._output(out_rows, input, steps, layout)
        h_n = self._final(h_list, layout, unsorted)
        if self.mode != "LSTM":
            return output, h_n
        return output, (h_n, self._final(c_list, layout, unsorted))

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout:g}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or ReLU).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; returns (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from "
                             f"'tanh' or 'relu'")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o and a cell state c (see ``functional/lstm.py``).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0)``; ``forward(input, (h_0, c_0))``
    returns (output, (h_n, c_n)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            return self._forward(input, None, None)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: the initial state must be a tuple (h_0, c_0), got "
                            f"{type(hx).__name__}")
        return self._forward(input, hx[0], hx[1])


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z and candidate n (see ``functional/gru.py``).

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; returns (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._forward(input, hx)
