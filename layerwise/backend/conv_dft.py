"""Convolution in the frequency domain with the transforms done as matrix products.

The convolution theorem (see ``conv_fft``) with the 2-D discrete Fourier
transform written as two small dense matrices instead of FFT calls:

    X = E_H · x · E_Wᵀ,    E_H[u, a] = e^{-2πi·u(a+top)/Hp},  E_W[v, b] = e^{-2πi·v(b+left)/Wp}

for u < Hp, v < Wp//2 + 1 (real input: half the columns suffice). Each factor is
one BLAS product over the whole batch — cosines and sines side by side, real and
imaginary parts kept as separate planes — and rows or columns that are zero
(padding) or never needed (cropped outputs) are simply left out of the matrices.
For the small images of MNIST-sized networks this beats calling an FFT thousands
of times on 18x18 grids. Per frequency (u, v), the channels mix in one real block
product: with X = Xr + i·Xi,

    Y = X · conj(W)ᵀ   ->  [Xr | Xi] @ [[Wrᵀ, -Wiᵀ], [Wiᵀ, Wrᵀ]] = [Yr | Yi]

and the inverse transform (with the 1/(Hp·Wp) of irfft2 and its weights c_v: 1 for
v = 0 and the Nyquist column, 2 otherwise) brings back only the wanted pixels:

    y[a, b] = 1/(Hp·Wp) · Σ_v c_v (Zr[a, v] cos(2πvb/Wp) - Zi[a, v] sin(2πvb/Wp)),
    Z[a, v] = Σ_u e^{+2πi·ua/Hp} Y[u, v].

Backward uses the same pieces: dX = G · W, dW = conj(G)ᵀ · X per frequency.
Spectra are stored frequency-major, shape (Hp, Fw, batch, 2, channels).
"""
import functools

import numpy as np


@functools.lru_cache(maxsize=256)
def _forward_matrices(length, grid, offset, half, dtype):
    """[cos | -sin] of e^{-2πi·k(j+offset)/grid} for j < length: (length, 2K), K frequencies."""
    k = np.arange(grid // 2 + 1 if half else grid)
    angle = 2 * np.pi * np.outer(np.arange(length) + offset, k) / grid
    return np.concatenate([np.cos(angle), -np.sin(angle)], axis=1).astype(dtype)


@functools.lru_cache(maxsize=256)
def _inverse_rows(grid, start, count, dtype):
    """[cos; sin] of e^{+2πi·u·a/grid} for a in [start, start+count): (2·count, grid)."""
    angle = 2 * np.pi * np.outer(np.arange(start, start + count), np.arange(grid)) / grid
    return np.concatenate([np.cos(angle), np.sin(angle)], axis=0).astype(dtype)


@functools.lru_cache(maxsize=256)
def _inverse_columns(grid, start, count, scale, dtype):
    """The half-spectrum inverse along W, scaled: (2·Fw, count), rows [c·cos; -c·sin]."""
    fw = grid // 2 + 1
    weight = np.full(fw, 2.0)
    weight[0] = 1.0
    if grid % 2 == 0:
        weight[-1] = 1.0
    angle = 2 * np.pi * np.outer(np.arange(fw), np.arange(start, start + count)) / grid
    block = np.concatenate([weight[:, None] * np.cos(angle), -weight[:, None] * np.sin(angle)])
    return (block * scale).astype(dtype)


def spectrum(a, grid, offset):
    """DFT of a (A, B, h, w) placed at ``offset`` in a ``grid``: (Hp, Fw, A, 2, B)."""
    n_a, n_b, h, w = a.shape
    hp, wp = grid
    fw = wp // 2 + 1
    m_w = _forward_matrices(w, wp, offset[1], True, a.dtype.str)            # (w, 2Fw)
    t = (a.reshape(-1, w) @ m_w).reshape(n_a, n_b, h, 2 * fw)
    t = np.ascontiguousarray(t.transpose(2, 3, 0, 1)).reshape(h, -1)        # (h, 2Fw·A·B)
    m_h = _forward_matrices(h, hp, offset[0], False, a.dtype.str).T         # (2Hp, h)
    p = (m_h @ t).reshape(2, hp, 2, fw, n_a, n_b)                           # [cos,-sin] x [re,im]
    out = np.empty((hp, fw, n_a, 2, n_b), a.dtype)
    real, imag = out[:, :, :, 0, :], out[:, :, :, 1, :]
    np.subtract(p[0, :, 0], p[1, :, 1], out=real)
    np.add(p[0, :, 1], p[1, :, 0], out=imag)
    return out


def inverse(spec, grid, rows, cols):
    """Real pixels [rows) x [cols) (start, count pairs) of the inverse DFT: (A, B, h, w)."""
    hp, fw, n_a, _, n_b = spec.shape
    (r0, h), (c0, w) = rows, cols
    m_h = _inverse_rows(hp, r0, h, spec.dtype.str)                          # (2h, Hp)
    p = (m_h @ spec.reshape(hp, -1)).reshape(2, h, fw, n_a, 2, n_b)
    z = np.empty((n_a, n_b, h, 2, fw), spec.dtype)                          # [Zr | Zi] by v
    np.subtract(p[0, :, :, :, 0], p[1, :, :, :, 1], out=z[:, :, :, 0, :].transpose(2, 3, 0, 1))
    np.add(p[0, :, :, :, 1], p[1, :, :, :, 0], out=z[:, :, :, 1, :].transpose(2, 3, 0, 1))
    m_w = _inverse_columns(grid[1], c0, w, 1.0 / (grid[0] * grid[1]), spec.dtype.str)
    return (z.reshape(-1, 2 * fw) @ m_w).reshape(n_a, n_b, h, w)


def _mix(spec, blocks):
    """Per frequency, [Ar | Ai] (rows x 2K) @ blocks (2K x 2M) -> (Hp, Fw, rows, 2, M)."""
    hp, fw, rows, _, k = spec.shape
    out = spec.reshape(hp * fw, rows, 2 * k) @ blocks
    return out.reshape(hp, fw, rows, 2, -1)


class DFTConv:
    """Forward and backward of one convolution (stride 1, groups 1) by matrix DFTs."""

    def __init__(self, x, weight, padding):
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        (top, bottom), (left, right) = padding
        self.grid = (h + top + bottom, w + left + right)
        self.out_size = (self.grid[0] - kh + 1, self.grid[1] - kw + 1)
        self.input_shape, self.kernel, self.origin = x.shape, (kh, kw), (top, left)
        self.x_f = spectrum(x, self.grid, (top, left))                  # (Hp, Fw, N, 2, C)
        w_f = spectrum(weight, self.grid, (0, 0))                       # (Hp, Fw, O, 2, C)
        wr = w_f[:, :, :, 0, :].reshape(-1, o, c)
        wi = w_f[:, :, :, 1, :].reshape(-1, o, c)
        self.wr, self.wi = wr, wi

    def forward(self, bias=None):
        wr_t, wi_t = self.wr.transpose(0, 2, 1), self.wi.transpose(0, 2, 1)  # (F, C, O)
        blocks = np.block([[wr_t, -wi_t], [wi_t, wr_t]])                 # Y = X conj(W)ᵀ
        y_f = _mix(self.x_f, blocks)                                     # (Hp, Fw, N, 2, O)
        y = inverse(y_f, self.grid, (0, self.out_size[0]), (0, self.out_size[1]))
        if bias is not None:
            y += bias[:, None, None]
        return y

    def backward(self, grad_output, need_input=True, need_weight=True):
        g_f = spectrum(grad_output, self.grid, (0, 0))                   # (Hp, Fw, N, 2, O)
        grad_x = grad_w = None
        if need_input:
            blocks = np.block([[self.wr, self.wi], [-self.wi, self.wr]])  # dX = G W
            dx_f = _mix(g_f, blocks)                                     # (Hp, Fw, N, 2, C)
            h, w = self.input_shape[2:]
            grad_x = inverse(dx_f, self.grid, (self.origin[0], h), (self.origin[1], w))
        if need_weight:
            hp, fw, n, _, o = g_f.shape
            c = self.x_f.shape[-1]
            g = g_f.reshape(hp * fw, n, 2 * o).transpose(0, 2, 1)       # (F, 2O, N)
            prod = (g @ self.x_f.reshape(hp * fw, n, 2 * c)).reshape(hp, fw, 2, o, 2, c)
            dw_f = np.empty((hp, fw, o, 2, c), prod.dtype)               # conj(G)ᵀ X
            np.add(prod[:, :, 0, :, 0], prod[:, :, 1, :, 1], out=dw_f[:, :, :, 0])
            np.subtract(prod[:, :, 0, :, 1], prod[:, :, 1, :, 0], out=dw_f[:, :, :, 1])
            grad_w = inverse(dw_f, self.grid, (0, self.kernel[0]), (0, self.kernel[1]))
        return grad_x, grad_w

    def release(self):
        self.x_f = self.wr = self.wi = None
