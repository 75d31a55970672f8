"""Convolution through the convolution theorem (stride 1, no dilation).

Cross-correlation in space is a product in frequency: with F the 2-D discrete
Fourier transform of size (Hp, Wp) — the padded input's size — and * the complex
conjugate,

    y[n, o]   = F⁻¹( Σ_c F(x_pad[n, c]) · F(w[o, c])* )          cropped to (Ho, Wo)
    dx[n, c]  = F⁻¹( Σ_o F(dy[n, o]) · F(w[o, c]) )               cropped, then unpadded
    dw[o, c]  = F⁻¹( Σ_n F(x_pad[n, c]) · F(dy[n, o])* )          cropped to (kh, kw)

(w and dy zero-filled to Hp x Wp). A circular correlation of size Hp equals the
linear one on the valid outputs i <= Hp - kh, so no extra padding is needed. Each
sum over channels is, frequency by frequency, a small complex matrix product: the
O(k²) work per output pixel of the direct method becomes O(log(Hp·Wp)) for the
transforms plus one (N x C) @ (C x O) product per frequency. It pays off for
larger kernels on small images (5x5 on 14x14, say); ``conv_select`` measures.

Real inputs have Hermitian spectra, so ``rfft2`` keeps Wp//2 + 1 columns.
"""
import numpy as np
import scipy.fft

from .conv import pad2d
from .parallel import get_num_threads
from .blas import matmul


def _rfft2(a, shape):
    return scipy.fft.rfft2(a, s=shape, workers=get_num_threads())


def _irfft2(a, shape):
    return scipy.fft.irfft2(a, s=shape, workers=get_num_threads())


def _by_frequency(spectrum):
    """(A, B, Hp, Fw) -> (Hp·Fw, A, B) contiguous, for batched matrix products."""
    a, b = spectrum.shape[:2]
    return np.ascontiguousarray(spectrum.reshape(a, b, -1).transpose(2, 0, 1))


def _from_frequency(products, shape):
    """(Hp·Fw, A, B) -> (A, B, Hp, Fw)."""
    return products.transpose(1, 2, 0).reshape(products.shape[1], products.shape[2], *shape)


class FFTConv:
    """Forward and backward of one convolution by FFT, sharing spectra between them."""

    def __init__(self, x, weight, padding):
        self.padding = padding
        x_pad = pad2d(x, padding)
        self.input_shape, self.dtype = x.shape, x.dtype
        self.grid = x_pad.shape[2:]
        self.kernel = weight.shape[2:]
        self.out_size = (self.grid[0] - self.kernel[0] + 1, self.grid[1] - self.kernel[1] + 1)
        self.spectrum_shape = (self.grid[0], self.grid[1] // 2 + 1)
        self.x_f = _by_frequency(_rfft2(x_pad, self.grid))                  # (F, N, C)
        self.w_f = _by_frequency(_rfft2(weight, self.grid))                 # (F, O, C)

    def forward(self, bias=None):
        y_f = matmul(self.x_f, np.conj(self.w_f).transpose(0, 2, 1))      # (F, N, O)
        y = _irfft2(_from_frequency(y_f, self.spectrum_shape), self.grid)
        y = y[:, :, :self.out_size[0], :self.out_size[1]].astype(self.dtype, copy=False)
        y = np.ascontiguousarray(y)
        if bias is not None:
            y += bias[:, None, None]
        return y

    def _grad_spectrum(self, grad_output):
        return _by_frequency(_rfft2(grad_output, self.grid))              # (F, N, O)

    def backward(self, grad_output, need_input=True, need_weight=True):
        g_f = self._grad_spectrum(grad_output)
        grad_x = grad_w = None
        if need_input:
            dx_f = matmul(g_f, self.w_f)                                    # (F, N, C)
            dx = _irfft2(_from_frequency(dx_f, self.spectrum_shape), self.grid)
            (top, _), (left, _) = self.padding
            h, w = self.input_shape[2:]
            grad_x = np.ascontiguousarray(dx[:, :, top:top + h, left:left + w],
                                          dtype=self.dtype)
        if need_weight:
            dw_f = matmul(np.conj(g_f).transpose(0, 2, 1), self.x_f)        # (F, O, C)
            dw = _irfft2(_from_frequency(dw_f, self.spectrum_shape), self.grid)
            grad_w = np.ascontiguousarray(dw[:, :, :self.kernel[0], :self.kernel[1]],
                                          dtype=self.dtype)
        return grad_x, grad_w

    def release(self):
        self.x_f = self.w_f = None
