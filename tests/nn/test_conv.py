"""F.conv2d and nn.Conv2d: gradients, PyTorch parity, the course's examples, errors."""
import re

import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.backend.test_conv import COURSE_INPUT, CROSS_FILTER, CROSS_OUTPUT
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random)

# input shape, weight shape, keyword arguments
CONFIGS = {
    "plain": ((2, 3, 7, 7), (4, 3, 3, 3), {}),
    "stride 2 padding 1": ((2, 3, 8, 7), (4, 3, 3, 3), dict(stride=2, padding=1)),
    "tuple arguments": ((2, 2, 9, 8), (3, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2),
                                                         dilation=(1, 2))),
    "stride > kernel": ((2, 2, 9, 9), (3, 2, 2, 2), dict(stride=3)),
    "1x1": ((2, 4, 5, 6), (3, 4, 1, 1), {}),
    "same odd": ((2, 3, 6, 5), (4, 3, 3, 3), dict(padding="same")),
    "same even kernel": ((2, 3, 6, 5), (4, 3, 4, 2), dict(padding="same")),
    "same dilated even": ((1, 2, 7, 6), (3, 2, 2, 4), dict(padding="same", dilation=(3, 1))),
    "valid": ((2, 3, 6, 5), (4, 3, 2, 2), dict(padding="valid")),
    "groups": ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    "depthwise": ((2, 3, 6, 5), (6, 1, 3, 3), dict(groups=3, stride=(1, 2))),
    "batch 1": ((1, 3, 8, 8), (2, 3, 5, 5), {}),
}
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
SMALL = ["plain", "stride 2 padding 1", "tuple arguments", "same even kernel", "groups"]


def _torch_conv(kwargs):
    return lambda x, w, b=None: torch.nn.functional.conv2d(x, w, b, **kwargs)


def _lw_conv(kwargs):
    return lambda x, w, b=None: F.conv2d(x, w, b, **kwargs)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_conv2d_matches_torch(name, bias):
    x_shape, w_shape, kwargs = CONFIGS[name]
    arrays = [random(*x_shape, seed=1), random(*w_shape, seed=2)]
    if bias:
        arrays.append(random(w_shape[0], seed=3))
    outs, _ = assert_matches_torch(_lw_conv(kwargs), _torch_conv(kwargs), *arrays)
    assert outs[0].dtype == np.float32


@pytest.mark.parametrize("name", ["plain", "same even kernel", "groups"])
def test_conv2d_matches_torch_in_float64(name):
    x_shape, w_shape, kwargs = CONFIGS[name]
    arrays = [random(*x_shape, seed=1, dtype=np.float64),
              random(*w_shape, seed=2, dtype=np.float64),
              random(w_shape[0], seed=3, dtype=np.float64)]
    outs, _ = assert_matches_torch(_lw_conv(kwargs), _torch_conv(kwargs), *arrays)
    assert outs[0].dtype == np.float64


@pytest.mark.parametrize("name", SMALL)
def test_conv2d_gradcheck(name):
    x_shape, w_shape, kwargs = CONFIGS[name]
    x = random(1, *x_shape[1:3], min(x_shape[3], 6), seed=1, dtype=np.float64)
    assert_gradcheck(_lw_conv(kwargs), x, random(*w_shape, seed=2, dtype=np.float64),
                     random(w_shape[0], seed=3, dtype=np.float64))


def test_only_the_requested_gradients_are_computed():
    x = lw.tensor(random(1, 2, 5, 5), requires_grad=True)
    w = lw.tensor(random(3, 2, 3, 3))
    F.conv2d(x, w).sum().backward()
    assert x.grad is not None and w.grad is None
    with lw.no_grad():
        assert F.conv2d(x, w).grad_fn is None


def test_course_cross_filter_through_the_op():
    y = F.conv2d(lw.tensor(COURSE_INPUT[None, None]), lw.tensor(CROSS_FILTER[None, None]))
    np.testing.assert_array_equal(y.numpy()[0, 0], CROSS_OUTPUT)


@pytest.mark.parametrize("size, kernel, padding, stride, expected", [
    (32, 5, 0, 1, 28), (227, 11, 0, 4, 55), (32, 3, 1, 1, 32), (7, 3, 1, 2, 4)])
def test_layer_feature_map_size(size, kernel, padding, stride, expected):
    layer = nn.Conv2d(3, 2, kernel, stride=stride, padding=padding)
    with lw.no_grad():
        assert layer(lw.zeros(1, 3, size, size)).shape == (1, 2, expected, expected)


def test_parameter_count_of_20_filters_5x5x3():
    layer = nn.Conv2d(3, 20, 5)
    assert layer.weight.shape == (20, 3, 5, 5) and layer.bias.shape == (20,)
    assert sum(p.numel() for p in layer.parameters()) == 20 * (5 * 5 * 3) + 20 == 1520
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert nn.Conv2d(4, 6, 3, groups=2, bias=False).weight.shape == (6, 2, 3, 3)


def test_default_init_is_pytorchs():
    lw.manual_seed(0)
    layer = nn.Conv2d(4, 8, 3)
    bound = 1 / np.sqrt(4 * 3 * 3)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound
    assert layer.weight.data.std() > bound / 3  # uniform on [-b, b]: std = b / √3
    lw.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(4, 8, 3).weight.data, layer.weight.data)


@pytest.mark.parametrize("args, kwargs, x_shape", [
    ((3, 4, 3), {}, (2, 3, 6, 6)),
    ((3, 4, (2, 3)), dict(stride=2, padding=1, bias=False), (2, 3, 7, 6)),
    ((4, 6, 3), dict(padding="same", groups=2, dilation=2), (2, 4, 7, 7)),
    ((2, 3, 4), dict(padding="same"), (1, 2, 6, 5)),
    ((3, 2, 1), dict(padding="valid"), (2, 3, 4, 4)),
])
def test_module_matches_torch(args, kwargs, x_shape):
    lw_layer, torch_layer = nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs)
    assert repr(lw_layer) == repr(torch_layer)
    assert_module_matches_torch(lw_layer, torch_layer, random(*x_shape, seed=1))


def test_double_layer_runs_in_float64():
    layer = nn.Conv2d(2, 3, 3).double()
    y = layer(lw.tensor(random(1, 2, 5, 5, dtype=np.float64)))
    assert y.dtype == np.float64


def _raises(error, match, fn, *args, **kwargs):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


def test_wrong_channel_count_names_layer_and_shapes():
    layer = nn.Conv2d(3, 8, 5)
    expected = ("Conv2d: expected input with 3 channels (weight shape (8, 3, 5, 5)), got "
                "input of shape (2, 4, 28, 28)")
    with pytest.raises(RuntimeError) as info:
        layer(lw.zeros(2, 4, 28, 28))
    assert str(info.value) == expected
    _raises(RuntimeError, r"conv2d: expected input with 4 channels \(weight shape \(6, 2, 3, 3\), "
            r"groups=2\)", F.conv2d, lw.zeros(1, 3, 5, 5), lw.zeros(6, 2, 3, 3), groups=2)


@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 2, 3, 28, 28), (28,)])
def test_input_must_be_4d(shape):
    _raises(RuntimeError, re.escape(f"Conv2d: expected a 4-D input (N, C, H, W), got input of "
                                    f"shape {shape}"), nn.Conv2d(3, 8, 3), lw.zeros(*shape))


def test_kernel_larger_than_padded_input():
    _raises(RuntimeError, r"Conv2d: kernel size \(5, 5\) is larger than the padded input \(3, 3\)",
            nn.Conv2d(1, 1, 5), lw.zeros(1, 1, 3, 3))
    _raises(RuntimeError, r"dilated to \(5, 5\)", F.conv2d, lw.zeros(1, 1, 4, 4),
            lw.zeros(1, 1, 3, 3), dilation=2)
    nn.Conv2d(1, 1, 5, padding=1)(lw.zeros(1, 1, 3, 3))  # 5x5 padded input: fine


def test_dtype_mismatch_names_both_dtypes():
    _raises(RuntimeError, "Conv2d: input dtype float64 and weight dtype float32 should be the same",
            nn.Conv2d(1, 1, 3), lw.tensor(np.zeros((1, 1, 5, 5))))
    _raises(RuntimeError, "bias dtype float64", F.conv2d, lw.zeros(1, 1, 5, 5),
            lw.zeros(1, 1, 3, 3), lw.tensor(np.zeros(1)))
    _raises(RuntimeError, r"expected bias of shape \(1,\), got \(2,\)", F.conv2d,
            lw.zeros(1, 1, 5, 5), lw.zeros(1, 1, 3, 3), lw.zeros(2))


def test_same_padding_refuses_strides():
    _raises(ValueError, "padding='same' is not supported for strided convolutions",
            nn.Conv2d, 3, 8, 3, stride=2, padding="same")
    _raises(RuntimeError, "conv2d: padding='same' is not supported for strided convolutions",
            F.conv2d, lw.zeros(1, 1, 5, 5), lw.zeros(1, 1, 3, 3), stride=2, padding="same")


def test_bad_constructor_arguments():
    _raises(ValueError, r"invalid padding string 'full'", nn.Conv2d, 3, 8, 3, padding="full")
    _raises(ValueError, r"in_channels \(3\) must be divisible by groups \(2\)", nn.Conv2d, 3, 8,
            3, groups=2)
    _raises(ValueError, r"out_channels \(5\) must be divisible by groups \(2\)", nn.Conv2d, 4, 5,
            3, groups=2)
    _raises(NotImplementedError, r"padding_mode='reflect' is not supported", nn.Conv2d, 3, 8, 3,
            padding_mode="reflect")
    _raises(ValueError, "padding_mode must be one of", nn.Conv2d, 3, 8, 3, padding_mode="mirror")
    _raises(ValueError, "stride must be positive", nn.Conv2d, 3, 8, 3, stride=0)
    _raises(ValueError, "padding must be non-negative", F.conv2d, lw.zeros(1, 1, 5, 5),
            lw.zeros(1, 1, 3, 3), padding=-1)
    _raises(TypeError, "expected input to be a Tensor", F.conv2d, np.zeros((1, 1, 5, 5)),
            lw.zeros(1, 1, 3, 3))
