"""The chunked batch-major convolution equals the direct reference for any chunking."""
import numpy as np
import pytest

from layerwise.backend import blas_threads, conv_batched
from layerwise.backend.conv import conv2d_direct, conv2d_direct_backward
from tests.backend.test_conv import CONFIGS, _operands


def _with_batch(config, n):
    return ((n,) + config[0][1:],) + config[1:]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("chunk_bytes", [1, 700, 1 << 30])   # 1 image, a few, all
@pytest.mark.parametrize("config", ["padding 1", "padding 2 stride 2", "1x1", "groups",
                                    "depthwise", "dilation mixed", "many filters"])
def test_chunked_passes_match_direct(config, chunk_bytes, dtype, two_threads, monkeypatch):
    monkeypatch.setattr(conv_batched, "CHUNK_BYTES", chunk_bytes)
    x, weight, bias, geometry = _operands(_with_batch(CONFIGS[config], 7), dtype)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    for for_backward in (True, False):
        conv = conv_batched.BatchedGemmConv(x, weight, geometry["stride"], geometry["padding"],
                                            geometry["dilation"], geometry["groups"],
                                            for_backward=for_backward)
        y = conv.forward(bias)
        assert y.dtype == dtype and y.flags.c_contiguous
        np.testing.assert_allclose(y, conv2d_direct(x, weight, bias, **geometry), **tol)
        g = np.random.default_rng(4).standard_normal(y.shape).astype(dtype)
        grad_x, grad_w = conv.backward(g)
        ref_x, ref_w, _ = conv2d_direct_backward(x, weight, g, **geometry)
        np.testing.assert_allclose(grad_x, ref_x, **tol)
        np.testing.assert_allclose(grad_w, ref_w, **tol)
        conv.release()


def test_columns_are_kept_only_when_the_weight_gradient_reads_them():
    x, few, many = (np.ones(shape, np.float32) for shape in
                    [(4, 3, 10, 10), (5, 3, 3, 3), (40, 3, 3, 3)])
    args = ((1, 1), ((1, 1), (1, 1)), (1, 1))                    # 10x10 = 100 output pixels
    assert conv_batched.BatchedGemmConv(x, few, *args).cols is not None      # 5·8 <= 100
    assert conv_batched.BatchedGemmConv(x, few, *args, for_backward=False).cols is None
    assert conv_batched.BatchedGemmConv(x, many, *args).cols is None         # 40·8 > 100


def test_over_images_covers_every_image_once_in_chunks(two_threads):
    seen = []
    conv_batched.over_images(lambda a, b: seen.append((a, b)), 11, 3)
    covered = sorted(i for a, b in seen for i in range(a, b))
    assert covered == list(range(11)) and max(b - a for a, b in seen) <= 3


def test_blas_threads_are_limited_inside_the_block_and_restored_after():
    before = blas_threads.get_num_threads()
    with blas_threads.limited(1):
        assert blas_threads.get_num_threads() == 1
        with blas_threads.limited(1):
            assert blas_threads.get_num_threads() == 1
        assert blas_threads.get_num_threads() == 1
    assert blas_threads.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with blas_threads.limited(1):
            raise RuntimeError("inside")
    assert blas_threads.get_num_threads() == before


def test_numpy_wheels_ship_an_openblas_we_can_limit():
    # the CI installs NumPy from PyPI, whose wheels bundle OpenBLAS: the fast path must be on
    assert blas_threads.available()
