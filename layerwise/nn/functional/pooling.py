"""2-D pooling as differentiable ops (PyTorch's ``F.max_pool2d``, ``F.avg_pool2d``, ...).

Window (i, j) covers x_pad[n, c, i·sh + p·dh, j·sw + q·dw], p < kh, q < kw, and

    max:  y = max of the window           (dL/dx: dL/dy at the arg-max pixel)
    avg:  y = Σ window / divisor          (dL/dx: dL/dy / divisor to every pixel)
    sum:  y = Σ window                    (the course's sum pooling; layerwise's own)

Output size per axis: floor((W + 2P - d·(F - 1) - 1) / S) + 1, or with ceil_mode the
ceiling, dropping a last window that would start past the input and its left padding.
Max pooling pads with -inf, average and sum pooling with 0. The window arithmetic is
in ``layerwise.backend.pooling``.
"""
import functools

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from ...backend import jit_pooling
from ...backend import pooling as kernels
from ...backend import pooling_tiled as tiled
from ...backend.conv import crop2d, pad2d
from .conv import _check_positive, _pair, check_input_4d

__all__ = ["max_pool2d", "avg_pool2d", "sum_pool2d", "adaptive_max_pool2d",
           "adaptive_avg_pool2d", "global_avg_pool2d"]


class MaxPooling(Function):
    """y = max over each window;  dL/dx = dL/dy at each window's arg-max (summed on overlap)."""

    def forward(self, x, kernel_size, stride, dilation, pads, out_size):
        self.window = dict(kernel_size=kernel_size, stride=stride, dilation=dilation)
        self.pads, self.input_shape = pads, x.shape
        self.tiled = tiled.tiles(x.shape[2:], kernel_size, stride, dilation, pads) and \
            x.dtype.kind == "f"
        result = None
        if self.tiled:
            fast = jit_pooling if jit_pooling.usable(x) else tiled
            result = fast.max_forward(x, kernel_size)
        if result is None:
            self.tiled = False
            result = _max_pool_arrays(x, kernel_size, stride, dilation, pads, out_size)
        y, self.argmax = result
        return y

    def backward(self, grad_output):
        if self.tiled and jit_pooling.usable(grad_output):   # exact for any gradient
            return jit_pooling.max_backward(grad_output, self.argmax, self.input_shape,
                                            self.window["kernel_size"])
        if self.tiled and np.isfinite(grad_output.sum(dtype=np.float64)):
            return tiled.max_backward(grad_output, self.argmax, self.input_shape,
                                      self.window["kernel_size"])
        padded = _padded_shape(self.input_shape, self.pads)
        grad = kernels.max_pool2d_backward(grad_output, self.argmax, padded, **self.window)
        return crop2d(grad, self.pads)


def _max_pool_arrays(x, kernel_size, stride, dilation, pads, out_size):
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    return kernels.max_pool2d_forward(pad2d(x, pads, fill), kernel_size, stride, dilation,
                                      out_size)


class AvgPooling(Function):
    """y = Σ window / divisor (divisor None: sum pooling);  dL/dx += dL/dy / divisor per pixel."""

    def forward(self, x, kernel_size, stride, pads, out_size, divisor=None):
        self.window = dict(kernel_size=kernel_size, stride=stride, dilation=(1, 1))
        self.pads, self.input_shape, self.divisor = pads, x.shape, divisor
        self.tiled = tiled.tiles(x.shape[2:], kernel_size, stride, (1, 1), pads)
        if self.tiled and jit_pooling.usable(x) and not isinstance(divisor, np.ndarray):
            return jit_pooling.sum_forward(x, kernel_size, divisor)
        if self.tiled:
            y = tiled.sum_forward(x, kernel_size)
        else:
            y = kernels.window_sum(pad2d(x, pads), out_size=out_size, **self.window)
        if divisor is not None:
            y /= divisor
        return y

    def backward(self, grad_output):
        if self.tiled and jit_pooling.usable(grad_output) and \
                not isinstance(self.divisor, np.ndarray):
            return jit_pooling.sum_backward(grad_output, self.input_shape,
                                            self.window["kernel_size"], self.divisor)
        g = grad_output if self.divisor is None else grad_output / self.divisor
        if self.tiled:
            return tiled.sum_backward(g, self.input_shape, self.window["kernel_size"])
        padded = _padded_shape(self.input_shape, self.pads)
        return crop2d(kernels.window_sum_backward(g, padded, **self.window), self.pads)


class AdaptiveAvgPooling(Function):
    """y = A_h @ x @ A_wᵀ with A[i, start_i:end_i] = 1/(end_i - start_i);
    dL/dx = A_hᵀ @ dL/dy @ A_w."""

    def forward(self, x, output_size):
        self.input_hw = x.shape[2:]
        return kernels.adaptive_avg_pool2d_forward(x, output_size)

    def backward(self, grad_output):
        return kernels.adaptive_avg_pool2d_backward(grad_output, self.input_hw)


class AdaptiveMaxPooling(Function):
    """y = max over each adaptive window;  dL/dx = dL/dy added at each window's arg-max."""

    def forward(self, x, output_size):
        y, self.indices = kernels.adaptive_max_pool2d_forward(x, output_size)
        self.input_shape = x.shape
        return y

    def backward(self, grad_output):
        return kernels.adaptive_max_pool2d_backward(grad_output, self.indices, self.input_shape)


class GlobalAvgPooling(Function):
    """y[n, c] = (1 / HW) Σ_{h,w} x[n, c, h, w];  dL/dx[n, c, h, w] = dL/dy[n, c] / HW."""

    def forward(self, x, keepdim=False):
        self.input_shape, self.keepdim = x.shape, keepdim
        return x.mean(axis=(2, 3), keepdims=keepdim)

    def backward(self, grad_output):
        n, c, h, w = self.input_shape
        g = grad_output if self.keepdim else grad_output[:, :, None, None]
        grad = np.empty(self.input_shape, grad_output.dtype)
        np.divide(g, h * w, out=grad)
        return grad


def _padded_shape(shape, pads):
    (top, bottom), (left, right) = pads
    return shape[:2] + (shape[2] + top + bottom, shape[3] + left + right)


# ------------------------------------------------------------------ arguments
def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, op, dilated_rule):
    """Checked window parameters, output size and the (ceil-mode aware) padding."""
    check_input_4d(input, op)
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () or stride == [] else \
        _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    return _checked_geometry(tuple(input.shape[2:]), tuple(input.shape), kernel, stride,
                             padding, dilation, bool(ceil_mode), op, dilated_rule)


@functools.lru_cache(maxsize=512)
def _checked_geometry(size, shape, kernel, stride, padding, dilation, ceil_mode, op,
                      dilated_rule):
    """The checks and sizes of ``_pool_geometry``, computed once per layer and input shape
    (a pooling layer at batch 1 spent 20 µs here, as much as its arithmetic)."""
    for name, value in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        _check_positive(value, name, op)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    limit = tuple(e // 2 for e in extent) if dilated_rule else tuple(k // 2 for k in kernel)
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if any(p > m for p, m in zip(padding, limit)):
        what = "effective kernel size" if dilated_rule else "kernel size"
        raise RuntimeError(f"{op}: padding should be at most half of the {what}, got "
                           f"padding={padding} with kernel_size={kernel}" +
                           (f" and dilation={dilation}" if dilated_rule else "") +
                           f" (at most {limit})")
    h, w = size
    padded = (h + 2 * padding[0], w + 2 * padding[1])
    if any(e > length for e, length in zip(extent, padded)):
        raise RuntimeError(f"{op}: kernel_size {kernel}" +
                           (f" (dilated to {extent})" if extent != kernel else "") +
                           f" is larger than the padded input {padded} (input shape "
                           f"{shape}, padding {padding})")
    out = tuple(kernels.pool_output_size(length, k, s, p, d, ceil_mode)
                for length, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    pads = tuple(kernels.pool_padding(length, o, k, s, p, d)
                 for length, o, k, s, p, d in zip((h, w), out, kernel, stride, padding,
                                                  dilation))
    return kernel, stride, padding, dilation, out, pads


@functools.lru_cache(maxsize=512)
def _divisor(size, out, kernel, stride, padding, count_include_pad, dtype):
    """The windows' divisors (an int when all are equal), once per layer and input size."""
    divisor = kernels.avg_pool_divisor(size, out, kernel, stride, padding, count_include_pad,
                                       np.dtype(dtype))
    if np.all(divisor == divisor.flat[0]):
        return int(divisor.flat[0])
    divisor.flags.writeable = False      # shared between calls
    return divisor


def _check_float(input, op):
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.data.dtype}")


def max_pooling(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                return_indices=False, op="max_pool2d"):
    """``max_pool2d`` with the name to use in error messages."""
    kernel, stride, _, dilation, out, pads = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, op, dilated_rule=True)
    window = dict(kernel_size=kernel, stride=stride, dilation=dilation)
    if return_indices and not (is_grad_enabled() and input.requires_grad):
        y, argmax = _max_pool_arrays(input.data, pads=pads, out_size=out, **window)
        output = Tensor(y)
    else:
        output = MaxPooling.apply(input, pads=pads, out_size=out, **window)
        if not return_indices:
            return output
        argmax = output.grad_fn.argmax
    top_left = (pads[0][0], pads[1][0])
    indices = kernels.max_pool2d_indices(argmax, padding_before=top_left,
                                         input_width=input.shape[3], **window)
    return output, Tensor(indices)


def averaging(input, kernel_size, stride=None, padding=0, ceil_mode=False,
              count_include_pad=True, divisor_override=None, op="avg_pool2d", divide=True):
    """``avg_pool2d`` (or ``sum_pool2d`` with divide=False) with the name for errors."""
    _check_float(input, op)
    kernel, stride, padding, _, out, pads = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, op, dilated_rule=False)
    divisor = None
    if divide and divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor_override must be non-zero")
        divisor = divisor_override
    elif divide:
        divisor = _divisor(tuple(input.shape[2:]), out, kernel, stride, padding,
                           bool(count_include_pad), input.data.dtype.str)
    return AvgPooling.apply(input, kernel_size=kernel, stride=stride, pads=pads, out_size=out,
                            divisor=divisor)


def _adaptive_output_size(output_size, input, op):
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(input.shape[2 + axis] if s is None else int(s) for axis, s in enumerate(sizes))
    _check_positive(sizes, "output_size", op)
    return sizes


def _evenly_divides(input, out):
    return all(size % o == 0 for size, o in zip(input.shape[2:], out))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kh x kw windows (stride defaults to kernel_size); with return_indices also
    the flat index h·W + w of each maximum in its input plane."""
    return max_pooling(input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kh x kw windows; the divisor counts the zero padding unless
    count_include_pad=False, or is divisor_override when given."""
    return averaging(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def sum_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Sum over kh x kw windows (the course's "sum pooling"; not in PyTorch)."""
    return averaging(input, kernel_size, stride, padding, ceil_mode, op="sum_pool2d",
                     divide=False)


def adaptive_averaging(input, output_size, op="adaptive_avg_pool2d"):
    """``adaptive_avg_pool2d`` with the name to use in error messages."""
    check_input_4d(input, op)
    _check_float(input, op)
    out = _adaptive_output_size(output_size, input, op)
    if out == (1, 1):
        return GlobalAvgPooling.apply(input, keepdim=True)
    if _evenly_divides(input, out):
        kernel = tuple(size // o for size, o in zip(input.shape[2:], out))
        return AvgPooling.apply(input, kernel_size=kernel, stride=kernel,
                                pads=((0, 0), (0, 0)), out_size=out, divisor=kernel[0] * kernel[1])
    return AdaptiveAvgPooling.apply(input, output_size=out)


def adaptive_max_pooling(input, output_size, return_indices=False, op="adaptive_max_pool2d"):
    """``adaptive_max_pool2d`` with the name to use in error messages."""
    check_input_4d(input, op)
    out = _adaptive_output_size(output_size, input, op)
    if _evenly_divides(input, out):
        kernel = tuple(size // o for size, o in zip(input.shape[2:], out))
        return max_pooling(input, kernel, kernel, return_indices=return_indices, op=op)
    if return_indices and not (is_grad_enabled() and input.requires_grad):
        y, indices = kernels.adaptive_max_pool2d_forward(input.data, out)
        return Tensor(y), Tensor(indices)
    output = AdaptiveMaxPooling.apply(input, output_size=out)
    return (output, Tensor(output.grad_fn.indices)) if return_indices else output


def global_averaging(input, op="global_avg_pool2d"):
    """``global_avg_pool2d`` with the name to use in error messages."""
    check_input_4d(input, op)
    _check_float(input, op)
    return GlobalAvgPooling.apply(input)


def adaptive_avg_pool2d(input, output_size):
    """Mean over the windows that split H x W into ``output_size`` (int, pair; None keeps
    that axis) as evenly as possible."""
    return adaptive_averaging(input, output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the windows that split H x W into ``output_size``; with return_indices also
    the flat index h·W + w of each maximum."""
    return adaptive_max_pooling(input, output_size, return_indices)


def global_avg_pool2d(input):
    """Mean over each whole feature map: (N, C, H, W) -> (N, C) (layerwise's own)."""
    return global_averaging(input)
