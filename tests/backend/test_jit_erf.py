"""The compiled float32 erf and GELU equal the exact functions to float32 precision."""
import math

import numpy as np
import pytest
from scipy.special import erf

from layerwise.backend import jit, jit_erf

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="needs numba's compiled kernels")


def test_erf_is_within_float32_precision_everywhere():
    x = np.concatenate([np.linspace(-7, 7, 400_001), [0.0, -0.0, 1e-30, 40.0, -40.0]])
    x = x.astype(np.float32)
    out = jit_erf.erf(x, np.empty_like(x))
    np.testing.assert_allclose(out, erf(x.astype(np.float64)), rtol=0, atol=5e-7)
    assert out[-2] == 1.0 and out[-1] == -1.0


def test_erf_keeps_nan_and_saturates_at_infinity():
    x = np.array([np.nan, np.inf, -np.inf], np.float32)
    out = jit_erf.erf(x, np.empty_like(x))
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == -1.0


def test_gelu_and_its_saved_cdf():
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32) * 3
    out, cdf = np.empty_like(x), np.empty_like(x)
    jit_erf.gelu(x, out, cdf)
    exact_cdf = 0.5 * (1 + erf(x.astype(np.float64) / math.sqrt(2)))
    np.testing.assert_allclose(cdf, exact_cdf, rtol=0, atol=3e-7)
    np.testing.assert_allclose(out, x * exact_cdf, rtol=1e-6, atol=1e-6)


def test_split_over_threads_gives_the_same_bits(two_threads):
    x = np.random.default_rng(1).standard_normal(4 * jit_erf.MIN_CHUNK + 7).astype(np.float32)
    whole, cdf = np.empty_like(x), np.empty_like(x)
    jit_erf._gelu(whole, cdf, x)
    split, split_cdf = np.empty_like(x), np.empty_like(x)
    jit_erf.gelu(x, split, split_cdf)
    np.testing.assert_array_equal(split, whole)
    np.testing.assert_array_equal(split_cdf, cdf)
    np.testing.assert_array_equal(jit_erf.erf(x, np.empty_like(x)),
                                  jit_erf.erf(x[:10], np.empty(10, np.float32)).tolist() +
                                  jit_erf.erf(x[10:], np.empty(x.size - 10, np.float32)).tolist())


@pytest.mark.parametrize("size", [100, 4 * jit_erf.MIN_CHUNK + 7])
def test_gelu_in_place_equals_gelu_into_a_new_array(size, two_threads):
    x = np.random.default_rng(2).standard_normal(size).astype(np.float32)
    out, cdf = np.empty_like(x), np.empty_like(x)
    jit_erf.gelu(x, out, cdf)
    in_place, in_place_cdf = x.copy(), np.empty_like(x)
    assert jit_erf.gelu(in_place, in_place, in_place_cdf) is in_place
    np.testing.assert_array_equal(in_place, out)
    np.testing.assert_array_equal(in_place_cdf, cdf)


def test_usable_only_for_contiguous_float32():
    x = np.zeros((4, 6), np.float32)
    assert jit_erf.usable(x)
    assert not jit_erf.usable(x[:, ::2])
    assert not jit_erf.usable(x.astype(np.float64))
