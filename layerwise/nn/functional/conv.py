"""2-D convolution as a differentiable op (PyTorch's ``F.conv2d``).

    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i·sh + p·dh, j·sw + q·dw]

Feature-map size per axis: out = floor((W + P_before + P_after - d·(F - 1) - 1) / S) + 1,
the course's (W - F + 2P) / S + 1. The arithmetic (im2col + GEMM) is in
``layerwise.backend.conv``.
"""
import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend import conv as kernels
from ...backend import conv_select

__all__ = ["conv2d"]


class Convolution(Function):
    """y = conv(x, w) + b (see the module docstring), bias optional.

    dL/dx = col2im(w2ᵀ @ dL/dy),  dL/dw = Σ_n dL/dy[n] @ im2col(x)[n]ᵀ,
    dL/db = Σ_{n,i,j} dL/dy[n, :, i, j].
    The arithmetic is done by one of the algorithms of ``backend.conv_select``
    (im2col + GEMM in two layouts, or FFT), chosen per shape by measurement; the
    algorithm object keeps what its backward pass needs (columns or spectra).
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=kernels.NO_PADDING,
                dilation=(1, 1), groups=1):
        need_x, need_w = self.needs_input_grad[:2]
        training = need_x or need_w
        geometry = (stride, padding, dilation, groups)
        if not training and x.shape[0] > INFERENCE_CHUNK:
            return _chunked_inference(x, weight, bias, geometry)
        name = conv_select.choose(x.shape, weight.shape, x.dtype, *geometry,
                                  backward=training, need_input=need_x)
        if not training:
            return _forward_only(name, x, weight, bias, geometry)
        self.conv = conv_select.make(name, x, weight, *geometry)
        return self.conv.forward(bias)

    def backward(self, grad_output):
        need_x, need_w, need_b = self.needs_input_grad
        grad_x, grad_w = self.conv.backward(grad_output, need_input=need_x, need_weight=need_w)
        grad_b = kernels.bias_grad(grad_output) if need_b else None
        return grad_x, grad_w, grad_b

    def release(self):
        conv = self.__dict__.get("conv")
        if conv is not None:
            conv.release()
        super().release()


INFERENCE_CHUNK = 128   # images per piece when no backward follows (bounds scratch memory)
# algorithms whose scratch memory does not grow with the batch: they take it whole, which
# saves concatenating the pieces (0.5 ms of LeNet-5's 4.5 ms inference at batch 256)
WHOLE_BATCH_ALGORITHMS = ("gemm_batched", "direct")


def _chunked_inference(x, weight, bias, geometry):
    """Forward only, a slice of the batch at a time (the scratch memory stays bounded).

    The batch-major GEMM already works through the batch a few images at a time
    (``backend.conv_batched``), and the direct loops need no scratch per image: they take
    the whole batch, which saves the final copy.
    """
    pieces = []
    for start in range(0, x.shape[0], INFERENCE_CHUNK):
        part = x[start:start + INFERENCE_CHUNK]
        name = conv_select.choose(part.shape, weight.shape, x.dtype, *geometry, backward=False,
                                  need_input=False)
        if name in WHOLE_BATCH_ALGORITHMS and start == 0:
            return _forward_only(name, x, weight, bias, geometry)
        pieces.append(_forward_only(name, part, weight, bias, geometry))
    return np.concatenate(pieces)


def _forward_only(name, x, weight, bias, geometry):
    conv = conv_select.make(name, x, weight, *geometry, for_backward=False)
    y = conv.forward(bias)
    conv.release()
    return y


# ------------------------------------------------------------------ arguments
def _pair(value, name, op):
    """An int or a pair of ints as a pair of ints (PyTorch's ``_pair``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    try:
        first, second = value
        return (int(first), int(second))
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None


def _check_positive(pair, name, op):
    if min(pair) <= 0:
        raise ValueError(f"{op}: {name} must be positive, got {pair}")


def conv_padding(padding, kernel_size, stride, dilation, op="conv2d"):
    """``padding`` (int, pair, 'same' or 'valid') as ((top, bottom), (left, right)).

    'same' pads d·(k - 1) in total per axis, half before and the odd extra row or
    column after (exactly like PyTorch), so the output keeps the input's size.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return kernels.NO_PADDING
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             f"{{'valid', 'same'}}")
        if tuple(stride) != (1, 1):
            raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                               f"convolutions (stride={tuple(stride)})")
        totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    ph, pw = _pair(padding, "padding", op)
    if min(ph, pw) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {(ph, pw)}")
    return ((ph, ph), (pw, pw))


def check_input_4d(input, op):
    """``input`` must be a Tensor shaped (N, C, H, W)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.data.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D input (N, C, H, W), got input of shape "
                           f"{tuple(input.shape)}" +
                           (" (add a batch dimension with input.unsqueeze(0))"
                            if input.data.ndim == 3 else ""))


def _check_conv_operands(input, weight, bias, groups, op):
    check_input_4d(input, op)
    w_shape, x_shape = tuple(weight.shape), tuple(input.shape)
    if weight.data.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight (out_channels, in_channels/groups, "
                           f"kh, kw), got weight of shape {w_shape}")
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    if w_shape[0] % groups:
        raise RuntimeError(f"{op}: out_channels ({w_shape[0]}) must be divisible by groups "
                           f"({groups}), weight shape {w_shape}")
    if x_shape[1] != w_shape[1] * groups:
        raise RuntimeError(f"{op}: expected input with {w_shape[1] * groups} channels (weight "
                           f"shape {w_shape}" + (f", groups={groups}" if groups > 1 else "") +
                           f"), got input of shape {x_shape}")
    if input.data.dtype != weight.data.dtype:
        raise RuntimeError(f"{op}: input dtype {input.data.dtype} and weight dtype "
                           f"{weight.data.dtype} should be the same (convert the input with "
                           f".to({weight.data.dtype}) or the layer with .to({input.data.dtype}))")
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.data.dtype}")
    if bias is not None:
        if tuple(bias.shape) != (w_shape[0],):
            raise RuntimeError(f"{op}: expected bias of shape ({w_shape[0]},), got "
                               f"{tuple(bias.shape)}")
        if bias.data.dtype != input.data.dtype:
            raise RuntimeError(f"{op}: input dtype {input.data.dtype} and bias dtype "
                               f"{bias.data.dtype} should be the same")


def convolution(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                op="conv2d"):
    """``conv2d`` with the name to use in error messages (``Conv2d`` for the layer)."""
    _check_conv_operands(input, weight, bias, groups, op)
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    kernel_size = tuple(weight.shape[2:])
    padding = conv_padding(padding, kernel_size, stride, dilation, op)
    padded = tuple(size + before + after
                   for size, (before, after) in zip(input.shape[2:], padding))
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    if any(k > size for k, size in zip(dilated, padded)):
        raise RuntimeError(
            f"{op}: kernel size {kernel_size}" +
            (f" (dilated to {dilated})" if dilated != kernel_size else "") +
            f" is larger than the padded input {padded} (input shape {tuple(input.shape)}, "
            f"padding {padding})")
    return Convolution.apply(input, weight, bias, stride=stride, padding=padding,
                             dilation=dilation, groups=groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) with weight (O, C/groups, kh, kw), plus bias (O,).

    stride, dilation: int or (h, w); padding: int, (h, w), 'valid' (none) or 'same'
    (output size = input size; stride 1 only; the odd extra pixel goes after, like
    PyTorch). groups splits the channels into independent convolutions.
    """
    return convolution(input, weight, bias, stride, padding, dilation, groups, op="conv2d")
