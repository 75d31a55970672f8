"""The fast convolution kernels (im2col + GEMM) against the direct loop reference."""
import numpy as np
import pytest
import torch

from layerwise.backend.conv import (col2im, conv2d_direct, conv2d_direct_backward, conv2d_gemm,
                                    conv2d_gemm_backward_input, conv2d_gemm_backward_weight,
                                    conv_output_size, im2col, pad2d, workspace)
from tests.helpers import random

# The course shows this 3x3 "cross" (X-shaped) filter giving CROSS_OUTPUT on a 5x5
# binary image, but not the image itself; COURSE_INPUT is a binary input that
# reproduces the course's output (the course's own input is not available to us).
COURSE_INPUT = np.array([[0, 1, 0, 0, 1],
                         [1, 1, 0, 1, 0],
                         [1, 1, 1, 0, 1],
                         [0, 1, 0, 1, 0],
                         [0, 0, 1, 0, 0]], dtype=np.float32)
CROSS_FILTER = np.array([[1, 0, 1],
                         [0, 1, 0],
                         [1, 0, 1]], dtype=np.float32)
CROSS_OUTPUT = np.array([[3, 2, 4],
                         [2, 5, 0],
                         [4, 1, 4]], dtype=np.float32)


@pytest.mark.parametrize("size, kernel, padding, stride, expected", [
    (32, 5, 0, 1, 28),     # 32x32 image, 5x5 filters
    (227, 11, 0, 4, 55),   # AlexNet's first layer
    (7, 3, 0, 1, 5),
    (7, 3, 0, 2, 3),
    (7, 3, 1, 3, 3),       # (7 - 3 + 2) / 3 + 1
    (5, 3, 1, 1, 5),       # "same" padding for a 3x3 filter
    (28, 5, 2, 1, 28),
    (32, 3, 1, 2, 16),     # rounded down: (32 - 3 + 2) / 2 + 1 = 16.5
    (5, 5, 0, 1, 1),
])
def test_feature_map_size_follows_course_formula(size, kernel, padding, stride, expected):
    assert conv_output_size(size, kernel, stride, padding) == expected
    course = (size - kernel + 2 * padding) // stride + 1
    assert conv_output_size(size, kernel, stride, padding) == course


def test_output_size_with_dilation_and_asymmetric_padding():
    assert conv_output_size(10, 3, 1, 0, dilation=2) == 6  # effective kernel 5
    assert conv_output_size(5, 2, 1, (0, 1)) == 5          # 'same' for an even kernel
    assert conv_output_size(4, 5, 1, 0) == 0               # kernel larger than the input


def test_course_cross_filter_example():
    x = COURSE_INPUT[None, None]
    w = CROSS_FILTER[None, None]
    np.testing.assert_array_equal(conv2d_direct(x, w)[0, 0], CROSS_OUTPUT)
    np.testing.assert_array_equal(conv2d_gemm(x, w)[0, 0], CROSS_OUTPUT)


# (N, C, H, W), (O, kh, kw), stride, padding ((top, bottom), (left, right)), dilation, groups
CONFIGS = {
    "basic 3x3": ((2, 3, 7, 7), (4, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    "padding 1": ((2, 3, 6, 6), (5, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    "padding 2 stride 2": ((2, 2, 7, 8), (3, 3, 3), (2, 2), ((2, 2), (2, 2)), (1, 1), 1),
    "stride > kernel": ((2, 2, 9, 9), (3, 2, 2), (3, 3), ((0, 0), (0, 0)), (1, 1), 1),
    "1x1": ((2, 4, 5, 6), (3, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    "1x1 strided": ((2, 4, 5, 6), (3, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),
    "non-square": ((2, 3, 6, 9), (4, 2, 3), (1, 2), ((1, 1), (0, 0)), (1, 1), 1),
    "asymmetric padding": ((1, 2, 5, 5), (2, 2, 4), (1, 1), ((0, 1), (1, 2)), (1, 1), 1),
    "dilation": ((2, 2, 9, 8), (3, 3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2), 1),
    "dilation mixed": ((1, 2, 9, 10), (3, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 3), 1),
    "groups": ((2, 4, 6, 6), (6, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 2),
    "depthwise": ((2, 3, 6, 5), (3, 3, 3), (2, 1), ((1, 1), (1, 1)), (1, 1), 3),
    "batch 1": ((1, 3, 8, 8), (2, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    "many filters": ((2, 3, 4, 4), (40, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    "kernel = input": ((2, 3, 4, 5), (2, 4, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
}


def _operands(config, dtype):
    (n, c, h, w), (o, kh, kw), stride, padding, dilation, groups = config
    x = random(n, c, h, w, seed=1, dtype=dtype)
    weight = random(o, c // groups, kh, kw, seed=2, dtype=dtype)
    bias = random(o, seed=3, dtype=dtype)
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation,
                                 groups=groups)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_gemm_matches_direct(name, dtype):
    x, weight, bias, geometry = _operands(CONFIGS[name], dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    expected = conv2d_direct(x, weight, bias, **geometry)
    actual = conv2d_gemm(x, weight, bias, **geometry)
    assert actual.dtype == dtype and actual.flags.c_contiguous
    np.testing.assert_allclose(actual, expected, **tol)

    grad_output = random(*expected.shape, seed=4, dtype=dtype)
    grad_x, grad_w, grad_b = conv2d_direct_backward(x, weight, grad_output, **geometry)
    fast_x = conv2d_gemm_backward_input(grad_output, weight, x.shape, **geometry)
    fast_w = conv2d_gemm_backward_weight(x, grad_output, weight.shape, **geometry)
    assert fast_x.dtype == dtype and fast_w.dtype == dtype and grad_b.dtype == dtype
    np.testing.assert_allclose(fast_x, grad_x, **tol)
    np.testing.assert_allclose(fast_w, grad_w, **tol)
    np.testing.assert_allclose(grad_b, grad_output.sum(axis=(0, 2, 3)), **tol)


@pytest.mark.parametrize("name", ["padding 2 stride 2", "dilation mixed", "groups",
                                  "asymmetric padding"])
def test_direct_reference_agrees_with_torch(name):
    """The oracle itself is checked once against PyTorch (float64)."""
    x, weight, bias, geometry = _operands(CONFIGS[name], np.float64)
    (top, bottom), (left, right) = geometry["padding"]
    xt = torch.nn.functional.pad(torch.tensor(x), (left, right, top, bottom)).requires_grad_()
    wt, bt = torch.tensor(weight, requires_grad=True), torch.tensor(bias, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, geometry["stride"], 0, geometry["dilation"],
                                    geometry["groups"])
    y = conv2d_direct(x, weight, bias, **geometry)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_output = random(*y.shape, seed=4, dtype=np.float64)
    yt.backward(torch.tensor(grad_output))
    grad_x, grad_w, grad_b = conv2d_direct_backward(x, weight, grad_output, **geometry)
    grad_xt = xt.grad.numpy()[:, :, top:top + x.shape[2], left:left + x.shape[3]]
    np.testing.assert_allclose(grad_x, grad_xt, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_w, wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_b, bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_im2col_layout_and_values():
    x = np.arange(2 * 2 * 4 * 4, dtype=np.float32).reshape(2, 2, 4, 4)
    cols = im2col(x, (2, 3), (2, 1))
    assert cols.shape == (2, 2 * 2 * 3, 2 * 2)
    # column (i=1, j=0) of image 1 is the 2x3 field at rows 2-3, columns 0-2, per channel
    np.testing.assert_array_equal(cols[1, :, 2], x[1, :, 2:4, 0:3].ravel())
    by_channel = im2col(x, (2, 3), (2, 1), batch_major=False)
    assert by_channel.shape == (12, 2 * 4)
    np.testing.assert_array_equal(by_channel.reshape(12, 2, 4), cols.transpose(1, 0, 2))


def test_pointwise_columns_are_a_view():
    x = random(2, 3, 4, 5)
    assert np.shares_memory(im2col(x, (1, 1)), x)


@pytest.mark.parametrize("kernel, stride, dilation", [((3, 3), (1, 1), (1, 1)),
                                                      ((2, 3), (3, 2), (1, 1)),
                                                      ((3, 2), (1, 2), (2, 1))])
def test_col2im_is_the_adjoint_of_im2col(kernel, stride, dilation):
    """<im2col(x), c> = <x, col2im(c)> for all x, c: col2im is im2col transposed."""
    x = random(2, 3, 8, 7, seed=5, dtype=np.float64)
    cols = im2col(x, kernel, stride, dilation)
    c = random(*cols.shape, seed=6, dtype=np.float64)
    back = col2im(c, x.shape, kernel, stride, dilation)
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


def test_pad2d_borders():
    x = np.ones((1, 1, 2, 3), np.float32)
    padded = pad2d(x, ((1, 0), (0, 2)), value=-1)
    assert padded.dtype == np.float32
    np.testing.assert_array_equal(padded[0, 0], [[-1, -1, -1, -1, -1],
                                                 [1, 1, 1, -1, -1],
                                                 [1, 1, 1, -1, -1]])
    assert pad2d(x, ((0, 0), (0, 0))) is x


def test_workspace_is_reused_and_typed():
    first = workspace((4, 5), np.float32)
    second = workspace((2, 3), np.float32)
    assert np.shares_memory(first, second) and second.dtype == np.float32
    assert workspace((2, 3), np.float64).dtype == np.float64


def test_gemm_leaves_inputs_untouched():
    x, weight, bias, geometry = _operands(CONFIGS["padding 1"], np.float32)
    copies = [a.copy() for a in (x, weight, bias)]
    y = conv2d_gemm(x, weight, bias, **geometry)
    grad_output = random(*y.shape, seed=7)
    g_copy = grad_output.copy()
    conv2d_gemm_backward_input(grad_output, weight, x.shape, **geometry)
    conv2d_gemm_backward_weight(x, grad_output, weight.shape, **geometry)
    for before, after in zip(copies + [g_copy], (x, weight, bias, grad_output)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 5, 1, 1), (64, 8, 14, 14)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_grad_is_the_sum_over_batch_and_pixels(shape, dtype):
    from layerwise.backend.conv import bias_grad
    g = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(bias_grad(g), g.sum(axis=(0, 2, 3)), rtol=tolerance,
                               atol=tolerance * shape[0] * shape[2] * shape[3])
    np.testing.assert_allclose(bias_grad(g.transpose(0, 1, 3, 2)), g.sum(axis=(0, 2, 3)),
                               rtol=tolerance, atol=tolerance * shape[0] * shape[2] * shape[3])
    assert bias_grad(g).dtype == dtype
