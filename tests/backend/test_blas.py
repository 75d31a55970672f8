"""Products split over the native pool equal NumPy's, in every layout they accept."""
import itertools

import numpy as np
import pytest

from layerwise.backend import blas, native


pytestmark = pytest.mark.skipif(not blas.available(), reason="needs numba and NumPy's OpenBLAS")


def _random(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _transposed_copy(x):
    """The same values as x, stored with its last two axes swapped (a transposed view)."""
    return np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2)


TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-4), np.complex64: dict(rtol=2e-5, atol=2e-4),
             np.float64: dict(rtol=1e-12, atol=1e-10), np.complex128: dict(rtol=1e-12, atol=1e-10)}

SHAPES = [((64, 300), (300, 200)),           # columns split
          ((300, 200), (200, 9)),            # narrow: rows split
          ((64, 300), (300, 300)),           # x Wᵀ with few rows (Wᵀ a view): as (W xᵀ)ᵀ
          ((1, 3000), (3000, 700)),          # one row: matrix-vector product
          ((900, 800), (800, 1)),            # one column
          ((6, 64, 100), (6, 100, 70)),      # a stack: items split
          ((3, 64, 300), (300, 200)),        # a stack times one matrix (3 items, 2 threads)
          ((64, 300), (4, 300, 200)),        # one matrix times a stack
          ((2, 3, 40, 300), (2, 3, 300, 60)),
          ((5, 1, 40, 300), (1, 4, 300, 60))]   # broadcast over two axes


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shapes", SHAPES)
def test_matmul_equals_numpy_for_every_layout(shapes, dtype):
    a, b = _random(shapes[0], dtype, 1), _random(shapes[1], dtype, 2)
    expected = np.matmul(a, b)
    for swap_a, swap_b in itertools.product([False, True], repeat=2):
        left = _transposed_copy(a) if swap_a else a
        right = _transposed_copy(b) if swap_b else b
        result = blas.matmul(left, right)
        assert result.shape == expected.shape and result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, **TOLERANCE[dtype])


def test_output_array_and_strided_output_views():
    a, b = _random((64, 300), np.float32, 1), _random((300, 200), np.float32, 2)
    out = np.empty((64, 200), np.float32)
    assert blas.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=2e-5, atol=2e-4)
    wide = np.zeros((64, 400), np.float32)
    blas.matmul(a, b, out=wide[:, 100:300])                 # a row-strided output view
    np.testing.assert_allclose(wide[:, 100:300], a @ b, rtol=2e-5, atol=2e-4)
    assert not wide[:, :100].any() and not wide[:, 300:].any()


def test_a_product_with_few_rows_and_a_transposed_right_operand_is_computed_transposed():
    a, w = _random((64, 300), np.float32, 1), _random((300, 300), np.float32, 2)
    ops = (blas._operand(a), blas._operand(w.T), (blas.NO_TRANS, 300))
    assert blas._swap_pays(ops, 64, 300, a.dtype)
    assert not blas._swap_pays((ops[0], (blas.NO_TRANS, 300), ops[2]), 64, 300, a.dtype)
    wide = np.zeros((64, 500), np.float32)
    blas.matmul(a, w.T, out=wide[:, 100:400])                # into a row-strided view
    np.testing.assert_allclose(wide[:, 100:400], a @ w.T, rtol=2e-5, atol=2e-4)
    assert not wide[:, :100].any() and not wide[:, 400:].any()


def test_products_stay_on_the_dispatchers_fast_path(monkeypatch):
    """The BLAS functions reach the compiled loops as addresses: numba types every
    argument in C, never through its Python fallback (60-200 µs per call)."""
    from numba.core.dispatcher import Dispatcher
    shapes = [((64, 300), (300, 200)), ((1, 3000), (3000, 700)), ((64, 300), (300, 300)),
              ((6, 64, 100), (6, 100, 70))]
    operands = [(_random(s, np.float32, 1), _random(t, np.float32, 2)) for s, t in shapes]
    operands[2] = (operands[2][0], np.ascontiguousarray(operands[2][1].T).T)
    for a, b in operands:                    # compiled (or loaded from the cache) first
        blas.matmul(a, b)
    typed_in_python = []
    original = Dispatcher.typeof_pyval
    monkeypatch.setattr(Dispatcher, "typeof_pyval",
                        lambda self, value: typed_in_python.append(value) or
                        original(self, value))
    for _ in range(3):
        for a, b in operands:
            blas.matmul(a, b)
    assert typed_in_python == []


def test_whatever_it_cannot_split_goes_to_numpy():
    a = _random((64, 300), np.float32, 1)
    strided = _random((300, 400), np.float32, 2)[:, ::2]      # no unit stride
    np.testing.assert_allclose(blas.matmul(a, strided), a @ strided, rtol=2e-5, atol=2e-4)
    ints = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(blas.matmul(ints, ints.T), ints @ ints.T)
    vector = _random((300,), np.float32, 3)
    np.testing.assert_allclose(blas.matmul(a, vector), a @ vector, rtol=2e-5, atol=2e-4)
    with pytest.raises(ValueError):
        blas.matmul(a, a)                                    # NumPy's own shape error
    empty = np.zeros((0, 300), np.float32)
    assert blas.matmul(empty, strided).shape == (0, 200)


def test_without_the_native_pool_it_is_numpy(monkeypatch):
    monkeypatch.setattr(native, "active", lambda: False)
    a, b = _random((64, 300), np.float32, 1), _random((300, 200), np.float32, 2)
    np.testing.assert_array_equal(blas.matmul(a, b), np.matmul(a, b))


@pytest.mark.parametrize("mode", ["on", "off", "measure"])
@pytest.mark.parametrize("shape", [(64, 300, 200), (256, 300, 130), (40, 100, 33), (300, 50, 64)])
def test_tiled_products_equal_numpy(monkeypatch, mode, shape):
    monkeypatch.setattr(blas, "TILES", mode)
    m, k, n = shape
    a, w = _random((m, k), np.float32, 1), _random((n, k), np.float32, 2)
    for right in (w.T, np.ascontiguousarray(w.T)):
        np.testing.assert_allclose(blas.matmul(a, right), a @ right, rtol=2e-5, atol=2e-4)


def test_tile_rows_fit_the_small_kernels():
    assert blas._tile_rows(64, 784) == 64                 # 64 x 16 x 784 <= 10⁶
    assert blas._tile_rows(256, 784) == 64                # four tiles of 64 rows
    assert blas._tile_rows(256, 256) == 64                # at most 64 rows
    assert blas._tile_rows(100, 256) == 50                # two equal tiles
    assert blas._tile_rows(64, 5000) == 0                 # not even 16 rows fit
    for m, k in [(256, 784), (1000, 128), (300, 500)]:
        rows = blas._tile_rows(m, k)
        assert rows * blas.COLUMN_BLOCK * k <= blas.MAX_TILE_WORK and rows >= min(m, 16)
