"""Many LSTM steps in one compiled call (inference and training forward, float32).

Step by step from Python, an LSTM layer of hidden size 256 at batch 64 spends ~35 µs
per step between the arithmetic (a product split over the pool, the gate kernel, a
copy: each a dispatch from Python), 1.7 ms of a 15 ms sequence of 50 steps. Here the
whole sequence is one compiled call. Per step:

    1. S_k = [h_{t-1} 1] [W_hh,kᵀ; b_k] + x_t W_ih,kᵀ for the gates k = i, f, o, g:
       in columns of register tiles (``jit_tile.tile_fma``, the x_t part added into the
       same accumulators) on the weights packed once per sequence (``pack_weight_panels``);
    2. the gate maths of ``jit_recurrent.lstm_forward_step_f32``, one contiguous row at
       a time (which the compiler vectorizes):
       i, f, o = (1 + tanh S) / 2,   g = tanh S_g       (i, f, o pre-scaled by 1/2)
       c = f ⊙ c + i ⊙ g,   h = o ⊙ tanh c     (h also into the [h 1] buffer)

each thread on its own rows of the batch (or, below 8 rows per thread, the two split
over the threads, with a barrier between them: ``lstm_steps``).

Why tiles rather than a BLAS call per gate: the weights do not change between steps,
but each BLAS call packs them again; the tiles reach this machine's FMA peak (~115
GFLOP/s per core, 1.2x OpenBLAS on these shapes). Why the input projection in the
steps rather than one big product before them: the same arithmetic at the tiles' rate,
and no (4, rows, H) array of projections written and read back. ``fast_tanh``'s
rational tanh, the same formulas as the step kernel; the sums add up in another order
than NumPy's path, so the two agree to float32 rounding, not bit for bit.
"""
import numpy as np

from . import jit
from .blas_functions import NO_TRANS, gemm_at
from .fast_tanh import tanh_scalar
from .jit_tile import MAX_TILE_ROWS, TILE_COLUMNS, pack_panels, tile_fma


def pack_gate_panels(w):
    """(4, K, H) per-gate float32 weights → (4, ceil(H / 32), K, 32): each gate's
    ``jit_tile.pack_panels`` (the reference for ``pack_weight_panels``)."""
    return np.ascontiguousarray(np.stack([pack_panels(w_k) for w_k in w]))


@jit.parallel_kernel
def pack_weight_panels(w, bias, order, scale, panels):
    """``panels`` (4, ceil(H / 32), K, 32) from PyTorch's (4H, K_w) weight rows, in one pass
    (what ``pack_gate_panels`` of the per-gate (4, K, H) blocks gives, without them):

        panels[k, q, i, j] = scale_k W[order_k H + 32q + j, i]    for i < K_w
        panels[k, q, K_w, j] = scale_k bias[order_k H + 32q + j]  (when K = K_w + 1)

    zeros past H. The panels are shared out between the threads; each is written row by
    row (contiguous stores) from its 32 rows of W, which stay in L1 (256 x 1024 plus the
    bias, 2 threads: 44 µs; column by column on one thread: 122 µs)."""
    for unit in jit.prange(4 * panels.shape[1]):
        _pack_panel(w, bias, order, scale, panels, unit // panels.shape[1],
                    unit % panels.shape[1])


@jit.kernel
def _pack_panel(w, bias, order, scale, panels, gate, q):
    """Panel q of gate ``gate`` (see ``pack_weight_panels``)."""
    hidden = w.shape[0] // 4
    k_w, with_bias = w.shape[1], panels.shape[2] > w.shape[1]
    first = order[gate] * hidden + q * TILE_COLUMNS
    width = min(TILE_COLUMNS, hidden - q * TILE_COLUMNS)
    rows, panel, s = w[first:first + width], panels[gate, q], scale[gate]
    for i in range(k_w):
        for j in range(width):
            panel[i, j] = rows[j, i] * s
        for j in range(width, TILE_COLUMNS):
            panel[i, j] = 0
    if with_bias:
        for j in range(TILE_COLUMNS):
            panel[k_w, j] = bias[first + j] * s if j < width else 0


@jit.parallel_kernel
def pack_gate_rows(w, order, panels):
    """``panels`` (4, ceil(P / 32), H, 32) from PyTorch's (4H, P) weight rows, for the
    backward's dA_k W_hh,k (what ``pack_gate_panels`` of ``gate_blocks(w, order)`` gives):

        panels[k, q, h, j] = W[order_k H + h, 32q + j]     zeros past P

    32 contiguous floats at a time, the panels shared out between the threads
    (1024 x 256 on 2 threads: 40 µs)."""
    for unit in jit.prange(4 * panels.shape[1]):
        _copy_panel(w, order, panels, unit // panels.shape[1], unit % panels.shape[1])


@jit.kernel
def _copy_panel(w, order, panels, gate, q):
    """Panel q of gate ``gate`` (see ``pack_gate_rows``)."""
    hidden = w.shape[0] // 4
    first, column = order[gate] * hidden, q * TILE_COLUMNS
    width = min(TILE_COLUMNS, w.shape[1] - column)
    panel = panels[gate, q]
    if width == TILE_COLUMNS:              # a constant trip count: LLVM vectorizes it
        for h in range(hidden):
            row, out = w[first + h], panel[h]
            for j in range(TILE_COLUMNS):
                out[j] = row[column + j]
        return
    for h in range(hidden):
        for j in range(width):
            panel[h, j] = w[first + h, column + j]
        for j in range(width, TILE_COLUMNS):
            panel[h, j] = 0


def padded_width(hidden):
    """The row length of the sums' scratch: whole panels of 32 columns."""
    return -(-hidden // TILE_COLUMNS) * TILE_COLUMNS


def lstm_steps(meta, x, panels_h, panels_x, h_buffer, c, sums, gates, out, h_prev_all,
               c_prev_all, tanh_c_all, save, parts):
    """Run the steps meta[s] = (start, stop, n) in order, each thread a share of the work.

    ``x`` (rows, I) C-contiguous, the inputs; ``panels_h``, ``panels_x``:
    the per-gate [W_hhᵀ; b] (4, K, H) and W_ihᵀ (4, I, H) in panels (``pack_weight_panels``);
    ``h_buffer`` (batch, K) = [h 1], updated in place; ``c`` (batch, H) in place;
    ``sums`` (4, batch, ``padded_width(H)``) scratch; ``out`` (rows, H) the outputs.
    Training (``save``): the activations i, f, o, g go to ``gates`` (4, rows, H),
    tanh c_t to ``tanh_c_all`` (rows, H), h_{t-1} and c_{t-1} to ``h_prev_all`` and
    ``c_prev_all``; otherwise ``tanh_c_all`` is a (batch, H) scratch and the others
    are not touched.

    How the work is shared depends on the batch (all three give the same bits):

    - ≥ 8 rows per thread: ``steps_by_rows``, each thread all the steps of its own rows
      (no barrier in the loop; 5% faster than by gates at batch 64, 10% at 16);
    - batch ≤ 4: ``steps_by_units``, each thread its hidden units, one region per step
      (batch 1: 1.10-1.17x by gates; batch 8: 0.93-0.95x, so not used there);
    - between: ``steps_by_gates``, two regions per step (products by gate, then gate
      maths by row).
    """
    batch = h_buffer.shape[0]
    share = -(-(-(-batch // parts)) // MAX_TILE_ROWS) * MAX_TILE_ROWS   # rows per thread
    args = (meta, x, panels_h, panels_x, h_buffer, c, sums, gates, out, h_prev_all,
            c_prev_all, tanh_c_all, save, parts)
    if parts > 1 and share * (parts - 1) < batch:
        steps_by_rows(*args)
    elif parts > 1 and batch <= UNIT_SPLIT_MAX_BATCH:
        steps_by_units(*args)
    else:
        steps_by_gates(*args)


UNIT_SPLIT_MAX_BATCH = 4


@jit.parallel_kernel
def steps_by_rows(meta, x, panels_h, panels_x, h_buffer, c, sums, gates, out, h_prev_all,
                  c_prev_all, tanh_c_all, save, parts):
    """``lstm_steps`` with the rows shared out in blocks of 8 (``share`` per thread)."""
    batch, tasks = h_buffer.shape[0], panels_h.shape[0] * panels_h.shape[1]
    share = -(-(-(-batch // parts)) // MAX_TILE_ROWS) * MAX_TILE_ROWS
    for p in jit.prange(parts):
        first = p * share
        for s in range(meta.shape[0]):
            start, last = meta[s, 0], min(meta[s, 2], first + share)
            if last > first:
                _products(start, 0, tasks, first, last, x, panels_h, panels_x, h_buffer, sums)
                _finish_rows(start, first, last, 0, c.shape[1], sums, h_buffer, h_buffer, c,
                             gates, out, h_prev_all, c_prev_all, tanh_c_all, save)


@jit.parallel_kernel
def steps_by_gates(meta, x, panels_h, panels_x, h_buffer, c, sums, gates, out, h_prev_all,
                   c_prev_all, tanh_c_all, save, parts):
    """``lstm_steps`` with two regions per step: the (gate, panel) pairs of the products
    shared out, then the rows of the gate maths."""
    tasks = panels_h.shape[0] * panels_h.shape[1]
    tasks_per_part = (tasks + parts - 1) // parts
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        if n == 0:
            continue
        for p in jit.prange(parts):
            _products(start, p * tasks_per_part, min(tasks, (p + 1) * tasks_per_part), 0, n,
                      x, panels_h, panels_x, h_buffer, sums)
        rows_per_part = (n + parts - 1) // parts
        for p in jit.prange(parts):
            _finish_rows(start, p * rows_per_part, min(n, (p + 1) * rows_per_part), 0,
                         c.shape[1], sums, h_buffer, h_buffer, c, gates, out, h_prev_all,
                         c_prev_all, tanh_c_all, save)


@jit.parallel_kernel
def steps_by_units(meta, x, panels_h, panels_x, h_buffer, c, sums, gates, out, h_prev_all,
                   c_prev_all, tanh_c_all, save, parts):
    """``lstm_steps`` with each thread owning a range of hidden units (whole panels, all
    four gates): per step it computes their sums and gate maths and writes its part of
    h_t, one region per step. h_t goes to the other half of a pair of [h 1] buffers
    (the other thread may still be reading h_{t-1}), whose rows are whole cache lines
    (two threads writing the two halves of one line would take it from each other)."""
    batch, k, item = h_buffer.shape[0], h_buffer.shape[1], h_buffer.itemsize
    hidden, n_panels = c.shape[1], panels_h.shape[1]
    panels_per_part = (n_panels + parts - 1) // parts
    pitch = -(-k // 16) * 16
    space = np.empty(2 * batch * pitch + 16, h_buffer.dtype)
    skip = (-(space.ctypes.data // item)) % 16                # 64-byte aligned
    h_pair = space[skip:skip + 2 * batch * pitch].reshape(2, batch, pitch)
    h_pair[0, :, :k] = h_buffer
    h_pair[1, :, :k] = h_buffer
    current, previous_n = 0, 0
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        if n == 0:
            continue
        for r in range(n, previous_n):          # rows whose sequence ended keep their h
            h_pair[1 - current, r] = h_pair[current, r]
        previous_n = n
        for p in jit.prange(parts):
            p0 = p * panels_per_part
            p1 = min(n_panels, p0 + panels_per_part)
            if p1 > p0:
                for gate in range(4):
                    _products(start, gate * n_panels + p0, gate * n_panels + p1, 0, n, x,
                              panels_h, panels_x, h_pair[current], sums)
                _finish_rows(start, 0, n, p0 * TILE_COLUMNS, min(hidden, p1 * TILE_COLUMNS),
                             sums, h_pair[current], h_pair[1 - current], c, gates, out,
                             h_prev_all, c_prev_all, tanh_c_all, save)
        current = 1 - current
    h_buffer[:] = h_pair[current, :, :k]


@jit.kernel
def _products(start, first_task, last_task, first, last, x, panels_h, panels_x, h, sums):
    """sums[k, first:last, 32q:32q+32] = [h 1] panels_h[k, q] + x_t panels_x[k, q] for the
    tasks (k, q) numbered first_task..last_task - 1 (task = 4-gate-major k·Q + q), in
    tiles of ≤ 8 rows; x_t's rows begin at row ``start`` of x; [h 1] is the first K
    columns of ``h`` (rows of any length ≥ K, unit column stride)."""
    k, inputs, item = panels_h.shape[2], x.shape[1], h.itemsize
    lda, width = h.strides[0] // item, sums.shape[2]
    per_gate, per_panel_h, per_panel_x = sums.shape[1] * width, k * TILE_COLUMNS, \
        inputs * TILE_COLUMNS
    for task in range(first_task, last_task):
        gate, panel = task // panels_h.shape[1], task % panels_h.shape[1]
        for r0 in range(first, last, MAX_TILE_ROWS):
            rows = min(MAX_TILE_ROWS, last - r0)
            target = sums.ctypes.data + (gate * per_gate + r0 * width
                                         + panel * TILE_COLUMNS) * item
            tile_fma(rows, h.ctypes.data + r0 * lda * item, lda,
                     panels_h.ctypes.data + task * per_panel_h * item, k, target, width, False)
            tile_fma(rows, x.ctypes.data + (start + r0) * inputs * item, inputs,
                     panels_x.ctypes.data + task * per_panel_x * item, inputs, target, width,
                     True)


@jit.kernel
def _finish_rows(start, first, last, u0, u1, sums, h_source, h_target, c, gates, out,
                 h_prev_all, c_prev_all, tanh_c_all, save):
    """The gate maths of rows first..last - 1, hidden units u0..u1 - 1, from their sums
    (``lstm_steps``): h_{t-1} read from ``h_source``, h_t written to ``out`` and
    ``h_target`` (the same array when one thread owns whole rows)."""
    for r in range(first, last):
        row = start + r
        s_i, s_f = sums[0, r, u0:u1], sums[1, r, u0:u1]
        s_o, s_g = sums[2, r, u0:u1], sums[3, r, u0:u1]
        if save:
            h_prev_all[row, u0:u1] = h_source[r, u0:u1]
            c_prev_all[row, u0:u1] = c[r, u0:u1]
            _gate_row(s_i, s_f, s_o, s_g, gates[0, row, u0:u1], gates[1, row, u0:u1],
                      gates[2, row, u0:u1], gates[3, row, u0:u1], True, c[r, u0:u1],
                      tanh_c_all[row, u0:u1], out[row, u0:u1], h_target[r, u0:u1])
        else:                                               # (the activations: not kept)
            _gate_row(s_i, s_f, s_o, s_g, s_i, s_f, s_o, s_g, False, c[r, u0:u1],
                      tanh_c_all[r, u0:u1], out[row, u0:u1], h_target[r, u0:u1])


@jit.kernel
def _gate_row(s_i, s_f, s_o, s_g, a_i, a_f, a_o, a_g, keep, c, tanh_c, h, h_next):
    """One row of ``jit_recurrent.lstm_forward_step_f32`` from the sums S (1-D contiguous
    slices: the compiler vectorizes them; 2-D blocks typed with unknown strides it did
    not); the activations go to a_k if ``keep``. (Writing them back into the s_k
    instead made the compiler's overlap check choose its scalar loop: 20x slower.)"""
    half = s_i.dtype.type(0.5)
    for j in range(h.shape[0]):
        ig = tanh_scalar(s_i[j]) * half + half
        fg = tanh_scalar(s_f[j]) * half + half
        og = tanh_scalar(s_o[j]) * half + half
        gg = tanh_scalar(s_g[j])
        cell = c[j] * fg + ig * gg
        tc = tanh_scalar(cell)
        if keep:
            a_i[j], a_f[j], a_o[j], a_g[j] = ig, fg, og, gg
        value = og * tc
        c[j], tanh_c[j], h[j], h_next[j] = cell, tc, value, value


@jit.parallel_kernel
def lstm_backward_steps(gemm, integer, meta, gates, d_gates, w, panels, tanh_c_all, c_prev_all,
                        g_out, output_is_zero, dh, dc, back, parts):
    """Backpropagation through the steps meta[s] = (start, stop, n), in the order given.

    Per step, rows split over the threads: dh_t = the previous step's Σ_k dA_k W_hh,k +
    the output's gradient, then the gate gradients of ``jit_recurrent.lstm_backward_step``
    into ``d_gates`` (4, rows, H), dc updated in place to dL/dc_{t-1}; then the products
    dA_k W_hh,k (``w`` (4, H, P)):

    - float32 with ``panels`` = ``pack_gate_rows`` of W_hh (4, ceil(P / 32), H, 32): a share of
      the columns of dh per thread, register tiles summing the four gates in their
      accumulators (``jit_tile.tile_fma``) into back[0] (batch, ≥ P);
    - otherwise (``panels`` empty; float64): whole gates per thread, one BLAS call each
      into back[k] (4, batch, ≥ P), summed in NumPy's order ((b0 + b1) + b2) + b3.

    ``dh`` (batch, P) holds dL/dh_n on entry (rows a step has not reached yet keep it)
    and dL/dh_0 on return.
    """
    hidden, state = w.shape[1], w.shape[2]
    one, zero = w.dtype.type(1), w.dtype.type(0)
    item, ldb = w.itemsize, back.shape[2]
    tiled = panels.shape[0] > 0
    gates_per_part = (4 + parts - 1) // parts
    n_panels = panels.shape[1]
    panels_per_part = (n_panels + parts - 1) // parts
    per_panel = hidden * TILE_COLUMNS
    summed = 0                        # rows of dh that are still the previous step's Σ_k
    for s in range(meta.shape[0]):
        start, n = meta[s, 0], meta[s, 2]
        rows = max(n, summed)         # (a shrinking batch: the rows left get their Σ too)
        rows_per_part = (rows + parts - 1) // parts
        for p in jit.prange(parts):
            for r in range(p * rows_per_part, min(rows, (p + 1) * rows_per_part)):
                row, h_grad = start + r, dh[r]
                if r < summed:
                    _collect_row(back, r, tiled, h_grad)
                if r >= n:
                    continue
                if not output_is_zero:
                    add_row(h_grad, g_out[row])
                _backward_row(h_grad, tanh_c_all[row], dc[r], c_prev_all[row], gates[0, row],
                              gates[1, row], gates[2, row], gates[3, row], d_gates[0, row],
                              d_gates[1, row], d_gates[2, row], d_gates[3, row], one)
        if tiled:
            for p in jit.prange(parts):
                for panel in range(p * panels_per_part, min(n_panels, (p + 1) * panels_per_part)):
                    for r0 in range(0, n, MAX_TILE_ROWS):
                        for k in range(4):
                            tile_fma(min(MAX_TILE_ROWS, n - r0),
                                     d_gates.ctypes.data
                                     + (k * d_gates.shape[1] + start + r0) * hidden * item,
                                     hidden, panels.ctypes.data
                                     + (k * n_panels + panel) * per_panel * item, hidden,
                                     back.ctypes.data + (r0 * ldb + panel * TILE_COLUMNS) * item,
                                     ldb, k > 0)
        else:
            for p in jit.prange(parts):
                for k in range(p * gates_per_part, min(4, (p + 1) * gates_per_part)):
                    gemm_at(gemm, integer, NO_TRANS, NO_TRANS, n, state, hidden, one,
                            d_gates.ctypes.data + (k * d_gates.shape[1] + start) * hidden * item,
                            hidden, w[k].ctypes.data, state, zero, back[k].ctypes.data, ldb)
        summed = n
    for r in range(summed):
        _collect_row(back, r, tiled, dh[r])


@jit.kernel
def _collect_row(back, r, tiled, out):
    """Row r of Σ_k dA_k W_hh,k into ``out``: back[0] (tiled) or the sum of back[k]."""
    if tiled:
        out[:] = back[0, r, :out.shape[0]]
    else:
        sum_row(back[0, r, :out.shape[0]], back[1, r, :out.shape[0]], back[2, r, :out.shape[0]],
                back[3, r, :out.shape[0]], out)


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
