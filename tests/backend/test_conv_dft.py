"""The matrix-DFT convolution's pieces: blocks, planar products and the planar inverse."""
import numpy as np
import pytest

from layerwise.backend import conv_dft, jit


def _complex(*shape, seed=0, dtype=np.complex128):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("conjugate_transpose", [True, False])
def test_planar_blocks_act_like_the_complex_matrix(conjugate_transpose):
    w_f = _complex(3, 4, 5, seed=1)                            # (F, O, C)
    m = np.conj(w_f).transpose(0, 2, 1) if conjugate_transpose else w_f
    x = _complex(3, 2, m.shape[1], seed=2)                     # rows of (F, N, K)
    blocks = conv_dft.planar_blocks(w_f, conjugate_transpose)
    planes = conv_dft.mix(x, blocks)                           # (2, F, N, L)
    expected = x @ m
    np.testing.assert_allclose(planes[0] + 1j * planes[1], expected, rtol=1e-12, atol=1e-12)
    assert blocks.shape == (3, 2 * m.shape[1], 2 * m.shape[2])


@pytest.mark.skipif(not jit.available(), reason="numba is in the [test] extra")
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_compiled_blocks_equal_the_numpy_ones_bit_for_bit(dtype):
    w_f = _complex(7, 6, 3, seed=3, dtype=dtype)
    for conjugate_transpose in (True, False):
        compiled = conv_dft.planar_blocks(w_f, conjugate_transpose)
        with jit.disabled():
            reference = conv_dft.planar_blocks(w_f, conjugate_transpose)
        np.testing.assert_array_equal(compiled, reference)


@pytest.mark.parametrize("grid, rows, cols", [((9, 8), (0, 6), (0, 5)), ((7, 11), (2, 3), (1, 8))])
def test_planar_inverse_equals_the_interleaved_one(grid, rows, cols):
    hp, fw = grid[0], grid[1] // 2 + 1
    spec = _complex(hp, fw, 3, 2, seed=4)
    planes = np.stack([spec.real, spec.imag])
    dtype = np.dtype(np.float64)
    np.testing.assert_allclose(conv_dft.inverse_planar(planes, grid, rows, cols, dtype),
                               conv_dft.inverse(spec, grid, rows, cols, dtype),
                               rtol=1e-12, atol=1e-12)


def test_inference_keeps_no_backward_blocks():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    conv = conv_dft.DFTConv(x, w, ((1, 1), (1, 1)), for_backward=False)
    assert conv.backward_blocks is None and conv.forward().shape == (2, 4, 8, 8)
    conv.release()
