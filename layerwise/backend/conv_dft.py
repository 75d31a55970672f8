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
matrix M acts on interleaved (real, imaginary) columns as the real matrix of 2x2
blocks [[Re M, Im M], [-Im M, Re M]]. The inverse transform (the 1/(Hp·Wp) of irfft2 and its weights c_v: 1 for v = 0
and the Nyquist column, 2 otherwise) brings back only the wanted pixels:

    y[a, b] = Re Σ_v c_v e^{2πi·vb/Wp} Z[a, v] / (Hp·Wp),   Z[a, v] = Σ_u e^{2πi·ua/Hp} Y[u, v].

Spectra are stored frequency-major: (Hp, Wp//2 + 1, batch, channels), complex.
"""
import functools

import numpy as np

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


def spectrum(a, grid, offset):
    """DFT of a (A, B, h, w) placed at ``offset`` in a ``grid``: (Hp, Fw, A, B) complex."""
    n_a, n_b, h, w = a.shape
    fw = grid[1] // 2 + 1
    complex_type = _COMPLEX[a.dtype]
    t = (a.reshape(-1, w) @ _columns_forward(w, grid[1], offset[1], a.dtype.str))
    t = t.view(complex_type).reshape(n_a, n_b, h, fw)                      # along W
    t = np.ascontiguousarray(t.transpose(2, 3, 0, 1)).reshape(h, -1)        # (h, Fw·A·B)
    out = _rows_forward(h, grid[0], offset[0], a.dtype.str) @ t            # along H
    return out.reshape(grid[0], fw, n_a, n_b)


def inverse(spec, grid, rows, cols, dtype):
    """Real pixels [rows) x [cols) ((start, count) pairs) of the inverse DFT: (A, B, h, w)."""
    hp, fw, n_a, n_b = spec.shape
    (r0, h), (c0, w) = rows, cols
    z = (_rows_inverse(hp, r0, h, dtype.str) @ spec.reshape(hp, -1))       # along H
    z = np.ascontiguousarray(z.reshape(h, fw, n_a, n_b).transpose(2, 3, 0, 1))
    real = z.view(dtype).reshape(-1, 2 * fw)                               # (A·B·h, 2Fw)
    m = _columns_inverse(grid[1], c0, w, 1.0 / (grid[0] * grid[1]), dtype.str)
    return (real @ m).reshape(n_a, n_b, h, w)                              # along W


def real_blocks(m):
    """The real matrix acting like the complex matrix M (F, K, L) on interleaved rows.

    Rows (k, 0) hold M's interleaved (Re, Im) values and rows (k, 1) those of i·M:
    for complex rows x,  x_real @ blocks = (x · M)_real.  Shape (F, 2K, 2L).
    """
    f, k, l_ = m.shape
    out = np.empty((f, k, 2, l_), m.dtype)
    out[:, :, 0] = m
    np.multiply(m, 1j, out=out[:, :, 1])
    return out.view(m.real.dtype).reshape(f, 2 * k, 2 * l_)


def mix(spec, blocks):
    """Per frequency, complex (F, N, K) times the complex matrix encoded by ``blocks``."""
    real = spec.view(spec.real.dtype)                                      # (F, N, 2K)
    return (real @ blocks).view(spec.dtype)                                # (F, N, L)


class DFTConv:
    """Forward and backward of one convolution (stride 1, groups 1) by matrix DFTs."""

    def __init__(self, x, weight, padding):
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
        self.forward_blocks = real_blocks(np.conj(w_f).transpose(0, 2, 1))    # conj(W)ᵀ
        self.backward_blocks = real_blocks(w_f)                               # W
        self.spectrum_shape = (hp, fw)

    def forward(self, bias=None):
        y_f = mix(self.x_f, self.forward_blocks)                          # X conj(W)ᵀ: (F, N, O)
        y = inverse(y_f.reshape(*self.spectrum_shape, *y_f.shape[1:]), self.grid,
                    (0, self.out_size[0]), (0, self.out_size[1]), self.dtype)
        if bias is not None:
            y += bias[:, None, None]
        return y

    def backward(self, grad_output, need_input=True, need_weight=True):
        g_f = spectrum(grad_output, self.grid, (0, 0))                    # (Hp, Fw, N, O)
        g_f = g_f.reshape(-1, *g_f.shape[2:])
        grad_x = grad_w = None
        if need_input:
            dx_f = mix(g_f, self.backward_blocks)                         # G W: (F, N, C)
            h, w = self.input_shape[2:]
            grad_x = inverse(dx_f.reshape(*self.spectrum_shape, *dx_f.shape[1:]), self.grid,
                             (self.origin[0], h), (self.origin[1], w), self.dtype)
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
        p = (g @ self.x_f.view(self.x_f.real.dtype)).reshape(f, o, 2, c, 2)
        out = np.empty((f, o, c), g_f.dtype)
        real = out.view(p.dtype).reshape(f, o, c, 2)
        np.add(p[:, :, 0, :, 0], p[:, :, 1, :, 1], out=real[..., 0])      # Gr Xr + Gi Xi
        np.subtract(p[:, :, 0, :, 1], p[:, :, 1, :, 0], out=real[..., 1])  # Gr Xi - Gi Xr
        return out

    def release(self):
        self.x_f = self.forward_blocks = self.backward_blocks = None
