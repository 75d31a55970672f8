"""Many LSTM steps in one compiled call (inference and training forward, float32).

Step by step from Python, an LSTM layer of hidden size 256 at batch 64 spends ~35 µs
per step between the arithmetic (a product split over the pool, the gate kernel, a
copy: each a dispatch from Python), 1.7 ms of a 15 ms sequence of 50 steps. Here the
loop over the steps is compiled and each step is two parallel regions, the same work
split as before:

    1. M_k = [h_{t-1} 1] W_k for the gates k = i, f, o, g: whole gates per thread,
       one BLAS call each ((n, K) x (K, H), unit strides);
    2. the gate maths of ``jit_recurrent.lstm_forward_step_f32``, a range of rows per
       thread, one contiguous row at a time (which the compiler vectorizes):
       i, f, o = (1 + tanh(a + m)) / 2,   g = tanh(a_g + m_g)   (i, f, o pre-scaled 1/2)
       c = f ⊙ c + i ⊙ g,   h = o ⊙ tanh c     (h also into the [h 1] buffer)

``fast_tanh``'s rational tanh; the same operations in the same order as the step
kernel, so the results are bit-identical to the step-by-step path.
"""
from . import jit
from .blas_functions import NO_TRANS, gemm_at
from .fast_tanh import tanh_scalar


@jit.parallel_kernel
def lstm_steps(gemm, integer, meta, a, first_row, w, h_buffer, c, m, out, h_prev_all,
               c_prev_all, tanh_c_all, save, parts):
    """Run the steps meta[s] = (start, stop, n) in order.

    ``a`` (4, rows', H) C-contiguous: the input projections of rows first_row.. (the
    activations are written back into it); ``w`` (4, K, H) per-gate [W_hhᵀ; b];
    ``h_buffer`` (batch, K) = [h 1], updated in place; ``c`` (batch, H) in place; ``m``
    (4, batch, H) scratch; ``out`` (rows, H) the outputs; ``tanh_c_all`` (rows, H) gets
    tanh c_t when ``save`` (else a (batch, H) scratch), and then h_{t-1} and c_{t-1} go
    to ``h_prev_all`` and ``c_prev_all``.
    """
    k, hidden = w.shape[1], w.shape[2]
    one, zero = w.dtype.type(1), w.dtype.type(0)
    gates_per_part = (4 + parts - 1) // parts
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        if n == 0:
            continue
        for p in jit.prange(parts):
            for g in range(p * gates_per_part, min(4, (p + 1) * gates_per_part)):
                gemm_at(gemm, integer, NO_TRANS, NO_TRANS, n, hidden, k, one,
                        h_buffer.ctypes.data, k, w[g].ctypes.data, hidden, zero,
                        m[g].ctypes.data, hidden)
        rows_per_part = (n + parts - 1) // parts
        for p in jit.prange(parts):
            for r in range(p * rows_per_part, min(n, (p + 1) * rows_per_part)):
                row, local = start + r, start + r - first_row
                if save:
                    h_prev_all[row] = h_buffer[r, :hidden]
                    c_prev_all[row] = c[r]
                    tanh_c = tanh_c_all[row]
                else:
                    tanh_c = tanh_c_all[r]
                _gate_row(a[0, local], a[1, local], a[2, local], a[3, local], m[0, r], m[1, r],
                          m[2, r], m[3, r], c[r], tanh_c, out[row])
                h_buffer[r, :hidden] = out[row]


@jit.kernel
def _gate_row(a_i, a_f, a_o, a_g, m_i, m_f, m_o, m_g, c, tanh_c, h):
    """One row of ``jit_recurrent.lstm_forward_step_f32`` (1-D contiguous slices: the
    compiler vectorizes them; 2-D blocks typed with unknown strides it did not)."""
    half = a_i.dtype.type(0.5)
    for j in range(h.shape[0]):
        ig = tanh_scalar(a_i[j] + m_i[j]) * half + half
        fg = tanh_scalar(a_f[j] + m_f[j]) * half + half
        og = tanh_scalar(a_o[j] + m_o[j]) * half + half
        gg = tanh_scalar(a_g[j] + m_g[j])
        cell = c[j] * fg + ig * gg
        tc = tanh_scalar(cell)
        a_i[j], a_f[j], a_o[j], a_g[j] = ig, fg, og, gg
        c[j], tanh_c[j], h[j] = cell, tc, og * tc


@jit.parallel_kernel
def lstm_backward_steps(gemm, integer, meta, gates, d_gates, w, tanh_c_all, c_prev_all, g_out,
                        output_is_zero, dh, dc, back, parts):
    """Backpropagation through the steps meta[s] = (start, stop, n), in the order given.

    Per step, rows split over the threads: dh_t = Σ_k back_k (the previous step's
    products, in NumPy's order) + the output's gradient, then the gate gradients of
    ``jit_recurrent.lstm_backward_step`` into ``d_gates`` (4, rows, H), dc updated in
    place to dL/dc_{t-1}; then whole gates per thread: back_k = dA_k W_hh,k, one BLAS call
    each (``w`` (4, H, P)). ``dh`` (batch, P) holds dL/dh_n on entry (rows a step has not
    reached yet keep it) and dL/dh_0 on return.
    """
    hidden, state = w.shape[1], w.shape[2]
    one, zero = w.dtype.type(1), w.dtype.type(0)
    item = w.itemsize
    gates_per_part = (4 + parts - 1) // parts
    summed = 0                        # rows of dh that are still the previous step's Σ_k
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        rows = max(n, summed)         # (a shrinking batch: the rows left get their Σ too)
        rows_per_part = (rows + parts - 1) // parts
        for p in jit.prange(parts):
            for r in range(p * rows_per_part, min(rows, (p + 1) * rows_per_part)):
                row, h_grad = start + r, dh[r]
                if r < summed:
                    sum_row(back[0, r], back[1, r], back[2, r], back[3, r], h_grad)
                if r >= n:
                    continue
                if not output_is_zero:
                    add_row(h_grad, g_out[row])
                _backward_row(h_grad, tanh_c_all[row], dc[r], c_prev_all[row], gates[0, row],
                              gates[1, row], gates[2, row], gates[3, row], d_gates[0, row],
                              d_gates[1, row], d_gates[2, row], d_gates[3, row], one)
        for p in jit.prange(parts):
            for k in range(p * gates_per_part, min(4, (p + 1) * gates_per_part)):
                gemm_at(gemm, integer, NO_TRANS, NO_TRANS, n, state, hidden, one,
                        d_gates.ctypes.data + (k * d_gates.shape[1] + start) * hidden * item,
                        hidden, w[k].ctypes.data, state, zero, back[k].ctypes.data, state)
        summed = n
    for r in range(summed):
        sum_row(back[0, r], back[1, r], back[2, r], back[3, r], dh[r])


@jit.kernel
def sum_row(b0, b1, b2, b3, out):
    """out = ((b0 + b1) + b2) + b3 on rows (NumPy's order for a sum over a leading axis)."""
    for j in range(out.shape[0]):
        out[j] = ((b0[j] + b1[j]) + b2[j]) + b3[j]


@jit.kernel
def add_row(out, x):
    """out += x on rows."""
    for j in range(out.shape[0]):
        out[j] += x[j]


@jit.kernel
def _backward_row(dh, tanh_c, dc, c_prev, i, f, o, g, di, df, do, dg, one):
    """One row of ``jit_recurrent.lstm_backward_step`` (same operations, same order)."""
    for j in range(dh.shape[0]):
        h_grad, tc = dh[j], tanh_c[j]
        ig, fg, og, gg = i[j], f[j], o[j], g[j]
        c_grad = dc[j] + ((one - tc * tc) * og) * h_grad
        di[j] = (c_grad * gg) * ((one - ig) * ig)
        df[j] = (c_grad * c_prev[j]) * ((one - fg) * fg)
        dg[j] = (c_grad * ig) * (one - gg * gg)
        do[j] = (h_grad * tc) * ((one - og) * og)
        dc[j] = c_grad * fg
