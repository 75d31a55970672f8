"""Convolution by batch-major im2col and one GEMM per image, a few images at a time per core.

For image n (and group g), with cols[n] = im2col(x_pad[n]) of shape (C/G·kh·kw, Ho·Wo):

    y[n]      = W2 @ cols[n] + b                  (already NCHW: no transpose)
    dW2       = Σ_n dY[n] @ cols[n]ᵀ
    dcols[n]  = W2ᵀ @ dY[n],   dx[n] = col2im(dcols[n])

The batch is cut into chunks of about ``CHUNK_BYTES`` of columns, and each core takes
every other range of chunks (``parallel.for_each_part``) with the BLAS on one thread
(``blas_threads.limited``): the im2col copy of a chunk, its products and col2im then
run back to back on data still in that core's cache, and the copies, which NumPy runs
on one core, are spread over all of them. One multi-threaded BLAS call per image
instead split each small product over the cores and left the copies serial: measured
on LeNet-5's and the seed CNNs' layers at batch 64-256, the chunked forward pass is
1.0-1.9x faster (bench/conv_chunks.py, BENCHMARKS.md).

The columns are kept for the weight gradient only when training uses them (the
per-image layout, chosen when O·8 <= Ho·Wo); otherwise each chunk's columns live in a
per-thread scratch buffer and the weight gradient is one large channel-major product.
"""
import numpy as np

from . import blas_threads, buffers, parallel
from .conv import (_geometry, _is_pointwise, col2im, conv2d_gemm_backward_weight, im2col,
                   pad2d, workspace)
from .blas import matmul

__all__ = ["BatchedGemmConv", "CHUNK_BYTES", "over_images"]

CHUNK_BYTES = 2 << 20   # columns per chunk: ~2 MB measured best (L2 is 0.5-2 MB per core)
FLOPS_PER_SECOND = 20e9  # one core, copies included: below a hand-off's worth, one thread


def over_images(work, n, chunk, flops=float("inf")):
    """Call ``work(start, stop)`` on consecutive slices of at most ``chunk`` images.

    With more than one chunk, a BLAS whose threads can be limited and enough work
    (``flops`` in all) to pay for a hand-off, the slices are spread over layerwise's
    threads and the BLAS runs single-threaded meanwhile.
    """
    def run(start, stop):
        for first in range(start, stop, chunk):
            work(first, min(first + chunk, stop))

    parts = min(parallel.get_num_threads(), -(-n // chunk))
    if parts <= 1 or not blas_threads.available() or not parallel.pays_off(
            flops / FLOPS_PER_SECOND):
        run(0, n)
        return
    with blas_threads.limited(1):
        parallel.for_each_part(run, n, parts)


class BatchedGemmConv:
    """One convolution (any groups) as per-image products, chunked over the cores."""

    def __init__(self, x, weight, stride, padding, dilation, groups=1, for_backward=True):
        self.x, self.weight = x, weight
        self.geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        _, self.kernel, self.out_size = _geometry(x.shape, weight.shape, stride, padding,
                                                  dilation)
        self.x_pad = pad2d(x, padding)
        n, c = x.shape[:2]
        o, cg = weight.shape[:2]
        taps = self.kernel[0] * self.kernel[1]
        self.rows, self.col_rows = cg * taps, c * taps     # per group, all groups
        self.pixels = self.out_size[0] * self.out_size[1]
        self.pointwise = _is_pointwise(self.kernel, stride, padding)
        self.cols = None
        if self.pointwise:
            self.cols = self.x_pad.reshape(n, c, -1)
        elif for_backward and o * 8 <= self.pixels:   # the per-image weight gradient reads them
            self.cols = buffers.take((n, self.col_rows, self.pixels), x.dtype)
        self.pooled = self.cols is not None and not self.pointwise
        self.chunk = max(1, CHUNK_BYTES // max(self.col_rows * self.pixels * x.itemsize, 1))
        self.flops = 2.0 * n * o * self.rows * self.pixels     # one product pass

    # ------------------------------------------------------------ helpers
    def _columns(self, start, stop):
        """im2col of images [start, stop): a slice of the kept columns or scratch."""
        if self.pointwise:
            return self.cols[start:stop]
        if self.cols is not None:
            out = self.cols[start:stop]
        else:
            out = workspace((stop - start, self.col_rows, self.pixels), self.x.dtype)
        geometry = self.geometry
        return im2col(self.x_pad[start:stop], self.kernel, geometry["stride"],
                      geometry["dilation"], out=out)

    def _grouped(self, array):
        """(n, G, rows per group, pixels) view of an (n, rows, pixels) array."""
        return array.reshape(array.shape[0], self.geometry["groups"], -1, self.pixels)

    def _w2(self):
        o, groups = self.weight.shape[0], self.geometry["groups"]
        return self.weight.reshape(groups, o // groups, self.rows)

    # ------------------------------------------------------------ passes
    def forward(self, bias=None):
        n, o = self.x.shape[0], self.weight.shape[0]
        y = np.empty((n, o) + self.out_size, self.x.dtype)
        w2 = self._w2()
        flat_y = y.reshape(n, o, self.pixels)

        def work(start, stop):
            cols = self._columns(start, stop)
            out = flat_y[start:stop]
            matmul(w2, self._grouped(cols), out=self._grouped(out))
            if bias is not None:
                out += bias[:, None]

        over_images(work, n, self.chunk, self.flops)
        return y

    def backward(self, grad_output, need_input=True, need_weight=True):
        grad_x = self._grad_input(grad_output) if need_input else None
        grad_w = self._grad_weight(grad_output) if need_weight else None
        return grad_x, grad_w

    def _grad_weight(self, grad_output):
        if self.cols is None:   # channel-major: one large product (its own columns)
            return conv2d_gemm_backward_weight(self.x, grad_output, self.weight.shape,
                                               **self.geometry)
        n = self.x.shape[0]
        g = grad_output.reshape(n, self.weight.shape[0], self.pixels)
        partials = []

        def work(start, stop):
            products = matmul(self._grouped(g[start:stop]),
                                 self._grouped(self.cols[start:stop])
                                 .swapaxes(-1, -2))
            partials.append(products.sum(axis=0))

        over_images(work, n, self.chunk, self.flops)
        total = partials[0]
        for partial in partials[1:]:
            total += partial
        return total.reshape(self.weight.shape)

    def _grad_input(self, grad_output):
        n = self.x.shape[0]
        grad_x = np.empty(self.x.shape, grad_output.dtype)
        g = grad_output.reshape(n, self.weight.shape[0], self.pixels)
        w2t = self._w2().swapaxes(-1, -2)
        (top, _), (left, _) = self.geometry["padding"]
        h, w = self.x.shape[2:]

        def work(start, stop):
            count = stop - start
            if self.pointwise:
                matmul(w2t, self._grouped(g[start:stop]),
                          out=self._grouped(grad_x[start:stop].reshape(count, -1, self.pixels)))
                return
            grad_cols = workspace((count, self.col_rows, self.pixels), grad_output.dtype)
            matmul(w2t, self._grouped(g[start:stop]), out=self._grouped(grad_cols))
            padded = (count,) + self.x_pad.shape[1:]
            dx_pad = col2im(grad_cols, padded, self.kernel, self.geometry["stride"],
                            self.geometry["dilation"])
            grad_x[start:stop] = dx_pad[:, :, top:top + h, left:left + w]

        # one chunk per thread at least: col2im costs kh·kw NumPy calls per chunk
        over_images(work, n, max(self.chunk, -(-n // parallel.get_num_threads())), self.flops)
        return grad_x

    def release(self):
        if self.pooled:
            buffers.give(self.cols)
        self.x = self.weight = self.cols = self.x_pad = None

