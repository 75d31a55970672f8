"""The GRU layer (Cho et al., 2014) as one op over a whole sequence.

For each step t, with PyTorch's gate order (r, z, n) in the rows of W_ih, W_hh:

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

(the reset gate multiplies W_hn h + b_hn, PyTorch's and cuDNN's variant). With
z ≈ 1 the state passes through unchanged, which is how a GRU remembers.

Backpropagation through time, per step in reverse, with hh_n = W_hn h_{t-1} + b_hn:

    dh_t   = dL/dh_t (from the output) + dh_t (recurrent, from step t+1)
    dn     = dh_t ⊙ (1 - z_t) ⊙ (1 - n_t²)              (w.r.t. n's pre-activation)
    dz     = dh_t ⊙ (h_{t-1} - n_t) ⊙ z_t (1 - z_t)
    dr     = dn ⊙ hh_n ⊙ r_t (1 - r_t)
    dh_{t-1} = dh_t ⊙ z_t + [dr, dz, dn ⊙ r_t] W_hh

The input side's pre-activations get [dr, dz, dn]; the hidden side's [dr, dz, dn ⊙ r].

Layout as in ``lstm.py``: gates of all steps in one (3, rows, H) array, gate by gate;
σ(x) = (1 + tanh(x/2)) / 2 with the 1/2 folded into the r and z weights.
"""
import numpy as np

from ...backend import fast_tanh, jit_gru_steps, jit_recurrent, native
from .recurrent_base import (RecurrentLayerFunction, check_layer_shapes, gate_blocks,
                             project_steps, run_projected, sigmoid_from_half_tanh_,
                             with_bias_row)
from ...backend.blas import gemm_function, matmul

ORDER = (0, 1, 2)
SCALE = np.array([0.5, 0.5, 1.0])        # σ(x) = (1 + tanh(x/2)) / 2 for r, z


class GRULayer(RecurrentLayerFunction):
    """One GRU layer in one direction over packed rows (see ``recurrent_base``)."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps=None, reverse=False,
                finals=None):
        hidden = w_ih.shape[0] // 3
        check_layer_shapes("gru", x, h0, w_ih, w_hh, steps, hidden)
        dtype, batch, rows = x.dtype, steps.batch, steps.rows
        scale = SCALE.astype(dtype)[:, None, None]
        w_ih_g, w_hh_g = gate_blocks(w_ih, ORDER), gate_blocks(w_hh, ORDER)   # (3, H, .)
        save = any(self.needs_input_grad)
        w_ih_gT = (w_ih_g * scale).transpose(0, 2, 1)
        bias, b_in = None, None
        if b_ih is not None:
            # hidden side: [b_ir + b_hr, b_iz + b_hz, b_hn] (b_hn stays inside r ⊙ (.));
            # b_in, outside the reset gate, is added to n's input side at each step
            bias = b_hh.reshape(3, hidden).astype(dtype, copy=True)
            bias[:2] += b_ih.reshape(3, hidden)[:2]
            bias *= scale[..., 0]
            b_in = b_ih[2 * hidden:]
        w_hh_gT = with_bias_row((w_hh_g * scale).transpose(0, 2, 1), bias)
        h_buffer = self.state_buffer(h0, batch, hidden, dtype, bias)         # [h 1]
        h = h_buffer[:, :hidden]
        out = np.empty((rows, hidden), dtype=dtype)
        if save:
            h_prev_all = np.empty((rows, hidden), dtype=dtype)
            hn_all = np.empty((rows, hidden), dtype=dtype)
        mm = np.empty((3, batch, hidden), dtype=dtype)
        tmp = np.empty((batch, hidden), dtype=dtype)
        zero_bias = np.zeros(hidden, dtype=dtype)
        if fast_tanh.usable(x[:0, :0]) and gemm_function(dtype) is not None:
            saved = (h_prev_all, hn_all) if save else None            # one compiled loop
            gates = _compiled_steps(x, w_ih_gT, w_hh_gT, zero_bias if b_in is None else b_in,
                                    h_buffer, mm, out, steps, reverse, saved)
            per_step = ()
        else:
            gates, per_step = project_steps(x, w_ih_gT, steps, reverse, keep=save)
        for start, stop, n, a in per_step:
            hp, m = h[:n], mm[:, :n]
            matmul(h_buffer[:n], w_hh_gT, out=m)
            o = out[start:stop]
            if save:
                hn_all[start:stop] = m[2]
                h_prev_all[start:stop] = hp
            if fast_tanh.usable(a[0], m[0], o):   # one compiled pass, on contiguous blocks
                h_prev = h_prev_all[start:stop] if save else tmp[:n]
                if not save:
                    h_prev[...] = hp
                jit_recurrent.rows(jit_recurrent.gru_forward_step_f32, *a, *m,
                                   zero_bias if b_in is None else b_in, h_prev, o)
                hp[...] = o
                continue
            rz = a[:2]
            rz += m[:2]
            sigmoid_from_half_tanh_(rz)
            r, z, cand = a
            hn = m[2]                               # W_hn h + b_hn
            t = tmp[:n]
            np.multiply(r, hn, out=t)               # r ⊙ (W_hn h + b_hn)
            cand += t
            if b_in is not None:
                cand += b_in
            np.tanh(cand, out=cand)
            np.subtract(hp, cand, out=o)            # h' = n + z ⊙ (h - n)
            o *= z
            o += cand
            hp[...] = o
        finals["h_n"] = self.final_state(h_buffer, hidden)
        if save:
            self.steps, self.reverse, self.hidden = steps, reverse, hidden
            self.gates, self.h_prev_all, self.hn_all = gates, h_prev_all, hn_all
            self.w_hh_g = w_hh_g
            self.x = x if self.needs_input_grad[3] else None
            self.w_ih_g = w_ih_g if self.needs_input_grad[0] else None
        return out

    def backward(self, g):
        grads, output_is_zero = self.take_final_grads(g)
        need_x, need_h0, _, need_wih, need_whh, need_bih, need_bhh, _ = self.needs_input_grad
        H, steps, gates = self.hidden, self.steps, self.gates
        dtype, batch = gates.dtype, steps.batch
        dh = self.recurrent_grad_start(grads, "h_n", batch, H, dtype)
        d_hh = np.empty_like(gates)                       # w.r.t. W_hh h + b_hh, per gate
        d_xn = np.empty((steps.rows, H), dtype=dtype)     # w.r.t. n's input-side pre-activation
        tmp = np.empty((batch, H), dtype=dtype)
        tmp2 = np.empty((batch, H), dtype=dtype)
        back = np.empty((3, batch, H), dtype=dtype)
        w_hh_g = self.w_hh_g
        blas = gemm_function(dtype)
        if blas is not None and jit_recurrent.usable(gates[0]):            # one compiled loop
            g_out = gates[0, :0] if output_is_zero else np.ascontiguousarray(g, dtype=dtype)
            jit_gru_steps.gru_backward_steps(
                *blas, steps.table(not self.reverse), gates, d_hh, d_xn, w_hh_g,
                self.h_prev_all, self.hn_all, g_out, output_is_zero, dh, tmp, back, _parts())
            steps_left = ()
        else:
            steps_left = steps.order(not self.reverse)
        for start, stop, n in steps_left:
            dh_n = dh[:n]
            if not output_is_zero:
                dh_n += g[start:stop]
            r, z, cand = gates[:, start:stop]
            dr, dz, dhn = d_hh[:, start:stop]
            dxn = d_xn[start:stop]
            hp = self.h_prev_all[start:stop]
            t, t2 = tmp[:n], tmp2[:n]
            if jit_recurrent.usable(dh_n, hp, r, dxn, dr):   # one compiled pass
                jit_recurrent.rows(jit_recurrent.gru_backward_step, dh_n, hp,
                                   self.hn_all[start:stop], r, z, cand, dxn, dr, dz, dhn, t,
                                   dtype.type(1))
            else:
                _pointwise_backward(dh_n, hp, self.hn_all[start:stop], r, z, cand, dxn, dr, dz,
                                    dhn, t, t2)
            b = back[:, :n]
            matmul(d_hh[:, start:stop], w_hh_g, out=b)
            np.sum(b, axis=0, out=dh_n)
            dh_n += t                                    # dh_{t-1}
        d_rz = d_hh[:2]
        grad_x = None
        if need_x:
            grad_x = matmul(d_rz, self.w_ih_g[:2]).sum(axis=0)
            grad_x += matmul(d_xn, self.w_ih_g[2])
        grad_wih = None
        if need_wih:
            grad_wih = np.concatenate([
                matmul(d_rz.transpose(0, 2, 1), self.x).reshape(2 * H, -1),
                matmul(d_xn.T, self.x)])
        grad_whh = None
        if need_whh:
            grad_whh = matmul(d_hh.transpose(0, 2, 1), self.h_prev_all).reshape(3 * H, -1)
        grad_bhh = d_hh.sum(axis=1).reshape(-1) if (need_bhh or need_bih) else None
        grad_bih = np.concatenate([grad_bhh[:2 * H], d_xn.sum(axis=0)]) if need_bih else None
        return (grad_x, dh if need_h0 else None, None, grad_wih, grad_whh, grad_bih,
                grad_bhh if need_bhh else None, None)


def _parts():
    return native.parts(2, 1)


def _compiled_steps(x, w_ih_gT, w_hh_gT, b_in, h_buffer, m, out, steps, reverse, saved):
    """All steps in ``jit_gru_steps`` (float32); returns the gates kept for backward
    (training: ``saved`` = the arrays for h_{t-1} and W_hn h_{t-1} + b_hn) or None."""
    blas = gemm_function(x.dtype)
    unused = np.empty((0, w_hh_gT.shape[2]), x.dtype)
    h_prev_all, hn_all = saved or (unused, unused)

    def run(table, gates, first_row):
        jit_gru_steps.gru_steps(*blas, table, gates, first_row, w_hh_gT, b_in, h_buffer, m, out,
                                h_prev_all, hn_all, saved is not None, _parts())
    return run_projected(x, w_ih_gT, steps, reverse, saved is not None, run)


def _pointwise_backward(dh_n, hp, hn, r, z, cand, dxn, dr, dz, dhn, t, t2):
    """The pre-activation gradients of one step, in NumPy (formulas: module docstring);
    leaves dL/dh ⊙ z, the part of dh_{t-1} that skips the GEMM, in ``t``."""
    np.subtract(1, z, out=t)
    np.multiply(dh_n, t, out=dxn)
    np.multiply(cand, cand, out=t2)
    np.subtract(1, t2, out=t2)
    dxn *= t2                                    # dn
    np.subtract(hp, cand, out=dz)
    dz *= dh_n
    t *= z
    dz *= t                                      # dz
    np.multiply(dxn, hn, out=dr)
    np.subtract(1, r, out=t)
    t *= r
    dr *= t                                      # dr
    np.multiply(dxn, r, out=dhn)                 # dn ⊙ r (hidden side)
    np.multiply(dh_n, z, out=t)
