"""Pooling ops and layers: gradients, PyTorch parity, the course's example, errors."""
import re

import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.backend.test_pooling import COURSE_MAP
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random)

TF = torch.nn.functional

MAX_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=2, stride=3),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=3, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=(1, 2), padding=(1, 0), dilation=(2, 3)),
]
AVG_CONFIGS = [{k: v for k, v in c.items() if k != "dilation"} for c in MAX_CONFIGS[:-1]]
ADAPTIVE_SIZES = [1, (3, 4), (4, None), (5, 3), (2, 2), (9, 8), (11, 3)]


def _ids(configs):
    return [", ".join(f"{k}={v}" for k, v in c.items()) for c in configs]


@pytest.mark.parametrize("kwargs", MAX_CONFIGS, ids=_ids(MAX_CONFIGS))
def test_max_pool2d_matches_torch(kwargs):
    x = random(2, 3, 9, 8, seed=1)
    assert_matches_torch(lambda t: F.max_pool2d(t, **kwargs),
                         lambda t: TF.max_pool2d(t, **kwargs), x)
    assert_matches_torch(lambda t: F.max_pool2d(t, **kwargs, return_indices=True),
                         lambda t: TF.max_pool2d(t, **kwargs, return_indices=True), x)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kwargs", AVG_CONFIGS, ids=_ids(AVG_CONFIGS))
def test_avg_pool2d_matches_torch(kwargs, count_include_pad):
    x = random(2, 3, 9, 8, seed=1)
    assert_matches_torch(lambda t: F.avg_pool2d(t, **kwargs, count_include_pad=count_include_pad),
                         lambda t: TF.avg_pool2d(t, **kwargs, count_include_pad=count_include_pad),
                         x)


@pytest.mark.parametrize("kwargs", AVG_CONFIGS[:3], ids=_ids(AVG_CONFIGS[:3]))
def test_divisor_override_and_sum_pool2d(kwargs):
    x = random(2, 3, 9, 8, seed=1)
    assert_matches_torch(lambda t: F.avg_pool2d(t, **kwargs, divisor_override=3),
                         lambda t: TF.avg_pool2d(t, **kwargs, divisor_override=3), x)
    # sum pooling is average pooling with divisor 1
    assert_matches_torch(lambda t: F.sum_pool2d(t, **kwargs),
                         lambda t: TF.avg_pool2d(t, **kwargs, divisor_override=1), x)


@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
def test_adaptive_pools_match_torch(size):
    x = random(2, 3, 9, 8, seed=1)
    assert_matches_torch(lambda t: F.adaptive_avg_pool2d(t, size),
                         lambda t: TF.adaptive_avg_pool2d(t, size), x)
    assert_matches_torch(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
                         lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True), x)


def test_global_avg_pool2d():
    x = random(2, 3, 5, 4, seed=1)
    assert_matches_torch(F.global_avg_pool2d, lambda t: TF.adaptive_avg_pool2d(t, 1).flatten(1), x)
    assert F.global_avg_pool2d(lw.tensor(x)).shape == (2, 3)


@pytest.mark.parametrize("fn", [
    lambda t: F.max_pool2d(t, 2),
    lambda t: F.max_pool2d(t, 3, stride=2, padding=1, ceil_mode=True),
    lambda t: F.max_pool2d(t, 2, stride=1, dilation=2),
    lambda t: F.avg_pool2d(t, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    lambda t: F.avg_pool2d(t, 2, stride=1),
    lambda t: F.sum_pool2d(t, (2, 3), stride=(2, 1), padding=1),
    lambda t: F.adaptive_avg_pool2d(t, (3, 2)),
    lambda t: F.adaptive_avg_pool2d(t, (2, 5)),
    lambda t: F.adaptive_max_pool2d(t, (3, 2)),
    lambda t: F.adaptive_max_pool2d(t, (2, 5)),
    F.global_avg_pool2d,
], ids=["max", "max ceil", "max dilated", "avg ceil", "avg overlap", "sum", "adaptive avg",
        "adaptive avg even", "adaptive max", "adaptive max even", "global avg"])
def test_pooling_gradcheck(fn):
    assert_gradcheck(fn, random(2, 2, 6, 5, seed=3, dtype=np.float64))


def test_course_pooling_example():
    x = lw.tensor(COURSE_MAP[None, None])
    np.testing.assert_array_equal(F.max_pool2d(x, 2, 2).numpy()[0, 0], [[6, 8], [9, 6]])
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy()[0, 0], [[6, 8], [9, 6]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy()[0, 0], [[3.5, 5.5], [4, 3.5]])
    np.testing.assert_array_equal(nn.SumPool2d(2)(x).numpy()[0, 0], [[14, 22], [16, 14]])


def test_ties_and_nan_follow_torch():
    x = np.zeros((1, 2, 4, 4), np.float32)  # ReLU outputs: many ties
    x[0, 1, 1, 2] = np.nan
    assert_matches_torch(lambda t: F.max_pool2d(t, 2, return_indices=True),
                         lambda t: TF.max_pool2d(t, 2, return_indices=True), x)
    assert_matches_torch(lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: TF.max_pool2d(t, 3, 1, 1), x)


def test_return_indices_without_grad():
    x = random(1, 2, 6, 5, seed=1)
    with lw.no_grad():
        y, indices = F.max_pool2d(lw.tensor(x, requires_grad=True), 3, 2, 1, return_indices=True)
        ya, indices_a = F.adaptive_max_pool2d(lw.tensor(x), (4, 3), return_indices=True)
    y_t, indices_t = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), indices_t.numpy())
    np.testing.assert_array_equal(y.numpy(), y_t.numpy())
    np.testing.assert_array_equal(indices_a.numpy(),
                                  TF.adaptive_max_pool2d(torch.tensor(x), (4, 3), True)[1].numpy())
    assert indices.dtype == np.int64 and y.grad_fn is None


def test_float32_stays_float32_and_float64_stays_float64():
    for dtype in (np.float32, np.float64):
        x = lw.tensor(random(1, 1, 6, 6, dtype=dtype))
        for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                  F.sum_pool2d(x, 2), F.adaptive_avg_pool2d(x, 4), F.adaptive_max_pool2d(x, 4),
                  F.global_avg_pool2d(x)):
            assert y.dtype == dtype


LAYERS = [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True),
     torch.nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True)),
    (nn.MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d(3, 2, 1, True, False, None), torch.nn.AvgPool2d(3, 2, 1, True, False, None)),
    (nn.AdaptiveAvgPool2d((5, None)), torch.nn.AdaptiveAvgPool2d((5, None))),
    (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
    (nn.AdaptiveMaxPool2d((4, 3), return_indices=True),
     torch.nn.AdaptiveMaxPool2d((4, 3), return_indices=True)),
]


@pytest.mark.parametrize("lw_layer, torch_layer", LAYERS, ids=[repr(t) for _, t in LAYERS])
def test_layers_match_torch(lw_layer, torch_layer):
    assert repr(lw_layer) == repr(torch_layer)
    assert_module_matches_torch(lw_layer, torch_layer, random(2, 3, 9, 7, seed=1))


def test_layerwise_own_layers():
    x = random(2, 3, 6, 4, seed=1)
    assert_module_matches_torch(nn.SumPool2d(2, 1), torch.nn.AvgPool2d(2, 1, divisor_override=1), x)
    assert_module_matches_torch(nn.GlobalAvgPool2d(),
                                torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1),
                                                    torch.nn.Flatten()), x)
    assert repr(nn.SumPool2d(2)) == "SumPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.GlobalAvgPool2d()) == "GlobalAvgPool2d()"
    assert list(nn.MaxPool2d(2).parameters()) == []


def _raises(match, fn, *args, **kwargs):
    with pytest.raises((RuntimeError, ValueError), match=match):
        fn(*args, **kwargs)


def test_kernel_larger_than_input():
    _raises(re.escape("MaxPool2d: kernel_size (5, 5) is larger than the padded input (3, 3) "
                      "(input shape (1, 1, 3, 3), padding (0, 0))"),
            nn.MaxPool2d(5), lw.zeros(1, 1, 3, 3))
    _raises(r"AvgPool2d: kernel_size \(4, 4\) is larger than the padded input \(5, 2\)",
            nn.AvgPool2d(4, padding=(1, 0)), lw.zeros(1, 1, 3, 2))
    _raises(r"dilated to \(5, 5\)", F.max_pool2d, lw.zeros(1, 1, 4, 4), 3, dilation=2)


def test_padding_at_most_half_the_kernel():
    _raises(re.escape("MaxPool2d: padding should be at most half of the effective kernel size, "
                      "got padding=(2, 2) with kernel_size=(3, 3) and dilation=(1, 1)"),
            nn.MaxPool2d(3, padding=2), lw.zeros(1, 1, 8, 8))
    _raises(r"avg_pool2d: padding should be at most half of the kernel size, got padding=\(0, 2\)",
            F.avg_pool2d, lw.zeros(1, 1, 8, 8), 3, padding=(0, 2))
    F.max_pool2d(lw.zeros(1, 1, 8, 8), 3, dilation=2, padding=2)  # effective kernel 5: allowed


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2), nn.SumPool2d(2),
                                   nn.AdaptiveAvgPool2d(2), nn.AdaptiveMaxPool2d(2),
                                   nn.GlobalAvgPool2d()], ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 1, 3, 8, 8)])
def test_input_must_be_4d(layer, shape):
    _raises(re.escape(f"{type(layer).__name__}: expected a 4-D input (N, C, H, W), got input of "
                      f"shape {shape}"), layer, lw.zeros(*shape))


def test_bad_arguments():
    x = lw.zeros(1, 1, 4, 4)
    _raises("stride must be positive", F.max_pool2d, x, 2, 0)
    _raises("kernel_size must be positive", F.avg_pool2d, x, 0)
    _raises("padding must be non-negative", F.max_pool2d, x, 2, padding=-1)
    _raises("divisor_override must be non-zero", F.avg_pool2d, x, 2, divisor_override=0)
    _raises("output_size must be positive", F.adaptive_avg_pool2d, x, 0)
    _raises("expected a floating point input", F.avg_pool2d, lw.tensor(np.zeros((1, 1, 4, 4),
                                                                                 np.int64)), 2)
