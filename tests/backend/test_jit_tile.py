"""``backend.jit_tile``: the packed register-tile product equals A @ W (float64 reference)
for every tile height, widths that are not a multiple of 32, K = 1, strided operands,
with and without accumulating into C."""
import numpy as np
import pytest

from layerwise.backend import jit, jit_tile

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="needs numba's compiled kernels")


def test_pack_panels_layout():
    w = np.arange(3 * 40, dtype=np.float32).reshape(3, 40)
    panels = jit_tile.pack_panels(w)
    assert panels.shape == (2, 3, 32) and panels.flags.c_contiguous
    np.testing.assert_array_equal(panels[0], w[:, :32])
    np.testing.assert_array_equal(panels[1, :, :8], w[:, 32:])
    assert not panels[1, :, 8:].any()                       # zero padding past N


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (8, 3, 32), (9, 3, 64), (7, 5, 40), (13, 33, 70),
                                     (64, 257, 96), (3, 1, 33), (16, 64, 31)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_packed_matmul_equals_the_product(m, k, n, accumulate):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    c0 = rng.standard_normal((m, n)).astype(np.float32)
    c = c0.copy()
    jit_tile.packed_matmul(a, jit_tile.pack_panels(w), c, accumulate)
    expected = a.astype(np.float64) @ w.astype(np.float64) + (c0 if accumulate else 0)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5 * np.sqrt(k))


def test_packed_matmul_on_strided_rows():
    """Row strides larger than the width (a column block of bigger arrays)."""
    rng = np.random.default_rng(0)
    a_big = rng.standard_normal((20, 50)).astype(np.float32)
    c_big = np.full((20, 80), 7.0, dtype=np.float32)
    w = rng.standard_normal((37, 45)).astype(np.float32)
    jit_tile.packed_matmul(a_big[:, 5:42], jit_tile.pack_panels(w), c_big[:, 10:55], False)
    np.testing.assert_allclose(c_big[:, 10:55], a_big[:, 5:42] @ w, rtol=1e-5, atol=1e-4)
    assert (c_big[:, :10] == 7).all() and (c_big[:, 55:] == 7).all()   # nothing outside
