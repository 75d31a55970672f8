"""Convolution in the frequency domain with the transforms done as matrix products.

The convolution theorem (see ``conv_fft``) with the 2-D discrete Fourier
transform written as two small dense matrices instead of FFT calls:

    X = E_H · x · E_Wᵀ,    E_H[u, a] = e^{-2πi·u(a+top)/Hp},  E_W[v, b] = e^{-2πi·v(b+left)/Wp}

for u < Hp and v < Wp//2 + 1 (a real input needs only half the columns). Each
factor is one BLAS product over the whole batch, and rows or columns that are zero
(padding) or never needed (cropped outputs) are left out of the matrices. For the
small images of MNIST-sized networks this beats calling an FFT thousands of times
on 18x18 grids. The first factor is a real product whose output columns alternate
cosine and sine, so it can be read directly as complex numbers; the others are
complex products (cgemm). Per frequency (u, v), channels mix in one complex matrix
product:

    forward   Y = X · conj(W)ᵀ          (N x C) @ (C x O)
    backward  dX = G · W,  dW = conj(G)ᵀ · X

done as real products (faster than the BLAS's complex ones here): a complex
matrix M acts on interleaved (real, imaginary) rows as a real matrix of 2x2 blocks,
and its columns are laid out *planar* (all real parts, then all imaginary parts), so
the products land as two real planes (``mix``, frequencies split over the cores):

    Re(x·M) = x_re M_re - x_im M_im,    Im(x·M) = x_re M_im + x_im M_re.

The inverse transform (the 1/(Hp·Wp) of irfft2 and its weights c_v: 1 for v = 0 and
the Nyquist column, 2 otherwise) brings back only the wanted pixels:

    y[a, b] = Σ_v c_v (cos(2π·vb/Wp) Re Z[a, v] - sin(2π·vb/Wp) Im Z[a, v]) / (Hp·Wp),
    Z[a, v] = Σ_u e^{2πi·ua/Hp} Y[u, v],

from the planes, both steps real products: Z for all (v, n, o) at once, rows (a, re/im)
(``_planar_rows_inverse``), then per output row a a product whose result is written
straight into the NCHW output (no transpose of the spectra).

Spectra are stored frequency-major: (Hp, Wp//2 + 1, batch, channels), complex, or as
(2, Hp, Wp//2 + 1, batch, channels) real planes after a ``mix``.
"""
import functools

import numpy as np

from . import buffers, jit, jit_dft
from .blas import matmul

_COMPLEX = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


@functools.lru_cache(maxsize=256)
def _columns_forward(length, grid, offset, dtype):
    """(length, 2·Fw) real: columns cos, -sin interleaved, so a real product gives complex."""
    fw = grid // 2 + 1
    angle = 2 * np.pi * np.outer(np.arange(length) + offset, np.arange(fw)) / grid
    out = np.empty((length, fw, 2))
    out[:, :, 0], out[:, :, 1] = np.cos(angle), -np.sin(angle)
    return out.reshape(length, 2 * fw).astype(dtype)


@functools.lru_cache(maxsize=256)
def _rows_forward(length, grid, offset, dtype):
    """(Hp, length) complex: e^{-2πi·u(a+offset)/grid}."""
    angle = 2 * np.pi * np.outer(np.arange(grid), np.arange(length) + offset) / grid
    return np.exp(-1j * angle).astype(_COMPLEX[np.dtype(dtype)])


@functools.lru_cache(maxsize=256)
def _rows_inverse(grid, start, count, dtype):
    """(count, Hp) complex: e^{+2πi·u·a/grid} for a in [start, start+count)."""
    angle = 2 * np.pi * np.outer(np.arange(start, start + count), np.arange(grid)) / grid
    return np.exp(1j * angle).astype(_COMPLEX[np.dtype(dtype)])


@functools.lru_cache(maxsize=256)
def _columns_inverse(grid, start, count, scale, dtype):
    """(2·Fw, count) real: rows c·cos, -c·sin interleaved (matching complex storage)."""
    fw = grid // 2 + 1
    weight = np.full(fw, 2.0)
    weight[0] = 1.0
    if grid % 2 == 0:
        weight[-1] = 1.0
    angle = 2 * np.pi * np.outer(np.arange(fw), np.arange(start, start + count)) / grid
    out = np.empty((fw, 2, count))
    out[:, 0], out[:, 1] = weight[:, None] * np.cos(angle), -weight[:, None] * np.sin(angle)
    return (out.reshape(2 * fw, count) * scale).astype(dtype)


@functools.lru_cache(maxsize=256)
def _planar_rows_inverse(grid, start, count, dtype):
    """(2·count, 2·Hp) real: rows (a, re/im) of Z from columns (re/im, u) of the planes."""
    angle = 2 * np.pi * np.outer(np.arange(start, start + count), np.arange(grid)) / grid
    cos, sin = np.cos(angle), np.sin(angle)
    out = np.empty((count, 2, 2, grid))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = cos, -sin, sin, cos
    return out.reshape(2 * count, 2 * grid).astype(dtype)


@functools.lru_cache(maxsize=256)
def _planar_columns_inverse(grid, start, count, scale, dtype):
    """(2·Fw, count) real: rows c·cos then -c·sin (planar, matching Z's rows)."""
    real = _columns_inverse(grid, start, count, scale, dtype)              # rows (v, re/im)
    fw = real.shape[0] // 2
    return np.ascontiguousarray(real.reshape(fw, 2, count).transpose(1, 0, 2)).reshape(
        2 * fw, count)


def spectrum(a, grid, offset):
    """DFT of a (A, B, h, w) placed at ``offset`` in a ``grid``: (Hp, Fw, A, B) complex."""
    n_a, n_b, h, w = a.shape
    fw = grid[1] // 2 + 1
    complex_type = _COMPLEX[a.dtype]
    t = matmul(a.reshape(-1, w), _columns_forward(w, grid[1], offset[1], a.dtype.str))
    t = t.view(complex_type).reshape(n_a, n_b, h, fw)                      # along W
    t = np.ascontiguousarray(t.transpose(2, 3, 0, 1)).reshape(h, -1)        # (h, Fw·A·B)
    out = matmul(_rows_forward(h, grid[0], offset[0], a.dtype.str), t)     # along H
    return out.reshape(grid[0], fw, n_a, n_b)


def inverse(spec, grid, rows, cols, dtype):
    """Real pixels [rows) x [cols) ((start, count) pairs) of the inverse DFT: (A, B, h, w)."""
    hp, fw, n_a, n_b = spec.shape
    (r0, h), (c0, w) = rows, cols
    z = matmul(_rows_inverse(hp, r0, h, dtype.str), spec.reshape(hp, -1))  # along H
    z = np.ascontiguousarray(z.reshape(h, fw, n_a, n_b).transpose(2, 3, 0, 1))
    real = z.view(dtype).reshape(-1, 2 * fw)                               # (A·B·h, 2Fw)
    m = _columns_inverse(grid[1], c0, w, 1.0 / (grid[0] * grid[1]), dtype.str)
    return matmul(real, m).reshape(n_a, n_b, h, w)                         # along W


def planar_blocks(w_f, conjugate_transpose):
    """The real (F, 2K, 2L) matrix acting like M on interleaved rows, giving planar columns.

    From the weight spectrum w_f (F, O, C): M = conj(w_f)ᵀ (K = C, L = O) for the
    forward pass, M = w_f (K = O, L = C) for the input gradient. Row (k, re/im),
    column (re/im, l):  [[M_re, M_im], [-M_im, M_re]]  in block form.
    """
    f, o, c = w_f.shape
    if jit.enabled() and w_f.dtype in (np.complex64, np.complex128) and w_f.flags.c_contiguous:
        k, l_ = (c, o) if conjugate_transpose else (o, c)
        out = buffers.take((f, 2 * k, 2 * l_), w_f.real.dtype)   # given back by release()
        jit_dft.planar_blocks(w_f.view(w_f.real.dtype).reshape(f, o, c, 2), out,
                              conjugate_transpose)
        return out
    if conjugate_transpose:
        m_re, m_im = w_f.real.transpose(0, 2, 1), -w_f.imag.transpose(0, 2, 1)
    else:
        m_re, m_im = w_f.real, w_f.imag
    f, k, l_ = m_re.shape
    out = np.empty((f, k, 2, 2, l_), m_re.dtype)
    out[:, :, 0, 0], out[:, :, 0, 1] = m_re, m_im
    np.negative(m_im, out=out[:, :, 1, 0])
    out[:, :, 1, 1] = m_re
    return out.reshape(f, 2 * k, 2 * l_)


def mix(spec, blocks):
    """Per frequency, complex (F, N, K) times the matrix of ``blocks``: (2, F, N, L) planes.

    (Splitting the frequencies over layerwise's threads with a single-threaded BLAS was
    2x faster alone but slower within a network: right after the previous layer's
    products the BLAS's own threads still spin on the cores.)
    """
    real = spec.view(spec.real.dtype)                                      # (F, N, 2K)
    f, n, _ = real.shape
    l_ = blocks.shape[2] // 2
    out = np.empty((2, f, n, l_), real.dtype)
    matmul(real, blocks[:, :, :l_], out=out[0])
    matmul(real, blocks[:, :, l_:], out=out[1])
    return out


def inverse_planar(planes, grid, rows, cols, dtype):
    """Real pixels [rows) x [cols) of the inverse DFT of (2, Hp, Fw, A, B) planes: (A, B, h, w)."""
    _, hp, fw, n_a, n_b = planes.shape
    (r0, h), (c0, w) = rows, cols
    z = matmul(_planar_rows_inverse(hp, r0, h, dtype.str), planes.reshape(2 * hp, -1))
    z = z.reshape(h, 2 * fw, n_a * n_b)                                    # per a: (re/im, v)
    m = _planar_columns_inverse(grid[1], c0, w, 1.0 / (grid[0] * grid[1]), dtype.str)
    out = np.empty((n_a, n_b, h, w), dtype)
    matmul(z.transpose(0, 2, 1), m, out=out.reshape(n_a * n_b, h, w).transpose(1, 0, 2))
    return out


class DFTConv:
    """Forward and backward of one convolution (stride 1, groups 1) by matrix DFTs."""

    def __init__(self, x, weight, padding, for_backward=True):
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        (top, bottom), (left, right) = padding
        self.grid = (h + top + bottom, w + left + right)
        self.out_size = (self.grid[0] - kh + 1, self.grid[1] - kw + 1)
        self.input_shape, self.kernel, self.origin = x.shape, (kh, kw), (top, left)
        self.dtype = x.dtype
        hp, fw = self.grid[0], self.grid[1] // 2 + 1
        self.x_f = spectrum(x, self.grid, (top, left)).reshape(hp * fw, n, c)
        w_f = spectrum(weight, self.grid, (0, 0)).reshape(hp * fw, o, c)
        self.forward_blocks = planar_blocks(w_f, conjugate_transpose=True)    # conj(W)ᵀ
        self.backward_blocks = planar_blocks(w_f, False) if for_backward else None   # W
        self.spectrum_shape = (hp, fw)

    def forward(self, bias=None):
        y_f = mix(self.x_f, self.forward_blocks)                  # X conj(W)ᵀ: (2, F, N, O)
        y = inverse_planar(y_f.reshape(2, *self.spectrum_shape, *y_f.shape[2:]), self.grid,
                           (0, self.out_size[0]), (0, self.out_size[1]), self.dtype)
        if bias is not None:
            y += bias[:, None, None]
        return y

    def backward(self, grad_output, need_input=True, need_weight=True):
        g_f = spectrum(grad_output, self.grid, (0, 0))                    # (Hp, Fw, N, O)
        g_f = g_f.reshape(-1, *g_f.shape[2:])
        grad_x = grad_w = None
        if need_input:
            dx_f = mix(g_f, self.backward_blocks)                     # G W: (2, F, N, C)
            h, w = self.input_shape[2:]
            grad_x = inverse_planar(dx_f.reshape(2, *self.spectrum_shape, *dx_f.shape[2:]),
                                    self.grid, (self.origin[0], h), (self.origin[1], w),
                                    self.dtype)
        if need_weight:
            dw_f = self._weight_spectrum(g_f)                             # conj(G)ᵀ X
            grad_w = inverse(dw_f.reshape(*self.spectrum_shape, *dw_f.shape[1:]), self.grid,
                             (0, self.kernel[0]), (0, self.kernel[1]), self.dtype)
        return grad_x, grad_w

    def _weight_spectrum(self, g_f):
        """conj(G)ᵀ X per frequency, from one real product of the interleaved planes."""
        f, n, o = g_f.shape
        c = self.x_f.shape[2]
        g = g_f.view(g_f.real.dtype).transpose(0, 2, 1)                    # (F, 2O, N)
        p = matmul(g, self.x_f.view(self.x_f.real.dtype)).reshape(f, o, 2, c, 2)
        out = np.empty((f, o, c), g_f.dtype)
        real = out.view(p.dtype).reshape(f, o, c, 2)
        np.add(p[:, :, 0, :, 0], p[:, :, 1, :, 1], out=real[..., 0])      # Gr Xr + Gi Xi
        np.subtract(p[:, :, 0, :, 1], p[:, :, 1, :, 0], out=real[..., 1])  # Gr Xi - Gi Xr
        return out

    def release(self):
        buffers.give(self.forward_blocks)
        buffers.give(self.backward_blocks)
        self.x_f = self.forward_blocks = self.backward_blocks = None
