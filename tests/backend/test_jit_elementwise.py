"""The compiled activation gradients (numba) equal the NumPy code bit for bit."""
import numpy as np
import pytest

import layerwise as lw
from layerwise.autograd.ops.elementwise import _tanh_grad
from layerwise.backend import fast_tanh, jit

pytestmark = pytest.mark.skipif(not jit.available(), reason="numba is in the [test] extra")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("shape", [(7,), (3, 5, 4), (600, 700)])   # the last on all threads
def test_activation_gradient_with_and_without_numba(activation, shape, dtype):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape).astype(dtype)
    x0.flat[:3] = 0.0                                  # ReLU's kink: gradient 0 at x = 0
    g0 = rng.standard_normal(shape).astype(dtype)

    def run():
        x = lw.tensor(x0, requires_grad=True)
        getattr(x, activation)().backward(lw.tensor(g0))
        return x.grad.numpy()

    grad = run()
    with jit.disabled():
        reference = run()
    if activation == "tanh" and fast_tanh.preferred(x0):
        # the forward differs (backend.fast_tanh, tests/backend/test_fast_tanh.py): the
        # gradient of the compiled run is checked against the NumPy formula on its own y
        y = fast_tanh.tanh(x0)
        reference = np.empty_like(y)
        _tanh_grad(reference, g0, y)
    np.testing.assert_array_equal(grad, reference)
    assert grad.dtype == dtype


def test_relu_gradient_of_a_non_contiguous_output_gradient():
    x = lw.tensor(np.arange(-6.0, 6.0, dtype=np.float32).reshape(3, 4), requires_grad=True)
    g = np.ones((4, 3), np.float32).T                  # a transposed view
    x.relu().backward(lw.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), (np.arange(-6.0, 6.0) > 0).reshape(3, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 5, 4), (600, 700)])
@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5])
def test_leaky_relu_with_and_without_numba(shape, dtype, slope):
    import layerwise.nn.functional as F
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(shape).astype(dtype)
    x0.flat[:2] = 0.0
    g0 = rng.standard_normal(shape).astype(dtype)

    def run():
        x = lw.tensor(x0, requires_grad=True)
        y = F.leaky_relu(x, slope)
        y.backward(lw.tensor(g0))
        return y.detach().numpy(), x.grad.numpy()

    y, grad = run()
    with jit.disabled():
        reference_y, reference_grad = run()
    np.testing.assert_array_equal(y, reference_y)
    np.testing.assert_array_equal(grad, reference_grad)


def test_float16_takes_the_numpy_path():
    from layerwise.backend import jit_elementwise, jit_pooling
    from layerwise.optim import jit_updates
    half = np.ones((4, 4), np.float16)
    assert not jit_elementwise.usable(half, half)
    assert not jit_pooling.usable(half[None, None])
    assert not jit_updates.usable(half, half)
    x = lw.tensor(np.array([-1.0, 2.0], np.float16), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_forward_is_numpys_maximum_bit_for_bit(dtype):
    from layerwise.backend import jit_elementwise
    x = np.array([-0.0, 0.0, np.nan, -1.5, 2.5, -np.inf, np.inf] * 5000, dtype=dtype)
    out = np.empty_like(x)
    jit_elementwise.relu(out, x)
    expected = np.maximum(x, 0)
    np.testing.assert_array_equal(out, expected)
    assert not np.signbit(out).any()                   # -0 becomes +0, as in NumPy
