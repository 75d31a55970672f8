"""2-D convolution on plain ndarrays (NCHW), forward and backward, no autograd.

Notation: input x (N, C, H, W), weight w (O, C/G, kh, kw) in G groups, output
y (N, O, Ho, Wo), stride (sh, sw), dilation (dh, dw), zero padding
((top, bottom), (left, right)); x_pad is x with its zero border:

    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · field(n, c, i, j, p, q)
    field(n, c, i, j, p, q) = x_pad[n, g·C/G + c, i·sh + p·dh, j·sw + q·dw]

(c runs over the C/G channels of group g, the group of output channel o). Backward:

    dL/dw[o, c, p, q] = Σ_{n,i,j} dL/dy[n, o, i, j] · field(n, c, i, j, p, q)
    dL/dx_pad at field(n, c, i, j, p, q)  +=  Σ_o dL/dy[n, o, i, j] · w[o, c, p, q]
    dL/db[o] = Σ_{n,i,j} dL/dy[n, o, i, j]

Two implementations of the same arithmetic:

- ``conv2d_direct`` / ``conv2d_direct_backward``: the formulas above, one loop over
  output pixels. Slow and obviously right: the test oracle.
- ``conv2d_gemm`` / ``conv2d_gemm_backward_input`` / ``conv2d_gemm_backward_weight``:
  ``im2col`` copies every receptive field into a column, so the convolution becomes
  one matrix product per image, ``w (O, C·kh·kw) @ cols (C·kh·kw, Ho·Wo)``, whose
  result is already the NCHW output; ``col2im`` is its adjoint (scatter-add back).
"""
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .blas import matmul

__all__ = ["conv_output_size", "pad2d", "bias_grad", "im2col", "col2im", "conv2d_direct",
           "conv2d_direct_backward", "conv2d_gemm", "conv2d_gemm_backward_input",
           "conv2d_gemm_backward_weight", "workspace", "release_workspace"]

NO_PADDING = ((0, 0), (0, 0))


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Number of window positions along one axis.

    out = floor((W + P_before + P_after - dilation·(F - 1) - 1) / S) + 1, which with
    symmetric padding P and no dilation is the course's (W - F + 2P) / S + 1.
    ``padding`` is an int (both sides) or a (before, after) pair.
    """
    before, after = (padding, padding) if isinstance(padding, int) else padding
    return (input_size + before + after - dilation * (kernel_size - 1) - 1) // stride + 1


# ---------------------------------------------------------------- scratch memory
_scratch = threading.local()


def workspace(shape, dtype):
    """A scratch array of ``shape`` reused from call to call (contents undefined).

    A fresh array of tens of MB costs as much in page faults as the copy that fills
    it; reusing one buffer per thread and dtype halves im2col's time. Only for
    arrays that never leave the function that asked for them.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get(dtype)
    if buffer is None or buffer.size < size:
        buffer = buffers[dtype] = np.empty(size, dtype)
    return buffer[:size].reshape(shape)


def release_workspace():
    """Free this thread's scratch buffers."""
    _scratch.__dict__.pop("buffers", None)


# ---------------------------------------------------------------- layout helpers
def pad2d(x, padding, value=0):
    """x (N, C, H, W) with ``value`` borders ((top, bottom), (left, right)); x itself if none."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.empty((n, c, h + top + bottom, w + left + right), x.dtype)
    out[:, :, :top] = value
    out[:, :, top + h:] = value
    out[:, :, top:top + h, :left] = value
    out[:, :, top:top + h, left + w:] = value
    out[:, :, top:top + h, left:left + w] = x
    return out


def crop2d(x_padded, padding):
    """Inverse of ``pad2d``: the interior of x_padded as a contiguous array."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x_padded
    h, w = x_padded.shape[2] - top - bottom, x_padded.shape[3] - left - right
    return np.ascontiguousarray(x_padded[:, :, top:top + h, left:left + w])


def _windows(x_padded, kernel_size, stride, dilation, out_size, batch_major):
    """View (no copy) of the receptive fields: (N, C, kh, kw, Ho, Wo) or (C, kh, kw, N, Ho, Wo)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_size, stride, dilation, out_size
    n, c = x_padded.shape[:2]
    s_n, s_c, s_h, s_w = x_padded.strides
    field = (kh, kw, ho, wo), (s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    if batch_major:
        return as_strided(x_padded, (n, c) + field[0], (s_n, s_c) + field[1], writeable=False)
    return as_strided(x_padded, (c, kh, kw, n, ho, wo),
                      (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw), writeable=False)


def im2col(x_padded, kernel_size, stride=(1, 1), dilation=(1, 1), batch_major=True, out=None):
    """Receptive fields as columns.

    batch_major=True:  (N, C·kh·kw, Ho·Wo), cols[n, (c, p, q), (i, j)] =
                       x_pad[n, c, i·sh + p·dh, j·sw + q·dw]  (rows ordered like
                       ``w.reshape(O, -1)``, so ``w2 @ cols[n]`` is image n's output);
    batch_major=False: (C·kh·kw, N·Ho·Wo), the same columns side by side for one GEMM.
    A 1x1 kernel with stride 1 needs no copy: the columns are a view of the input.
    """
    n, c, hp, wp = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    ho, wo = conv_output_size(hp, kh, sh, 0, dh), conv_output_size(wp, kw, sw, 0, dw)
    if batch_major and kh == kw == sh == sw == 1 and out is None:
        return x_padded.reshape(n, c, hp * wp)
    view = _windows(x_padded, kernel_size, stride, dilation, (ho, wo), batch_major)
    shape = (n, c * kh * kw, ho * wo) if batch_major else (c * kh * kw, n * ho * wo)
    cols = np.empty(shape, x_padded.dtype) if out is None else out
    np.copyto(cols.reshape(view.shape), view)
    return cols


def col2im(cols, padded_shape, kernel_size, stride=(1, 1), dilation=(1, 1)):
    """Adjoint of ``im2col`` (batch-major): add each column entry back to its input pixel.

    One vectorized add per kernel offset (p, q); windows that overlap accumulate.
    """
    n, c, hp, wp = padded_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    ho, wo = conv_output_size(hp, kh, sh, 0, dh), conv_output_size(wp, kw, sw, 0, dw)
    fields = cols.reshape(n, c, kh, kw, ho, wo)
    x = np.zeros(padded_shape, cols.dtype)
    for p in range(kh):
        rows = slice(p * dh, p * dh + sh * (ho - 1) + 1, sh)
        for q in range(kw):
            columns = slice(q * dw, q * dw + sw * (wo - 1) + 1, sw)
            x[:, :, rows, columns] += fields[:, :, p, q]
    return x


def bias_grad(grad_output):
    """dL/db[o] = Σ_{n,i,j} dL/dy[n, o, i, j].

    For a contiguous dL/dy the pixel sums are one matrix-vector product with ones
    (BLAS, 2-4x faster than NumPy's reduction over axes (0, 2, 3)), then N rows are added.
    """
    n, o = grad_output.shape[:2]
    pixels = math.prod(grad_output.shape[2:])
    if not grad_output.flags.c_contiguous or pixels < 16:
        return grad_output.sum(axis=(0, 2, 3))
    per_image = grad_output.reshape(n * o, pixels) @ np.ones(pixels, grad_output.dtype)
    return per_image.reshape(n, o).sum(axis=0)


# ---------------------------------------------------------------- direct reference
def _field(i, j, kernel_size, stride, dilation):
    """Indices of output pixel (i, j)'s receptive field in x_pad: (rows, columns) slices."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    return (slice(i * sh, i * sh + (kh - 1) * dh + 1, dh),
            slice(j * sw, j * sw + (kw - 1) * dw + 1, dw))


def conv2d_direct(x, weight, bias=None, stride=(1, 1), padding=NO_PADDING, dilation=(1, 1),
                  groups=1):
    """The definition, one output pixel at a time (test oracle; see the module docstring)."""
    x_pad = pad2d(x, padding)
    n, _, hp, wp = x_pad.shape
    o, cg, kh, kw = weight.shape
    ho = conv_output_size(hp, kh, stride[0], 0, dilation[0])
    wo = conv_output_size(wp, kw, stride[1], 0, dilation[1])
    og = o // groups
    y = np.zeros((n, o, ho, wo), x.dtype)
    for g in range(groups):
        x_group, w_group = x_pad[:, g * cg:(g + 1) * cg], weight[g * og:(g + 1) * og]
        for i in range(ho):
            for j in range(wo):
                rows, cols = _field(i, j, (kh, kw), stride, dilation)
                y[:, g * og:(g + 1) * og, i, j] = np.einsum(
                    "ncpq,ocpq->no", x_group[:, :, rows, cols], w_group)
    if bias is not None:
        y += bias[:, None, None]
    return y


def conv2d_direct_backward(x, weight, grad_output, stride=(1, 1), padding=NO_PADDING,
                           dilation=(1, 1), groups=1):
    """(dL/dx, dL/dw, dL/db) by the definition, one output pixel at a time (test oracle)."""
    x_pad = pad2d(x, padding)
    o, cg, kh, kw = weight.shape
    og = o // groups
    grad_x_pad = np.zeros_like(x_pad)
    grad_w = np.zeros_like(weight)
    for g in range(groups):
        chans, outs = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
        for i in range(grad_output.shape[2]):
            for j in range(grad_output.shape[3]):
                rows, cols = _field(i, j, (kh, kw), stride, dilation)
                g_ij = grad_output[:, outs, i, j]
                grad_x_pad[:, chans, rows, cols] += np.einsum("no,ocpq->ncpq", g_ij,
                                                              weight[outs])
                grad_w[outs] += np.einsum("no,ncpq->ocpq", g_ij, x_pad[:, chans, rows, cols])
    return crop2d(grad_x_pad, padding), grad_w, grad_output.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------- GEMM (im2col)
def _geometry(x_shape, weight_shape, stride, padding, dilation):
    (top, bottom), (left, right) = padding
    n, c, h, w = x_shape
    o, cg, kh, kw = weight_shape
    ho = conv_output_size(h, kh, stride[0], (top, bottom), dilation[0])
    wo = conv_output_size(w, kw, stride[1], (left, right), dilation[1])
    return (n, c, h + top + bottom, w + left + right), (kh, kw), (ho, wo)


def _columns(x_pad, kernel, stride, dilation, pointwise, batch_major=True):
    """im2col into the scratch buffer (or a free view for a pointwise 1x1 conv)."""
    if pointwise and batch_major:
        return im2col(x_pad, kernel, stride, dilation)
    n, c, hp, wp = x_pad.shape
    ho = conv_output_size(hp, kernel[0], stride[0], 0, dilation[0])
    wo = conv_output_size(wp, kernel[1], stride[1], 0, dilation[1])
    rows, pixels = c * kernel[0] * kernel[1], ho * wo
    shape = (n, rows, pixels) if batch_major else (rows, n * pixels)
    return im2col(x_pad, kernel, stride, dilation, batch_major,
                  out=workspace(shape, x_pad.dtype))


def conv2d_gemm(x, weight, bias=None, stride=(1, 1), padding=NO_PADDING, dilation=(1, 1),
                groups=1):
    """y = w2 @ im2col(x_pad) + b, one BLAS product per image (and group).

    cols (N, G, C/G·kh·kw, Ho·Wo) and w2 (G, O/G, C/G·kh·kw) give (N, G, O/G, Ho·Wo),
    which is the NCHW output with no transpose.
    """
    _, kernel, (ho, wo) = _geometry(x.shape, weight.shape, stride, padding, dilation)
    n, (o, cg) = x.shape[0], weight.shape[:2]
    rows = cg * kernel[0] * kernel[1]
    cols = _columns(pad2d(x, padding), kernel, stride, dilation,
                    _is_pointwise(kernel, stride, padding))
    y = np.empty((n, o, ho, wo), x.dtype)
    matmul(weight.reshape(groups, o // groups, rows),
              cols.reshape(n, groups, rows, ho * wo), out=y.reshape(n, groups, o // groups, -1))
    if bias is not None:
        y += bias[:, None, None]
    return y


def _is_pointwise(kernel, stride, padding):
    return kernel == (1, 1) and tuple(stride) == (1, 1) and padding == NO_PADDING


def conv2d_gemm_backward_input(grad_output, weight, input_shape, stride=(1, 1),
                               padding=NO_PADDING, dilation=(1, 1), groups=1):
    """dL/dx = col2im(w2ᵀ @ dL/dy), cropped to the unpadded input.

    (The alternative for stride 1, a "full" convolution of dL/dy with the flipped
    kernel, avoids the scatter-add but copies O·kh·kw values per input pixel;
    measured 1.0-5x slower on typical layers, so it is not used.)
    """
    padded_shape, kernel, (ho, wo) = _geometry(input_shape, weight.shape, stride, padding,
                                               dilation)
    n = input_shape[0]
    o, cg = weight.shape[:2]
    rows = cg * kernel[0] * kernel[1]
    w2 = weight.reshape(groups, o // groups, rows)
    g = grad_output.reshape(n, groups, o // groups, ho * wo)
    if _is_pointwise(kernel, stride, padding):
        grad_x = np.empty(input_shape, grad_output.dtype)
        matmul(w2.swapaxes(-1, -2), g, out=grad_x.reshape(n, groups, rows, ho * wo))
        return grad_x
    grad_cols = workspace((n, groups, rows, ho * wo), grad_output.dtype)
    matmul(w2.swapaxes(-1, -2), g, out=grad_cols)
    return crop2d(col2im(grad_cols, padded_shape, kernel, stride, dilation), padding)


def conv2d_gemm_backward_weight(x, grad_output, weight_shape, stride=(1, 1),
                                padding=NO_PADDING, dilation=(1, 1), groups=1):
    """dL/dw = Σ_n dL/dy[n] @ im2col(x_pad)[n]ᵀ, reshaped to the weight's shape.

    Two layouts, chosen by measurement: when O·8 <= Ho·Wo (first layers: few filters,
    large images) one product per image then a sum over N is fastest; otherwise one
    big product over all images, dL/dy (G, O/G, N·Ho·Wo) @ cols (G, C/G·kh·kw, N·Ho·Wo)ᵀ,
    which also avoids an (N, O, C·kh·kw) intermediate.
    """
    _, kernel, (ho, wo) = _geometry(x.shape, weight_shape, stride, padding, dilation)
    n, (o, cg) = x.shape[0], weight_shape[:2]
    og, rows, pixels = o // groups, cg * kernel[0] * kernel[1], ho * wo
    x_pad, pointwise = pad2d(x, padding), _is_pointwise(kernel, stride, padding)
    grad_w = np.empty(weight_shape, x.dtype)
    flat_grad_w = grad_w.reshape(groups, og, rows)
    if o * 8 <= pixels:
        cols = _columns(x_pad, kernel, stride, dilation, pointwise).reshape(
            n, groups, rows, pixels)
        g = grad_output.reshape(n, groups, og, pixels)
        np.sum(matmul(g, cols.swapaxes(-1, -2)), axis=0, out=flat_grad_w)
    else:
        cols = _columns(x_pad, kernel, stride, dilation, pointwise, batch_major=False)
        g = np.ascontiguousarray(grad_output.reshape(n, o, pixels).swapaxes(0, 1))
        matmul(g.reshape(groups, og, n * pixels),
                  cols.reshape(groups, rows, n * pixels).swapaxes(-1, -2), out=flat_grad_w)
    return grad_w

