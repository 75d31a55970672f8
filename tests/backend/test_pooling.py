"""The fast pooling kernels (window views + offset-major reductions) against direct loops."""
import numpy as np
import pytest
import torch

from layerwise.backend import pooling as kernels
from layerwise.backend.conv import crop2d, pad2d
from tests.helpers import random

COURSE_MAP = np.array([[1, 2, 3, 4],
                       [5, 6, 7, 8],
                       [0, 9, 1, 2],
                       [3, 4, 5, 6]], dtype=np.float32)


def _geometry(shape, kernel, stride, padding, dilation, ceil_mode):
    out = tuple(kernels.pool_output_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d
                in zip(shape[2:], kernel, stride, padding, dilation))
    pads = tuple(kernels.pool_padding(size, o, k, s, p, d) for size, o, k, s, p, d
                 in zip(shape[2:], out, kernel, stride, padding, dilation))
    return out, pads


def _max_pool(x, kernel, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
    out, pads = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode)
    y, argmax = kernels.max_pool2d_forward(pad2d(x, pads, -np.inf), kernel, stride, dilation, out)
    return y, argmax, pads


def test_course_pooling_example():
    x = COURSE_MAP[None, None]
    y, _, _ = _max_pool(x, (2, 2), (2, 2))
    np.testing.assert_array_equal(y[0, 0], [[6, 8], [9, 6]])
    sums = kernels.window_sum(x, (2, 2), (2, 2), (1, 1), (2, 2))
    np.testing.assert_array_equal(sums[0, 0], [[14, 22], [16, 14]])
    np.testing.assert_array_equal(sums[0, 0] / 4, [[3.5, 5.5], [4, 3.5]])


@pytest.mark.parametrize("size, kernel, stride, padding, ceil_mode, expected", [
    (4, 2, 2, 0, False, 2),
    (5, 2, 2, 0, False, 2),
    (5, 2, 2, 0, True, 3),    # the last window starts inside the input
    (5, 3, 3, 1, True, 2),    # it would start in the right padding: dropped
    (6, 3, 2, 1, True, 4),
    (6, 3, 2, 1, False, 3),
    (224, 3, 2, 1, False, 112),
])
def test_pool_output_size(size, kernel, stride, padding, ceil_mode, expected):
    assert kernels.pool_output_size(size, kernel, stride, padding, 1, ceil_mode) == expected


def test_pool_output_size_matches_torch_everywhere():
    for size in range(2, 12):
        for kernel in range(1, min(size, 5) + 1):
            for stride in range(1, 5):
                for padding in range(kernel // 2 + 1):
                    for ceil_mode in (False, True):
                        torch_out = torch.nn.functional.max_pool2d(
                            torch.zeros(1, 1, size, 1), (kernel, 1), (stride, 1), (padding, 0),
                            ceil_mode=ceil_mode).shape[2]
                        ours = kernels.pool_output_size(size, kernel, stride, padding, 1, ceil_mode)
                        assert ours == torch_out, (size, kernel, stride, padding, ceil_mode)


def test_tiling_windows_are_a_reshape_view():
    x = random(2, 3, 4, 6)
    windows = kernels.pool_windows(x, (2, 3), (2, 3), (1, 1), (2, 2))
    assert windows.shape == (2, 3, 2, 3, 2, 2) and np.shares_memory(windows, x)
    np.testing.assert_array_equal(windows[1, 2, :, :, 1, 0], x[:, :, 3, 2])
    overlapping = kernels.pool_windows(x, (3, 3), (1, 1), (1, 1), (2, 4))
    assert np.shares_memory(overlapping, x)
    np.testing.assert_array_equal(overlapping[2, 1, :, :, 1, 3], x[:, :, 3, 4])


# kernel, stride, padding, dilation, ceil_mode
CONFIGS = {
    "2x2 tiles": ((2, 2), (2, 2), (0, 0), (1, 1), False),
    "2x2 odd input": ((2, 2), (2, 2), (0, 0), (1, 1), True),
    "3x3 stride 2 pad 1": ((3, 3), (2, 2), (1, 1), (1, 1), False),
    "3x3 stride 1 overlap": ((3, 3), (1, 1), (1, 1), (1, 1), False),
    "stride > kernel": ((2, 2), (3, 3), (0, 0), (1, 1), False),
    "non-square": ((2, 3), (1, 2), (1, 1), (1, 1), True),
    "ceil with padding": ((3, 3), (3, 3), (1, 1), (1, 1), True),
    "1x1": ((1, 1), (2, 2), (0, 0), (1, 1), False),
    "dilation": ((2, 2), (1, 2), (1, 0), (2, 3), False),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_max_pool_matches_direct(name, dtype):
    kernel, stride, padding, dilation, ceil_mode = CONFIGS[name]
    x = random(2, 3, 7, 8, seed=1, dtype=dtype)
    y, argmax, pads = _max_pool(x, kernel, stride, padding, dilation, ceil_mode)
    expected, indices = kernels.pool2d_direct(x, "max", kernel, stride, padding, dilation,
                                              ceil_mode)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, expected)
    found = kernels.max_pool2d_indices(argmax, kernel, stride, dilation,
                                       (pads[0][0], pads[1][0]), x.shape[3])
    np.testing.assert_array_equal(found, indices)

    grad_output = random(*y.shape, seed=2, dtype=dtype)
    padded_shape = pad2d(x, pads).shape
    grad = crop2d(kernels.max_pool2d_backward(grad_output, argmax, padded_shape, kernel, stride,
                                              dilation), pads)
    reference = kernels.pool2d_direct_backward(grad_output, x.shape, "max", kernel, stride,
                                               padding, dilation, indices=indices)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, reference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "dilation"])
def test_sum_and_avg_pool_match_direct(name, count_include_pad, dtype):
    kernel, stride, padding, _, ceil_mode = CONFIGS[name]
    x = random(2, 3, 7, 8, seed=1, dtype=dtype)
    out, pads = _geometry(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    sums = kernels.window_sum(pad2d(x, pads), kernel, stride, (1, 1), out)
    divisor = kernels.avg_pool_divisor(x.shape[2:], out, kernel, stride, padding,
                                       count_include_pad, dtype)
    assert sums.dtype == dtype and divisor.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6)
    expected_sum, _ = kernels.pool2d_direct(x, "sum", kernel, stride, padding, ceil_mode=ceil_mode)
    expected_avg, _ = kernels.pool2d_direct(x, "avg", kernel, stride, padding, ceil_mode=ceil_mode,
                                            count_include_pad=count_include_pad)
    np.testing.assert_allclose(sums, expected_sum, **tol)
    np.testing.assert_allclose(sums / divisor, expected_avg, **tol)

    grad_output = random(*sums.shape, seed=2, dtype=dtype)
    padded_shape = pad2d(x, pads).shape
    grad = crop2d(kernels.window_sum_backward(grad_output / divisor, padded_shape, kernel, stride,
                                              (1, 1)), pads)
    reference = kernels.pool2d_direct_backward(grad_output, x.shape, "avg", kernel, stride,
                                               padding, count_include_pad=count_include_pad)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, reference, **tol)


def test_max_pool_ties_go_to_the_first_maximum_and_nan_wins():
    x = np.zeros((1, 1, 2, 4), np.float32)
    x[0, 0, 1, 3] = np.nan
    y, argmax, _ = _max_pool(x, (2, 2), (2, 2))
    assert y[0, 0, 0, 0] == 0 and argmax[0, 0, 0, 0] == 0
    assert np.isnan(y[0, 0, 0, 1]) and argmax[0, 0, 0, 1] == 3


def test_max_pool_backward_with_infinite_gradient_stays_in_place():
    x = np.array([[[[1, 2], [3, 4]]]], np.float32)
    _, argmax, _ = _max_pool(x, (2, 2), (2, 2))
    grad = kernels.max_pool2d_backward(np.full((1, 1, 1, 1), np.inf, np.float32), argmax,
                                       x.shape, (2, 2), (2, 2), (1, 1))
    np.testing.assert_array_equal(grad[0, 0], [[0, 0], [0, np.inf]])


def test_adaptive_bounds_are_pytorchs():
    start, end = kernels.adaptive_pool_bounds(10, 4)
    np.testing.assert_array_equal(start, [0, 2, 5, 7])
    np.testing.assert_array_equal(end, [3, 5, 8, 10])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("out_hw", [(1, 1), (3, 4), (5, 3), (7, 8), (9, 11), (2, 8)])
def test_adaptive_pools_match_direct(out_hw, dtype):
    x = random(2, 3, 7, 8, seed=1, dtype=dtype)
    avg = kernels.adaptive_avg_pool2d_forward(x, out_hw)
    expected_avg, _ = kernels.adaptive_pool2d_direct(x, out_hw, "avg")
    assert avg.dtype == dtype
    np.testing.assert_allclose(avg, expected_avg, rtol=1e-5, atol=1e-6)
    y, indices = kernels.adaptive_max_pool2d_forward(x, out_hw)
    expected_max, expected_indices = kernels.adaptive_pool2d_direct(x, out_hw, "max")
    np.testing.assert_array_equal(y, expected_max)
    np.testing.assert_array_equal(indices, expected_indices)

    grad_output = random(*y.shape, seed=2, dtype=dtype)
    grad_avg = kernels.adaptive_avg_pool2d_backward(grad_output, x.shape[2:])
    grad_max = kernels.adaptive_max_pool2d_backward(grad_output, indices, x.shape)
    assert grad_avg.dtype == dtype and grad_max.dtype == dtype
    # average pooling is linear: backward is its transpose, <f(x), g> = <x, f'(g)>
    np.testing.assert_allclose(np.sum(avg * grad_output), np.sum(x * grad_avg), rtol=1e-4)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.adaptive_max_pool2d(xt, out_hw).backward(torch.tensor(grad_output))
    np.testing.assert_allclose(grad_max, xt.grad.numpy(), rtol=1e-6, atol=1e-7)
