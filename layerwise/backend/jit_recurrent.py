"""The pointwise part of one LSTM / GRU backward step as a compiled loop (numba).

Per time step the NumPy code makes ~14 elementwise calls on (batch, hidden) blocks;
at batch 64 and hidden 256 each call costs more in overhead than in arithmetic. Here
one call does them all, with the same operations in the same order (so the gradients
are bit-identical; ``one`` is 1 in the arrays' dtype, so that no step is promoted to
float64); the GEMMs around them stay with the BLAS. Formulas: the module
docstrings of ``nn.functional.lstm`` and ``nn.functional.gru``. With the native pool on
(``backend.native``), ``rows`` runs a kernel's ``*_parallel`` twin, a range of the
batch's rows per thread (a step's pointwise work at batch 64 and hidden 256 takes ~50
µs on one core; a parallel region ~2-5 µs).
"""
from . import jit, native
from .fast_tanh import tanh_scalar

MIN_ROWS = 8     # rows per thread below which one thread does the step


def rows(kernel, *args):
    """``kernel(*args)`` on (n, H) blocks, their rows split over the native pool when on."""
    parts = native.parts(args[0].shape[0], MIN_ROWS) if native.active() else 1
    if parts > 1:
        _TWINS[kernel](*args, parts)
    else:
        kernel(*args)


def usable(*arrays):
    """True when the compiled loop applies: numba on, C-contiguous float (n, H) blocks."""
    first = arrays[0]
    return jit.enabled() and first.dtype in jit.FLOAT_TYPES and all(
        a.flags.c_contiguous and a.dtype == first.dtype and a.shape == first.shape
        for a in arrays)


@jit.kernel
def lstm_backward_step(dh, tanh_c, dc, c_prev, i, f, o, g, di, df, do, dg, one):
    """Given dL/dh_t (``dh``) and dL/dc_t from step t+1 (``dc``, updated in place to
    dL/dc_{t-1}), the gradients w.r.t. the gate pre-activations (internal scaling):

        do = dh ⊙ tanh c ⊙ σ'(o);   dc += dh ⊙ o ⊙ (1 - tanh² c)
        di = dc ⊙ g ⊙ σ'(i);   df = dc ⊙ c_{t-1} ⊙ σ'(f);   dg = dc ⊙ i ⊙ (1 - g²)
        dc_{t-1} = dc ⊙ f                               (σ'(s) = (1 - s) s)
    """
    for r in range(dh.shape[0]):
        for j in range(dh.shape[1]):
            h_grad, tc = dh[r, j], tanh_c[r, j]
            ig, fg, og, gg = i[r, j], f[r, j], o[r, j], g[r, j]
            c_grad = dc[r, j] + ((one - tc * tc) * og) * h_grad
            di[r, j] = (c_grad * gg) * ((one - ig) * ig)
            df[r, j] = (c_grad * c_prev[r, j]) * ((one - fg) * fg)
            dg[r, j] = (c_grad * ig) * (one - gg * gg)
            do[r, j] = (h_grad * tc) * ((one - og) * og)
            dc[r, j] = c_grad * fg


@jit.kernel
def gru_backward_step(dh, h_prev, hn, r, z, n, dxn, dr, dz, dhn, dh_direct, one):
    """Given dL/dh_t (``dh``), the gradients w.r.t. the pre-activations of one GRU step:

        dn = dh ⊙ (1 - z) ⊙ (1 - n²)                  (input side of n: ``dxn``)
        dz = (h_{t-1} - n) ⊙ dh ⊙ (1 - z) z;   dr = dn ⊙ (W_hn h + b_hn) ⊙ (1 - r) r
        dhn = dn ⊙ r (hidden side of n);   dh_direct = dh ⊙ z  (the part of dh_{t-1}
        that skips the GEMM)
    """
    for a in range(dh.shape[0]):
        for j in range(dh.shape[1]):
            h_grad, zg, rg, ng = dh[a, j], z[a, j], r[a, j], n[a, j]
            one_minus_z = one - zg
            n_grad = (h_grad * one_minus_z) * (one - ng * ng)
            dxn[a, j] = n_grad
            dz[a, j] = ((h_prev[a, j] - ng) * h_grad) * (one_minus_z * zg)
            dr[a, j] = (n_grad * hn[a, j]) * ((one - rg) * rg)
            dhn[a, j] = n_grad * rg
            dh_direct[a, j] = h_grad * zg


@jit.kernel
def lstm_forward_step_f32(a_i, a_f, a_o, a_g, m_i, m_f, m_o, m_g, c, tanh_c, h):
    """One float32 LSTM step's pointwise part, in place (inference and training):

        a_k += m_k (input projection + recurrent product; i, f, o pre-scaled by 1/2)
        i, f, o = (1 + tanh a) / 2 = σ(2a);   g = tanh a_g;   (written back into a_k)
        c = c ⊙ f + i ⊙ g;   tanh_c = tanh c;   h = o ⊙ tanh_c

    with ``fast_tanh``'s rational tanh (within 7 ulp; NumPy's tanh is 5x slower here),
    so unlike the other kernels it is not bit-identical to the NumPy code.
    """
    half = a_i.dtype.type(0.5)
    for r in range(c.shape[0]):
        for j in range(c.shape[1]):
            ig = tanh_scalar(a_i[r, j] + m_i[r, j]) * half + half
            fg = tanh_scalar(a_f[r, j] + m_f[r, j]) * half + half
            og = tanh_scalar(a_o[r, j] + m_o[r, j]) * half + half
            gg = tanh_scalar(a_g[r, j] + m_g[r, j])
            cell = c[r, j] * fg + ig * gg
            tc = tanh_scalar(cell)
            a_i[r, j], a_f[r, j], a_o[r, j], a_g[r, j] = ig, fg, og, gg
            c[r, j], tanh_c[r, j], h[r, j] = cell, tc, og * tc


@jit.kernel
def gru_forward_step_f32(a_r, a_z, a_n, m_r, m_z, hh_n, b_in, h_prev, h):
    """One float32 GRU step's pointwise part, in place (inference and training):

        r, z = (1 + tanh(a + m)) / 2 = σ(2(a + m))      (r, z pre-scaled by 1/2)
        n = tanh(a_n + r ⊙ hh_n + b_in);   h = (h_prev - n) ⊙ z + n

    r, z and n are written back into a_r, a_z, a_n (backward reads them); ``b_in`` is
    the input bias of n (zeros without bias). ``fast_tanh``'s tanh: within 7 ulp, not
    bit-identical to the NumPy code.
    """
    half = a_r.dtype.type(0.5)
    for row in range(h.shape[0]):
        for j in range(h.shape[1]):
            rg = tanh_scalar(a_r[row, j] + m_r[row, j]) * half + half
            zg = tanh_scalar(a_z[row, j] + m_z[row, j]) * half + half
            cand = tanh_scalar((a_n[row, j] + rg * hh_n[row, j]) + b_in[j])
            a_r[row, j], a_z[row, j], a_n[row, j] = rg, zg, cand
            h[row, j] = (h_prev[row, j] - cand) * zg + cand


# The kernels above with one range of rows per thread of the native pool.
@jit.parallel_kernel
def lstm_backward_step_parallel(dh, tanh_c, dc, c_prev, i, f, o, g, di, df, do, dg, one,
                                parts):
    step = (dh.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(dh.shape[0], (p + 1) * step)
        lstm_backward_step(dh[a:b], tanh_c[a:b], dc[a:b], c_prev[a:b], i[a:b], f[a:b],
                           o[a:b], g[a:b], di[a:b], df[a:b], do[a:b], dg[a:b], one)


@jit.parallel_kernel
def gru_backward_step_parallel(dh, h_prev, hn, r, z, n, dxn, dr, dz, dhn, dh_direct, one,
                               parts):
    step = (dh.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(dh.shape[0], (p + 1) * step)
        gru_backward_step(dh[a:b], h_prev[a:b], hn[a:b], r[a:b], z[a:b], n[a:b], dxn[a:b],
                          dr[a:b], dz[a:b], dhn[a:b], dh_direct[a:b], one)


@jit.parallel_kernel
def lstm_forward_step_f32_parallel(a_i, a_f, a_o, a_g, m_i, m_f, m_o, m_g, c, tanh_c, h,
                                   parts):
    step = (c.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(c.shape[0], (p + 1) * step)
        lstm_forward_step_f32(a_i[a:b], a_f[a:b], a_o[a:b], a_g[a:b], m_i[a:b], m_f[a:b],
                              m_o[a:b], m_g[a:b], c[a:b], tanh_c[a:b], h[a:b])


@jit.parallel_kernel
def gru_forward_step_f32_parallel(a_r, a_z, a_n, m_r, m_z, hh_n, b_in, h_prev, h, parts):
    step = (h.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        a, b = p * step, min(h.shape[0], (p + 1) * step)
        gru_forward_step_f32(a_r[a:b], a_z[a:b], a_n[a:b], m_r[a:b], m_z[a:b], hh_n[a:b],
                             b_in, h_prev[a:b], h[a:b])


_TWINS = {lstm_backward_step: lstm_backward_step_parallel,
          gru_backward_step: gru_backward_step_parallel,
          lstm_forward_step_f32: lstm_forward_step_f32_parallel,
          gru_forward_step_f32: gru_forward_step_f32_parallel}
