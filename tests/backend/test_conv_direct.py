"""The direct (compiled, row-pitch) convolution equals the loop reference in every corner."""
import numpy as np
import pytest

from layerwise.backend import conv_direct, conv_select, jit
from layerwise.backend.conv import conv2d_direct, conv2d_direct_backward
from layerwise.backend.jit_conv_direct import source
from tests.helpers import random

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba (the [test] extra) turned on")


def _check(x_shape, weight_shape, padding, dilation=(1, 1), dtype=np.float32):
    x = random(*x_shape, seed=1, dtype=dtype)
    w = random(*weight_shape, seed=2, dtype=dtype)
    b = random(weight_shape[0], seed=3, dtype=dtype)
    geometry = dict(stride=(1, 1), padding=padding, dilation=dilation)
    tol = dict(rtol=1e-10, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-5, atol=3e-5)
    conv = conv_direct.DirectConv(x, w, (1, 1), padding, dilation)
    y = conv.forward(b)
    expected = conv2d_direct(x, w, b, **geometry)
    assert y.shape == expected.shape and y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, expected, **tol)
    g = random(*y.shape, seed=4, dtype=dtype)
    grad_x, grad_w = conv.backward(g)
    ref_x, ref_w, _ = conv2d_direct_backward(x, w, g, **geometry)
    np.testing.assert_allclose(grad_x, ref_x, **tol)
    np.testing.assert_allclose(grad_w, ref_w, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lenet_shapes_match_the_reference(dtype, two_threads):
    _check((3, 1, 12, 12), (6, 1, 5, 5), ((2, 2), (2, 2)), dtype=dtype)   # 4 + 2 channels
    _check((3, 6, 9, 9), (16, 6, 5, 5), ((0, 0), (0, 0)), dtype=dtype)    # 4 passes of 4


@pytest.mark.parametrize("kernel", [(2, 2), (3, 3), (1, 7), (7, 1), (9, 9), (11, 3)])
def test_kernel_widths_and_channels_per_pass(kernel, two_threads):
    kh, kw = kernel
    padding = ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2))
    _check((2, 2, 13, 12), (5, 2, kh, kw), padding)


def test_channels_per_pass_keep_the_weights_in_registers_and_divide_the_channels():
    assert conv_direct.channels_per_pass(5, 32) == 4
    assert conv_direct.channels_per_pass(5, 3) == 3
    assert conv_direct.channels_per_pass(5, 6) == 3
    assert conv_direct.channels_per_pass(5, 10) == 2
    assert conv_direct.channels_per_pass(7, 32) == 2
    assert conv_direct.channels_per_pass(11, 32) == 1


@pytest.mark.parametrize("pool", ["native", "python"])
def test_work_is_split_over_images_or_channel_blocks(pool, two_threads, monkeypatch):
    monkeypatch.setattr(conv_direct, "NATIVE_MIN_FLOPS", 1.0)     # split even tiny work
    monkeypatch.setattr(conv_direct.parallel, "pays_off", lambda seconds: True)
    if pool == "python":
        monkeypatch.setattr(conv_direct.native, "active", lambda: False)
    _check((1, 3, 10, 10), (10, 3, 3, 3), ((1, 1), (1, 1)))   # batch 1: 5 blocks of 2
    _check((5, 2, 9, 7), (8, 2, 3, 3), ((1, 1), (0, 0)))      # images split


def test_row_blocks_and_dilation(monkeypatch):
    monkeypatch.setattr(conv_direct, "ROW_BLOCK", 30)   # a block of 1-2 output rows
    _check((2, 2, 11, 9), (3, 2, 3, 3), ((2, 2), (2, 2)), dilation=(2, 2))
    _check((1, 1, 8, 8), (2, 1, 2, 3), ((0, 1), (1, 2)))   # asymmetric padding


def test_non_contiguous_input_and_kernel_as_large_as_the_image():
    x = random(2, 3, 8, 10, seed=1)[:, :, :, ::2]
    w = random(4, 3, 8, 5, seed=2)
    y = conv_direct.DirectConv(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1)).forward()
    np.testing.assert_allclose(y, conv2d_direct(np.ascontiguousarray(x), w), rtol=2e-5,
                               atol=3e-5)


def test_not_applicable_to_strides_groups_or_padding_beyond_the_kernel():
    kernel = (4, 2, 3, 3)
    same = ((1, 1), (1, 1))
    assert conv_direct.applicable(kernel, (1, 1), same, (1, 1), 1, np.float32) == jit.enabled()
    assert not conv_direct.applicable(kernel, (2, 2), same, (1, 1), 1, np.float32)
    assert not conv_direct.applicable(kernel, (1, 1), same, (1, 1), 2, np.float32)
    assert not conv_direct.applicable(kernel, (1, 1), ((3, 3), (0, 0)), (1, 1), 1, np.float32)
    assert not conv_direct.applicable(kernel, (1, 1), same, (1, 1), 1, np.float16)
    with pytest.raises(ValueError, match="DirectConv: needs numba, stride 1"):
        conv_direct.DirectConv(random(1, 2, 5, 5), random(4, 2, 3, 3), (2, 2), same, (1, 1))


def test_selection_tries_it_only_for_few_input_values_per_output():
    none = ((0, 0), (0, 0))
    assert conv_select._worth_trying("direct", (8, 1, 28, 28), (32, 1, 5, 5), none)
    assert not conv_select._worth_trying("direct", (8, 32, 14, 14), (64, 32, 5, 5), none)
    assert not conv_select._worth_trying("direct", (8, 16, 14, 14), (32, 16, 1, 1), none)


def test_generated_source_names_every_tap_and_channel():
    text = source(3, 2)
    assert "w1_2 = w[o0 + 1, c, p, 2]" in text
    assert "a0[l] += w0_0 * v0 + w0_1 * v1 + w0_2 * v2" in text
    assert "s1_2 += u1 * v2" in text


def test_unmeasured_default_is_direct_for_first_layers_only():
    candidates = list(conv_select.ALGORITHMS)
    assert conv_select._default(candidates, (32, 1, 5, 5)) == "direct"
    assert conv_select._default(candidates, (64, 32, 5, 5)) == "gemm_batched"
    assert conv_select._default(["gemm", "gemm_batched"], (32, 1, 5, 5)) == "gemm_batched"
