"""The LSTM layer (Hochreiter & Schmidhuber, 1997) as one op over a whole sequence.

For each step t, with PyTorch's gate order (i, f, g, o) in the rows of W_ih, W_hh:

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate cell
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)            (with proj_size: h_t = W_hr (o_t ⊙ tanh(c_t)))

The cell state c is the "conveyor belt": when f ≈ 1 and i ≈ 0 it carries information
unchanged across many steps, and its gradient dc_{t-1} = dc_t ⊙ f_t does not shrink
the way a plain RNN's does.

Backpropagation through time, per step in reverse (σ' = s(1 - s), tanh' = 1 - y²):

    dh_t  = dL/dh_t (from the output) + dh_t (recurrent, from step t+1)
    do    = dh_t ⊙ tanh(c_t) ⊙ σ'(o)
    dc_t += dh_t ⊙ o_t ⊙ (1 - tanh²(c_t))
    di    = dc_t ⊙ g_t ⊙ σ'(i);   df = dc_t ⊙ c_{t-1} ⊙ σ'(f)
    dg    = dc_t ⊙ i_t ⊙ tanh'(g)
    dc_{t-1} = dc_t ⊙ f_t;        dh_{t-1} = [di df dg do] W_hh

Layout: the gate pre-activations of all steps live in one (4, rows, H) array, gate
by gate (each gate of each step is then one contiguous block, which makes the
elementwise maths about twice as fast as on column slices of a (rows, 4H) array),
in the internal order (i, f, o, g): the three sigmoids are one block. The sigmoid is
computed as σ(x) = (1 + tanh(x/2)) / 2 with the 1/2 folded into the weights (NumPy's
tanh is vectorized, ``scipy.special.expit`` is about 7x slower on float32); the
biases ride in the recurrent GEMM as an extra row of W_hhᵀ against a column of ones in
the state. Gradients are put back in PyTorch's order.
"""
import numpy as np

from ...backend import buffers, fast_tanh, jit_lstm_steps, jit_recurrent, native
from .recurrent_base import (RecurrentLayerFunction, check_layer_shapes, combined_bias,
                             gate_blocks, project_steps, with_bias_row)
from ...backend.blas import gemm_function, matmul
from ...backend.jit_tile import TILE_COLUMNS

ORDER = (0, 1, 3, 2)                     # PyTorch (i, f, g, o) <-> internal (i, f, o, g)
SCALE = np.array([0.5, 0.5, 0.5, 1.0])   # σ(x) = (1 + tanh(x/2)) / 2 for i, f, o
_ORDER, _SCALE32 = np.array(ORDER), SCALE.astype(np.float32)   # for the compiled steps


class LSTMLayer(RecurrentLayerFunction):
    """One LSTM layer in one direction over packed rows (see ``recurrent_base``)."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps=None, reverse=False,
                finals=None):
        hidden, state = w_ih.shape[0] // 4, w_hh.shape[1]
        check_layer_shapes("lstm", x, h0, w_ih, w_hh, steps, state, c0, hidden)
        dtype, batch, rows = x.dtype, steps.batch, steps.rows
        save = any(self.needs_input_grad)
        bias = combined_bias(b_ih, b_hh, dtype)
        h_buffer = self.state_buffer(h0, batch, state, dtype, bias)            # [h 1]
        h = h_buffer[:, :state]
        c = self.initial_state(c0, batch, hidden, dtype)
        out = np.empty((rows, state), dtype=dtype)
        if save:
            h_prev_all = np.empty((rows, state), dtype=dtype)
            c_prev_all = np.empty((rows, hidden), dtype=dtype)
            tanh_c_all = np.empty((rows, hidden), dtype=dtype)
            raw_all = np.empty((rows, hidden), dtype=dtype) if w_hr is not None else None
        if w_hr is None and fast_tanh.usable(x[:0, :0]) and gemm_function(dtype) is not None:
            saved = (h_prev_all, c_prev_all, tanh_c_all) if save else None
            gates = _compiled_steps(x, w_ih, w_hh, bias, h_buffer, c, out, steps, reverse,
                                    saved)                            # one call, all steps
            per_step = ()
        else:
            scale = SCALE.astype(dtype)[:, None, None]
            w_ih_g, w_hh_g = gate_blocks(w_ih, ORDER), gate_blocks(w_hh, ORDER)  # (4, H, .)
            bias_g = None if bias is None else \
                gate_blocks(bias[:, None], ORDER)[..., 0] * scale[..., 0]
            w_hh_gT = with_bias_row((w_hh_g * scale).transpose(0, 2, 1), bias_g)  # (4, P[+1], H)
            w_ih_gT = (w_ih_g * scale).transpose(0, 2, 1)
            gates, per_step = project_steps(x, w_ih_gT, steps, reverse, keep=save)
        w_hrT = np.ascontiguousarray(w_hr.T) if w_hr is not None else None
        mm = np.empty((4, batch, hidden), dtype=dtype)
        tmp = np.empty((batch, hidden), dtype=dtype)
        tmp2 = np.empty((batch, hidden), dtype=dtype)
        for start, stop, n, a in per_step:
            hp, cp, m = h[:n], c[:n], mm[:, :n]
            matmul(h_buffer[:n], w_hh_gT, out=m)
            if save:
                h_prev_all[start:stop] = hp
                c_prev_all[start:stop] = cp
            tc = tanh_c_all[start:stop] if save else tmp2[:n]
            hn = out[start:stop]
            if w_hr is None and fast_tanh.usable(a[0], m[0], cp, tc, hn):   # one compiled pass
                jit_recurrent.rows(jit_recurrent.lstm_forward_step_f32, *a, *m, cp, tc, hn)
                hp[...] = hn
                continue
            a += m
            np.tanh(a, out=a)                      # g's tanh, and the sigmoids' ...
            sig = a[:3]
            sig *= 0.5
            sig += 0.5                             # ... σ(x) = (1 + tanh(x/2)) / 2
            i, f, o, g = a
            cp *= f                                # f ⊙ c_{t-1}
            t = tmp[:n]
            np.multiply(i, g, out=t)               # i ⊙ g
            cp += t
            np.tanh(cp, out=tc)
            if w_hr is None:
                np.multiply(o, tc, out=hn)
            else:
                raw = raw_all[start:stop] if save else tmp[:n]
                np.multiply(o, tc, out=raw)
                matmul(raw, w_hrT, out=hn)
            hp[...] = hn
        finals["h_n"], finals["c_n"] = self.final_state(h_buffer, state), c
        if save:
            self.steps, self.reverse = steps, reverse
            self.gates, self.h_prev_all, self.c_prev_all = gates, h_prev_all, c_prev_all
            self.tanh_c_all, self.raw_all, self.w_hr = tanh_c_all, raw_all, w_hr
            self.w_hh, self.sizes = w_hh, (hidden, state)
            self.x = x if self.needs_input_grad[3] else None
            self.w_ih_g = gate_blocks(w_ih, ORDER) if self.needs_input_grad[0] else None
        return out

    def backward(self, g):
        grads, output_is_zero = self.take_final_grads(g)
        need_x, need_h0, need_c0, need_wih, need_whh, need_bih, need_bhh, need_whr = \
            self.needs_input_grad
        (hidden, state), steps, gates = self.sizes, self.steps, self.gates
        dtype, batch = gates.dtype, steps.batch
        dh = self.recurrent_grad_start(grads, "h_n", batch, state, dtype)
        dc = self.recurrent_grad_start(grads, "c_n", batch, hidden, dtype)
        d_gates = np.empty_like(gates)
        w_hr, blas = self.w_hr, gemm_function(dtype)
        if w_hr is None and blas is not None and jit_recurrent.usable(gates[0]):
            parts = native.parts(4, 1)                          # one compiled loop
            if dtype == np.float32:       # register tiles summing the gates (1.2x the BLAS)
                w_hh_g = self.w_hh.reshape(4, hidden, state)   # only its shape is used
                panels = buffers.take((4, -(-state // TILE_COLUMNS), hidden, TILE_COLUMNS),
                                      np.float32)
                jit_lstm_steps.pack_gate_rows(np.ascontiguousarray(self.w_hh), _ORDER, panels)
                back = np.zeros((1, batch, panels.shape[1] * TILE_COLUMNS), dtype=dtype)
            else:
                w_hh_g = gate_blocks(self.w_hh, ORDER)           # (4, H, P)
                panels = np.empty((0, 0, 0, 0), np.float32)
                back = np.empty((4, batch, state), dtype=dtype)
            g_out = gates[0, :0] if output_is_zero else np.ascontiguousarray(g, dtype=dtype)
            jit_lstm_steps.lstm_backward_steps(
                *blas, steps.table(not self.reverse), gates, d_gates, w_hh_g, panels,
                self.tanh_c_all, self.c_prev_all, g_out, output_is_zero, dh, dc, back, parts)
            buffers.give(panels)
            return self._weight_grads(d_gates, dh, dc)
        w_hh_g = gate_blocks(self.w_hh, ORDER)                 # (4, H, P)
        d_h_all = np.empty((steps.rows, state), dtype=dtype) if w_hr is not None else None
        tmp = np.empty((batch, hidden), dtype=dtype)
        tmp3 = np.empty((3, batch, hidden), dtype=dtype)
        back = np.empty((4, batch, state), dtype=dtype)
        d_raw = np.empty((batch, hidden), dtype=dtype) if w_hr is not None else None
        for start, stop, n in steps.order(not self.reverse):
            dh_n = dh[:n]
            if not output_is_zero:
                dh_n += g[start:stop]
            a, da = gates[:, start:stop], d_gates[:, start:stop]
            i, f, o, gg = a
            tc = self.tanh_c_all[start:stop]
            if w_hr is not None:
                d_h_all[start:stop] = dh_n
                dh_eff = d_raw[:n]
                matmul(dh_n, w_hr, out=dh_eff)
            else:
                dh_eff = dh_n
            dc_n = dc[:n]
            if jit_recurrent.usable(dh_eff, tc, dc_n, da[0], a[0]):   # one compiled pass
                jit_recurrent.rows(jit_recurrent.lstm_backward_step, dh_eff, tc, dc_n,
                                   self.c_prev_all[start:stop], i, f, o, gg, *da,
                                   dtype.type(1))
            else:
                self._pointwise_backward(dh_eff, tc, dc_n, a, da, tmp[:n], tmp3[:, :n],
                                         self.c_prev_all[start:stop])
            b = back[:, :n]
            matmul(da, w_hh_g, out=b)                           # per gate: dA_g W_hh,g
            np.sum(b, axis=0, out=dh_n)                            # dh_{t-1}
        return self._weight_grads(d_gates, dh, dc, d_h_all)

    def _weight_grads(self, d_gates, dh, dc, d_h_all=None):
        """The gradients of every input from the gate gradients of all steps."""
        need_x, need_h0, need_c0, need_wih, need_whh, need_bih, need_bhh, need_whr = \
            self.needs_input_grad
        d_gates_T = d_gates.transpose(0, 2, 1)
        grad_x = matmul(d_gates, self.w_ih_g).sum(axis=0) if need_x else None
        grad_wih = _rows(matmul(d_gates_T, self.x)) if need_wih else None
        grad_whh = _rows(matmul(d_gates_T, self.h_prev_all)) if need_whh else None
        grad_b = _rows(d_gates.sum(axis=1)[:, :, None])[:, 0] if (need_bih or need_bhh) else None
        grad_whr = matmul(d_h_all.T, self.raw_all) if need_whr else None
        return (grad_x, dh if need_h0 else None, dc if need_c0 else None, grad_wih, grad_whh,
                grad_b if need_bih else None, grad_b if need_bhh else None, grad_whr)

    @staticmethod
    def _pointwise_backward(dh_eff, tc, dc_n, a, da, t, t3, c_prev):
        """The gate gradients of one step and dc_{t-1}, in NumPy (formulas: module docstring)."""
        i, f, o, gg = a
        np.multiply(dh_eff, tc, out=da[2])                     # do (before σ')
        np.multiply(tc, tc, out=t)
        np.subtract(1, t, out=t)
        t *= o
        t *= dh_eff
        dc_n += t                                              # dc_t
        np.multiply(dc_n, gg, out=da[0])                       # di
        np.multiply(dc_n, c_prev, out=da[1])                   # df
        np.multiply(dc_n, i, out=da[3])                        # dg
        dc_n *= f                                              # dc_{t-1}
        s = a[:3]
        np.subtract(1, s, out=t3)
        t3 *= s
        da[:3] *= t3                                           # σ' of i, f, o
        np.multiply(gg, gg, out=t)
        np.subtract(1, t, out=t)
        da[3] *= t                                             # tanh' of g


def _compiled_steps(x, w_ih, w_hh, bias, h_buffer, c, out, steps, reverse, saved):
    """All steps in one call of ``jit_lstm_steps.lstm_steps`` (float32); returns the
    gate activations kept for backward (training: ``saved`` = the arrays for h_{t-1},
    c_{t-1}, tanh c_t) or None."""
    batch, hidden = c.shape
    panels = []                                           # packed once per sequence
    for w, b in ((w_hh, bias), (w_ih, None)):
        k = w.shape[1] + (b is not None)
        panels.append(buffers.take((4, -(-hidden // TILE_COLUMNS), k, TILE_COLUMNS),
                                   np.float32))      # reused: no page faults per call
        w = np.ascontiguousarray(w, dtype=np.float32)
        jit_lstm_steps.pack_weight_panels(w, w[0, :0] if b is None else b, _ORDER, _SCALE32,
                                          panels[-1])
    sums = np.zeros((4, batch, jit_lstm_steps.padded_width(hidden)), x.dtype)
    unused = np.empty((0, hidden), x.dtype)
    if saved is None:
        gates, (h_prev_all, c_prev_all, tanh_c) = None, (unused, unused, np.empty_like(c))
    else:
        gates, (h_prev_all, c_prev_all, tanh_c) = np.empty((4, steps.rows, hidden), x.dtype), saved
    jit_lstm_steps.lstm_steps(steps.table(reverse), np.ascontiguousarray(x), *panels,
                              h_buffer, c, sums,
                              unused[None] if gates is None else gates, out, h_prev_all,
                              c_prev_all, tanh_c, saved is not None, native.parts(4, 1))
    for array in panels:
        buffers.give(array)
    return gates


def _rows(blocks):
    """Per-gate blocks (4, H, K) in internal order as PyTorch's (4H, K) rows."""
    return blocks[list(ORDER)].reshape(-1, blocks.shape[-1])
