"""The compiled row passes of softmax equal the NumPy softmax, masked rows included."""
import numpy as np
import pytest
from scipy.special import softmax

from layerwise.backend import jit, jit_softmax
from layerwise.nn.functional import attention

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="needs numba's compiled kernels")


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-7), (np.float64, 1e-15)])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 4, 64, 64), (5, 300)])
def test_softmax_rows_equals_scipy(dtype, tol, shape):
    x = (np.random.default_rng(0).standard_normal(shape) * 4).astype(dtype)
    expected = softmax(x.astype(np.float64), axis=-1)
    got = jit_softmax.softmax_rows_(x.copy())
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * 4)
    np.testing.assert_allclose(got.sum(axis=-1), 1, rtol=0, atol=tol * 64)


def test_masked_entries_get_zero_and_fully_masked_rows_become_zeros():
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    x[0, 3:] = -np.inf
    x[2, :] = -np.inf
    got = jit_softmax.softmax_rows_(x.copy())
    np.testing.assert_allclose(got[0, :3], softmax(x[0, :3].astype(np.float64)), atol=1e-7)
    assert (got[0, 3:] == 0).all() and (got[2] == 0).all()
    np.testing.assert_allclose(got[[1, 3]], softmax(x[[1, 3]].astype(np.float64), axis=-1),
                               atol=1e-7)


def test_nan_spreads_over_its_row_only():
    x = np.zeros((3, 5), np.float32)
    x[1, 2] = np.nan
    got = jit_softmax.softmax_rows_(x)
    assert np.isnan(got[1]).all()
    np.testing.assert_allclose(got[[0, 2]], 0.2, atol=1e-7)


def test_attention_softmax_compiled_equals_its_numpy_code(monkeypatch):
    x = np.random.default_rng(2).standard_normal((2, 3, 40, 40)).astype(np.float32) * 3
    x += np.triu(np.full((40, 40), -np.inf, np.float32), k=1)
    x[0, 0, 5] = -np.inf                                           # a fully masked row
    compiled = attention.softmax_rows_(x.copy())
    monkeypatch.setattr(jit_softmax, "usable", lambda rows: False)
    numpy_code = attention.softmax_rows_(x.copy())
    np.testing.assert_allclose(compiled, numpy_code, rtol=0, atol=2e-7)
    assert (compiled[0, 0, 5] == 0).all()
