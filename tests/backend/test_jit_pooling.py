"""The compiled tiled pooling kernels (numba) equal the NumPy tiled kernels bit for bit."""
import numpy as np
import pytest

import layerwise as lw
import layerwise.nn.functional as F
from layerwise.backend import jit
from layerwise.backend import jit_pooling as compiled
from layerwise.backend import pooling_tiled as tiled

pytestmark = pytest.mark.skipif(not jit.available(), reason="numba is in the [test] extra")

SHAPES = [((2, 3, 8, 8), (2, 2)), ((1, 2, 9, 6), (3, 3)), ((2, 1, 4, 6), (2, 3)),
          ((1, 1, 2, 2), (2, 2)), ((3, 2, 5, 4), (1, 2)), ((1, 1, 4, 4), (1, 1)),
          ((16, 16, 32, 32), (2, 2))]   # the last one is split across threads


def ties(shape, dtype, seed=0):
    """Small integers as floats: many equal values inside windows."""
    return np.random.default_rng(seed).integers(0, 4, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kernel", SHAPES)
def test_max_forward_and_backward_equal_the_numpy_kernels(shape, kernel, dtype):
    x = ties(shape, dtype)
    y, arg = compiled.max_forward(x, kernel)
    ref_y, ref_arg = tiled.max_forward(x, kernel)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(arg, ref_arg)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(compiled.max_backward(g, arg, x.shape, kernel),
                                  tiled.max_backward(g, ref_arg, x.shape, kernel))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kernel", SHAPES)
@pytest.mark.parametrize("divisor", [None, 4, 3])
def test_sum_and_average_equal_the_numpy_kernels(shape, kernel, dtype, divisor):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    expected = tiled.sum_forward(x, kernel)
    if divisor is not None:
        expected /= divisor
    y = compiled.sum_forward(x, kernel, divisor)
    np.testing.assert_array_equal(y, expected)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    expected_grad = tiled.sum_backward(g if divisor is None else g / divisor, x.shape, kernel)
    np.testing.assert_array_equal(compiled.sum_backward(g, x.shape, kernel, divisor),
                                  expected_grad)


def test_nan_input_is_reported_for_the_general_kernel():
    for position in [(0, 0), (1, 1), (3, 2)]:
        x = ties((1, 1, 4, 4), np.float32)
        x[(0, 0) + position] = np.nan
        assert compiled.max_forward(x, (2, 2)) is None


def test_non_finite_gradients_are_routed_exactly():
    x = ties((1, 1, 4, 4), np.float32)
    y, arg = compiled.max_forward(x, (2, 2))
    g = np.array([[[[np.inf, 1.0], [np.nan, -2.0]]]], np.float32)
    grad = compiled.max_backward(g, arg, x.shape, (2, 2))
    assert np.isinf(grad).sum() == 1 and np.isnan(grad).sum() == 1
    assert (grad == 0).sum() == 12


@pytest.mark.parametrize("op", ["max", "avg", "sum"])
def test_layers_give_the_same_values_and_gradients_with_and_without_numba(op):
    x0 = np.random.default_rng(3).standard_normal((4, 3, 12, 12)).astype(np.float32)
    pool = {"max": F.max_pool2d, "avg": F.avg_pool2d, "sum": F.sum_pool2d}[op]

    def run():
        x = lw.tensor(x0, requires_grad=True)
        y = pool(x, 2)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    y, grad = run()
    with jit.disabled():
        ref_y, ref_grad = run()
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(grad, ref_grad)
