"""The compiled layer-norm rows equal the NumPy code (the reference) within rounding."""
import numpy as np
import pytest

import layerwise as lw
from layerwise.backend import jit, jit_layer_norm
from layerwise.nn import functional as F

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="needs numba's compiled kernels")

TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _layer_norm(x, weight, bias, requires_grad):
    tensors = [lw.tensor(a, requires_grad=requires_grad) if a is not None else None
               for a in (x, weight, bias)]
    out = F.layer_norm(tensors[0], x.shape[-1:], tensors[1], tensors[2], eps=1e-5)
    if not requires_grad:
        return out.data, None
    out.backward(lw.tensor(np.cos(np.arange(out.data.size)).reshape(out.shape).astype(x.dtype)))
    return out.data, [t.grad for t in tensors if t is not None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_compiled_forward_equals_the_numpy_code(dtype, affine, requires_grad):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5, 7, 33)) * 4 + 2).astype(dtype)
    weight = rng.standard_normal(33).astype(dtype) if affine in ("both", "weight") else None
    bias = rng.standard_normal(33).astype(dtype) if affine in ("both", "bias") else None
    out, grads = _layer_norm(x, weight, bias, requires_grad)
    with jit.disabled():
        expected, expected_grads = _layer_norm(x, weight, bias, requires_grad)
    np.testing.assert_allclose(out, expected, **TOLERANCE[dtype])
    for grad, reference in zip(grads or [], expected_grads or []):
        np.testing.assert_allclose(grad, reference, **TOLERANCE[dtype])


def test_rows_split_over_threads_give_the_same_bits(two_threads):
    x = np.random.default_rng(4).standard_normal((600, 130)).astype(np.float32)
    weight, bias = np.full(130, 1.5, np.float32), np.full(130, -0.25, np.float32)
    assert jit_layer_norm.native.parts(x.size, jit_layer_norm.MIN_CHUNK) in (1, 2)
    split, x_hat, inv_std = jit_layer_norm.forward(x, weight, bias, 1e-5, True)
    whole, whole_hat = np.empty_like(x), np.empty_like(x)
    whole_inv = np.empty((600, 1), np.float32)
    jit_layer_norm._rows(x, weight, bias, np.float32(1e-5), whole, whole_hat, whole_inv, True,
                         0, 600)
    np.testing.assert_array_equal(split, whole)
    np.testing.assert_array_equal(x_hat, whole_hat)
    np.testing.assert_array_equal(inv_std, whole_inv)


def test_constant_rows_normalize_to_zero_and_stay_finite():
    x = np.full((3, 16), 7.0, np.float32)
    out, _, inv_std = jit_layer_norm.forward(x, None, None, 1e-5, True)
    assert np.all(out == 0) and np.all(np.isfinite(inv_std))
