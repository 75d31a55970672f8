"""The tiling fast path of pooling equals the general window kernels (ties, NaN, threads)."""
import numpy as np
import pytest

from layerwise.backend import pooling as general
from layerwise.backend import pooling_tiled as tiled


def _ties(shape, seed=0):
    """Small integers as floats: many equal values inside windows."""
    return np.random.default_rng(seed).integers(0, 4, size=shape).astype(np.float32)


@pytest.mark.parametrize("shape,kernel", [((2, 3, 8, 8), (2, 2)), ((1, 2, 9, 6), (3, 3)),
                                          ((2, 1, 4, 6), (2, 3)),
                                          ((8, 16, 64, 64), (2, 2))])  # big: split in threads
def test_max_matches_the_general_kernel_including_first_max_on_ties(shape, kernel):
    x = _ties(shape)
    out_size = (shape[2] // kernel[0], shape[3] // kernel[1])
    y, arg = tiled.max_forward(x, kernel)
    ref_y, ref_arg = general.max_pool2d_forward(x, kernel, kernel, (1, 1), out_size)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(arg, ref_arg)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(tiled.max_backward(g, arg, x.shape, kernel),
                                  general.max_pool2d_backward(g, ref_arg, x.shape, kernel, kernel,
                                                              (1, 1)))


@pytest.mark.parametrize("shape,kernel", [((2, 3, 8, 8), (2, 2)), ((8, 16, 64, 64), (2, 2)),
                                          ((1, 2, 9, 6), (3, 2))])
def test_sum_matches_the_general_kernel(shape, kernel):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out_size = (shape[2] // kernel[0], shape[3] // kernel[1])
    np.testing.assert_allclose(tiled.sum_forward(x, kernel),
                               general.window_sum(x, kernel, kernel, (1, 1), out_size), rtol=1e-6)
    g = np.random.default_rng(1).standard_normal(out_size).astype(np.float32)[None, None]
    g = np.broadcast_to(g, shape[:2] + out_size).copy()
    np.testing.assert_array_equal(tiled.sum_backward(g, x.shape, kernel),
                                  general.window_sum_backward(g, x.shape, kernel, kernel, (1, 1)))


def test_nan_input_falls_back_to_the_general_kernel():
    x = _ties((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    assert tiled.max_forward(x, (2, 2)) is None


def test_when_the_fast_path_applies():
    assert tiled.tiles((28, 28), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)))
    assert not tiled.tiles((27, 28), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)))   # does not tile
    assert not tiled.tiles((28, 28), (3, 3), (2, 2), (1, 1), ((0, 0), (0, 0)))   # overlapping
    assert not tiled.tiles((28, 28), (2, 2), (2, 2), (1, 1), ((1, 1), (1, 1)))   # padded
