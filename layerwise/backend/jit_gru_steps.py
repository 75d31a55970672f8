"""Many GRU steps in one compiled call, forward (float32) and backward (float32/64).

The GRU's twin of ``jit_lstm_steps`` (why: its docstring). Per step, two parallel
regions: the recurrent products of the three gates (r, z, n), each gate's columns cut
between the threads in blocks of 16 (three gates do not share out evenly between two
threads), one BLAS call per gate and thread; then the gate maths, a range of rows per
thread, one contiguous row at a time. Forward (formulas: ``nn.functional.gru``):

    [M_r M_z HH_n] = [h_{t-1} 1] [W_hhᵀ; b]       (r, z pre-scaled by 1/2)
    r, z = (1 + tanh(a + m)) / 2,   n = tanh(a_n + r ⊙ HH_n + b_in),   h = (h_{t-1} - n) z + n

Backward, per step in reverse: the pre-activation gradients of
``jit_recurrent.gru_backward_step`` row by row, then back_k = dA_k W_hh,k, and
dh_{t-1} = ((back_r + back_z) + back_n) + dh ⊙ z, in NumPy's order: the results are
bit-identical to the step-by-step path.
"""
from . import jit
from .blas_functions import NO_TRANS, gemm_at
from .fast_tanh import tanh_scalar
from .jit_lstm_steps import add_row, sum_row

COLUMN_BLOCK = 16


@jit.kernel
def columns(size, parts, p):
    """Part p's range of ``size`` columns, cut in multiples of 16."""
    step = ((size + parts - 1) // parts + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    return min(size, p * step), min(size, (p + 1) * step)


@jit.kernel
def _gate_products(gemm, integer, n, a, a_step, lda, w, m, p, parts):
    """m[k][:n, cols of p] = A_k W_k[:, cols of p] for every gate k, A_k (n x K) at
    address a + k · a_step (a_step 0: one A for all gates)."""
    k_size, width = w.shape[1], w.shape[2]
    c0, c1 = columns(width, parts, p)
    item = w.itemsize
    one, zero = w.dtype.type(1), w.dtype.type(0)
    if c1 > c0 and n > 0:
        for k in range(w.shape[0]):
            gemm_at(gemm, integer, NO_TRANS, NO_TRANS, n, c1 - c0, k_size, one,
                    a + k * a_step, lda, w[k].ctypes.data + c0 * item, width, zero,
                    m[k].ctypes.data + c0 * item, width)


@jit.parallel_kernel
def gru_steps(gemm, integer, meta, a, first_row, w, b_in, h_buffer, m, out, h_prev_all,
              hn_all, save, parts):
    """Run the steps meta[s] = (start, stop, n) in order.

    ``a`` (3, rows', H) C-contiguous: the input projections of rows first_row.. (the
    activations r, z, n are written back into it); ``w`` (3, K, H) per-gate [W_hhᵀ; b];
    ``b_in`` (H,) n's input bias (zeros without bias); ``h_buffer`` (batch, K) = [h 1],
    updated in place; ``m`` (3, batch, H) scratch; ``out`` (rows, H) the outputs; with
    ``save``, h_{t-1} and W_hn h_{t-1} + b_hn of each row go to ``h_prev_all``, ``hn_all``.
    """
    k, hidden = w.shape[1], w.shape[2]
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        for p in jit.prange(parts):
            _gate_products(gemm, integer, n, h_buffer.ctypes.data, 0, k, w, m, p, parts)
        rows_per_part = (n + parts - 1) // parts
        for p in jit.prange(parts):
            for r in range(p * rows_per_part, min(n, (p + 1) * rows_per_part)):
                row, local = start + r, start + r - first_row
                if save:
                    h_prev_all[row] = h_buffer[r, :hidden]
                    hn_all[row] = m[2, r]
                _forward_row(a[0, local], a[1, local], a[2, local], m[0, r], m[1, r], m[2, r],
                             b_in, h_buffer[r, :hidden], out[row])
                h_buffer[r, :hidden] = out[row]


@jit.kernel
def _forward_row(a_r, a_z, a_n, m_r, m_z, hh_n, b_in, h_prev, h):
    """One row of ``jit_recurrent.gru_forward_step_f32`` (same operations, same order)."""
    half = a_r.dtype.type(0.5)
    for j in range(h.shape[0]):
        rg = tanh_scalar(a_r[j] + m_r[j]) * half + half
        zg = tanh_scalar(a_z[j] + m_z[j]) * half + half
        cand = tanh_scalar((a_n[j] + rg * hh_n[j]) + b_in[j])
        a_r[j], a_z[j], a_n[j] = rg, zg, cand
        h[j] = (h_prev[j] - cand) * zg + cand


@jit.parallel_kernel
def gru_backward_steps(gemm, integer, meta, gates, d_hh, d_xn, w, h_prev_all, hn_all, g_out,
                       output_is_zero, dh, direct, back, parts):
    """Backpropagation through the steps meta[s] = (start, stop, n), in the order given.

    ``gates`` (3, rows, H): r, z, n; ``d_hh`` (3, rows, H) gets the gradients of the
    hidden side's pre-activations [dr, dz, dn ⊙ r], ``d_xn`` (rows, H) those of n's
    input side; ``w`` (3, H, H) the per-gate W_hh,k; ``dh`` (batch, H) holds dL/dh_n on
    entry (rows a step has not reached yet keep it) and dL/dh_0 on return; ``direct``
    and ``back`` scratch.
    """
    hidden = w.shape[1]
    one = w.dtype.type(1)
    item = w.itemsize
    summed = 0                         # rows of dh still waiting for the previous step's sum
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        rows = max(n, summed)
        rows_per_part = (rows + parts - 1) // parts
        for p in jit.prange(parts):
            for r in range(p * rows_per_part, min(rows, (p + 1) * rows_per_part)):
                row, h_grad = start + r, dh[r]
                if r < summed:
                    sum_row(back[0, r], back[1, r], back[2, r], direct[r], h_grad)
                if r >= n:
                    continue
                if not output_is_zero:
                    add_row(h_grad, g_out[row])
                _backward_row(h_grad, h_prev_all[row], hn_all[row], gates[0, row],
                              gates[1, row], gates[2, row], d_xn[row], d_hh[0, row],
                              d_hh[1, row], d_hh[2, row], direct[r], one)
        address = d_hh.ctypes.data + start * hidden * item
        for p in jit.prange(parts):
            _gate_products(gemm, integer, n, address, d_hh.shape[1] * hidden * item, hidden, w,
                           back, p, parts)
        summed = n
    for r in range(summed):
        sum_row(back[0, r], back[1, r], back[2, r], direct[r], dh[r])


@jit.kernel
def _backward_row(dh, h_prev, hn, r, z, n, dxn, dr, dz, dhn, dh_direct, one):
    """One row of ``jit_recurrent.gru_backward_step`` (same operations, same order)."""
    for j in range(dh.shape[0]):
        h_grad, zg, rg, ng = dh[j], z[j], r[j], n[j]
        one_minus_z = one - zg
        n_grad = (h_grad * one_minus_z) * (one - ng * ng)
        dxn[j] = n_grad
        dz[j] = ((h_prev[j] - ng) * h_grad) * (one_minus_z * zg)
        dr[j] = (n_grad * hn[j]) * ((one - rg) * rg)
        dhn[j] = n_grad * rg
        dh_direct[j] = h_grad * zg
