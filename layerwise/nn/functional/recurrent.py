"""Recurrent layers as differentiable ops: Elman RNN (tanh/ReLU), LSTM, GRU, and cells.

The Elman RNN (the course's "simple RNN"): the same weights at every step, and a
hidden state that carries memory from one step to the next,

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act = tanh or ReLU.

Backpropagation through time multiplies the gradient by W_hhᵀ diag(act') once per
step back, so it shrinks (or explodes) geometrically: in practice a plain RNN keeps
only 10-12 steps of memory, which is why LSTM (``lstm.py``) and GRU (``gru.py``)
add gates.

    dA_t = (dL/dh_t + dh_t) ⊙ act'(h_t);   dh_{t-1} = dA_t W_hh;
    dW_ih = Σ_t dA_tᵀ x_t;   dW_hh = Σ_t dA_tᵀ h_{t-1};   db = Σ_t dA_t.

Layer functions (one layer, one direction): ``rnn_layer``, ``lstm_layer``,
``gru_layer`` take a padded time-major input (T, B, features), or packed rows
(rows, features) with ``batch_sizes``, and return the per-step outputs and the final
states. The cell functions ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell`` and
``gru_cell`` (PyTorch's ``torch.lstm_cell`` etc.) compute one step.
"""
import numpy as np

from ...autograd.ops import reshape
from .gru import GRULayer
from .lstm import LSTMLayer
from .recurrent_base import (RecurrentLayerFunction, TimeSteps, check_layer_shapes,
                             combined_bias, final_states, project_inputs, with_bias_row)
from ...backend.blas import matmul

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_tanh_cell", "rnn_relu_cell",
           "lstm_cell", "gru_cell"]


def _tanh_grad(out, y):
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)


def _relu_grad(out, y):
    np.greater(y, 0, out=out, casting="unsafe")


class ElmanLayer(RecurrentLayerFunction):
    """One Elman RNN layer in one direction over packed rows (see ``recurrent_base``)."""

    ACTIVATIONS = {"tanh": lambda a: np.tanh(a, out=a), "relu": lambda a: np.maximum(a, 0, out=a)}

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps=None, reverse=False,
                finals=None, nonlinearity="tanh"):
        hidden = w_ih.shape[0]
        check_layer_shapes(f"rnn_{nonlinearity}", x, h0, w_ih, w_hh, steps, hidden)
        dtype, batch = x.dtype, steps.batch
        activate = self.ACTIVATIONS[nonlinearity]
        out = project_inputs(x, w_ih, None)                  # becomes h_t in place
        bias = combined_bias(b_ih, b_hh, dtype)
        w_hhT = with_bias_row(w_hh.T[None], None if bias is None else bias[None])[0]
        h_buffer = self.state_buffer(h0, batch, hidden, dtype, bias)   # [h 1]
        h = h_buffer[:, :hidden]
        save = any(self.needs_input_grad)
        h_prev_all = np.empty_like(out) if save else None
        mm = np.empty((batch, hidden), dtype=dtype)
        for start, stop, n in steps.order(reverse):
            a, hp, m = out[start:stop], h[:n], mm[:n]
            matmul(h_buffer[:n], w_hhT, out=m)
            a += m
            activate(a)
            if save:
                h_prev_all[start:stop] = hp
            hp[...] = a
        finals["h_n"] = self.final_state(h_buffer, hidden)
        if save:
            self.steps, self.reverse, self.nonlinearity = steps, reverse, nonlinearity
            self.out, self.h_prev_all, self.w_hh = out, h_prev_all, w_hh
            self.x = x if self.needs_input_grad[3] else None
            self.w_ih = w_ih if self.needs_input_grad[0] else None
        return out

    def backward(self, g):
        grads, output_is_zero = self.take_final_grads(g)
        need_x, need_h0, _, need_wih, need_whh, need_bih, need_bhh, _ = self.needs_input_grad
        out, steps, w_hh = self.out, self.steps, self.w_hh
        dh = self.recurrent_grad_start(grads, "h_n", steps.batch, out.shape[1], out.dtype)
        d_pre = np.empty_like(out)
        derivative = _tanh_grad if self.nonlinearity == "tanh" else _relu_grad
        for start, stop, n in steps.order(not self.reverse):
            dh_n, da = dh[:n], d_pre[start:stop]
            if not output_is_zero:
                dh_n += g[start:stop]
            derivative(da, out[start:stop])
            da *= dh_n
            matmul(da, w_hh, out=dh_n)
        grad_b = d_pre.sum(axis=0) if (need_bih or need_bhh) else None
        return (matmul(d_pre, self.w_ih) if need_x else None, dh if need_h0 else None, None,
                matmul(d_pre.T, self.x) if need_wih else None,
                matmul(d_pre.T, self.h_prev_all) if need_whh else None,
                grad_b if need_bih else None, grad_b if need_bhh else None, None)


def _schedule(name, input, batch_sizes):
    """(2-D packed rows tensor, TimeSteps, padded shape or None) of a layer's input."""
    if batch_sizes is not None:
        if input.ndim != 2:
            raise RuntimeError(f"{name}: packed input must be 2-D (rows, features), got shape "
                               f"{tuple(input.shape)}")
        sizes = batch_sizes.data if hasattr(batch_sizes, "data") else batch_sizes
        return input, TimeSteps(np.asarray(sizes).tolist()), None
    if input.ndim != 3:
        raise RuntimeError(f"{name}: expected a (seq_len, batch, features) input, got shape "
                           f"{tuple(input.shape)}")
    length, batch, features = input.shape
    if length == 0 or batch == 0:
        raise RuntimeError(f"{name}: empty input of shape {tuple(input.shape)} (sequence "
                           f"length and batch size must be at least 1)")
    return reshape(input, (length * batch, features)), TimeSteps.padded(length, batch), \
        (length, batch)


LAYER_FUNCTIONS = {"RNN_TANH": ElmanLayer, "RNN_RELU": ElmanLayer, "LSTM": LSTMLayer,
                   "GRU": GRULayer}


def recurrent_rows(mode, rows, steps, h0, c0, weights, reverse=False):
    """One layer in one direction over packed ``rows`` scheduled by ``steps``.

    ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'; ``weights`` is
    (w_ih, w_hh, b_ih, b_hh, w_hr) with None for absent ones. Returns
    (output rows, h_n, c_n) — c_n is None except for LSTM.
    """
    params = {"nonlinearity": mode[4:].lower()} if mode.startswith("RNN_") else {}
    finals = {}
    out = LAYER_FUNCTIONS[mode].apply(rows, h0, c0, *weights, steps=steps, reverse=reverse,
                                      finals=finals, **params)
    keys = ("h_n", "c_n") if mode == "LSTM" else ("h_n",)
    states = final_states(out, finals, keys)
    return out, states[0], (states[1] if mode == "LSTM" else None)


def _run(mode, name, input, h0, c0, weights, batch_sizes, reverse):
    rows, steps, padded = _schedule(name, input, batch_sizes)
    out, h_n, c_n = recurrent_rows(mode, rows, steps, h0, c0, weights, reverse)
    if padded is not None:
        out = reshape(out, padded + (out.shape[-1],))
    return (out, h_n) if c_n is None else (out, h_n, c_n)


def rnn_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False,
              nonlinearity="tanh"):
    """One Elman RNN layer, one direction: (output, h_n).

    ``input`` (T, B, I) padded time-major, or packed rows (rows, I) with
    ``batch_sizes``; ``h0`` (B, H) or None (zeros); output (T, B, H) or (rows, H).
    """
    if nonlinearity not in ElmanLayer.ACTIVATIONS:
        raise ValueError(f"rnn_layer: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                         f"'relu'")
    return _run(f"RNN_{nonlinearity.upper()}", f"rnn_{nonlinearity}", input, h0, None,
                (w_ih, w_hh, b_ih, b_hh, None), batch_sizes, reverse)


def lstm_layer(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None,
               reverse=False):
    """One LSTM layer, one direction: (output, h_n, c_n); ``w_hr`` is the projection."""
    return _run("LSTM", "lstm", input, h0, c0, (w_ih, w_hh, b_ih, b_hh, w_hr), batch_sizes,
                reverse)


def gru_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    """One GRU layer, one direction: (output, h_n)."""
    return _run("GRU", "gru", input, h0, None, (w_ih, w_hh, b_ih, b_hh, None), batch_sizes,
                reverse)


def _cell_input(name, input, hx, hidden):
    if input.ndim != 2:
        raise RuntimeError(f"{name}: expected a 2-D (batch, input_size) input, got shape "
                           f"{tuple(input.shape)}")
    return reshape(input, (1,) + tuple(input.shape))


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) for one step; input (B, I), hx (B, H)."""
    out, _ = rnn_layer(_cell_input("rnn_tanh_cell", input, hx, w_hh.shape[1]), hx, w_ih, w_hh,
                       b_ih, b_hh)
    return reshape(out, tuple(out.shape[1:]))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh) for one step."""
    out, _ = rnn_layer(_cell_input("rnn_relu_cell", input, hx, w_hh.shape[1]), hx, w_ih, w_hh,
                       b_ih, b_hh, nonlinearity="relu")
    return reshape(out, tuple(out.shape[1:]))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``hx = (h, c)``; returns (h', c')."""
    h, c = hx
    out, _, c_n = lstm_layer(_cell_input("lstm_cell", input, h, w_hh.shape[1]), h, c, w_ih,
                             w_hh, b_ih, b_hh)
    return reshape(out, tuple(out.shape[1:])), c_n


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: returns h'."""
    out, _ = gru_layer(_cell_input("gru_cell", input, hx, w_hh.shape[1]), hx, w_ih, w_hh,
                       b_ih, b_hh)
    return reshape(out, tuple(out.shape[1:]))
