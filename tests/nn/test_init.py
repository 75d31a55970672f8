"""Weight initialization: fans and gains equal PyTorch's, and samples have the right statistics."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

import layerwise as lw
from layerwise import nn
from layerwise.nn import init

SHAPES = [(30, 20), (16, 8, 3, 3), (10, 4, 5), (6, 2, 2, 2, 2), (1, 7)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_and_fan_out_equal_pytorch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(np.empty(shape)) == expected
    assert init._calculate_fan_in_and_fan_out(nn.Parameter(np.empty(shape))) == expected


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init._calculate_fan_in_and_fan_out(np.empty(5))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_gain_equals_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def _filled(fn, shape=(200, 300), **kwargs):
    p = nn.Parameter(np.empty(shape, dtype=np.float32))
    fn(p, **kwargs)
    assert p.dtype == np.float32 and p.requires_grad and p.grad is None
    return p.data


def _assert_uniform(values, bound):
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.98 * bound
    assert abs(values.mean()) < 0.01 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def _assert_normal(values, std, mean=0.0):
    assert values.mean() == pytest.approx(mean, abs=0.01 * std + 1e-12)
    assert values.std() == pytest.approx(std, rel=0.01)


def test_uniform_normal_constant_and_friends():
    values = _filled(init.uniform_, a=-0.5, b=1.5)
    assert values.min() >= -0.5 and values.max() < 1.5
    assert values.mean() == pytest.approx(0.5, abs=0.01)
    _assert_normal(_filled(init.normal_, mean=3.0, std=0.5), 0.5, mean=3.0)
    assert (_filled(init.zeros_) == 0).all() and (_filled(init.ones_) == 1).all()
    assert (_filled(init.constant_, val=0.25) == 0.25).all()
    np.testing.assert_array_equal(_filled(init.eye_, shape=(3, 4)), np.eye(3, 4))


@pytest.mark.parametrize("gain", [1.0, init.calculate_gain("tanh")])
def test_xavier_glorot(gain):
    fan_in, fan_out = 300, 200
    _assert_uniform(_filled(init.xavier_uniform_, gain=gain),
                    gain * math.sqrt(6 / (fan_in + fan_out)))
    _assert_normal(_filled(init.xavier_normal_, gain=gain),
                   gain * math.sqrt(2 / (fan_in + fan_out)))
    assert init.glorot_uniform_ is init.xavier_uniform_
    assert init.glorot_normal_ is init.xavier_normal_


@pytest.mark.parametrize("mode,fan", [("fan_in", 300), ("fan_out", 200)])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0.1),
                                            ("leaky_relu", math.sqrt(5)), ("linear", 0)])
def test_kaiming_he(mode, fan, nonlinearity, a):
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    _assert_uniform(_filled(init.kaiming_uniform_, a=a, mode=mode, nonlinearity=nonlinearity),
                    gain * math.sqrt(3 / fan))
    _assert_normal(_filled(init.kaiming_normal_, a=a, mode=mode, nonlinearity=nonlinearity),
                   gain / math.sqrt(fan))
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_


def test_kaiming_on_a_convolution_weight_uses_the_receptive_field():
    values = _filled(init.kaiming_normal_, shape=(64, 32, 3, 3), nonlinearity="relu")
    _assert_normal(values, math.sqrt(2 / (32 * 9)))


def test_trunc_normal_stays_inside_and_has_the_truncated_statistics():
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    values = _filled(init.trunc_normal_, mean=mean, std=std, a=a, b=b)
    assert values.min() >= a and values.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert values.mean() == pytest.approx(law.mean(), abs=0.01)
    assert values.std() == pytest.approx(law.std(), rel=0.01)


@pytest.mark.parametrize("shape", [(20, 50), (50, 20), (8, 3, 2, 2)])
def test_orthogonal(shape):
    flat = _filled(init.orthogonal_, shape=shape, gain=2.0).reshape(shape[0], -1).astype(np.float64)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-5)


def test_default_layer_init_is_pytorchs_linear_default():
    weight = nn.Parameter(np.empty((200, 400), np.float32))
    bias = nn.Parameter(np.empty(200, np.float32))
    init.default_layer_init_(weight, bias)
    bound = 1 / math.sqrt(400)      # kaiming_uniform_(a=√5): gain·√(3/fan_in) = 1/√fan_in
    _assert_uniform(weight.data, bound)
    assert np.abs(bias.data).max() <= bound


def test_init_draws_from_the_global_generator():
    lw.manual_seed(42)
    first = _filled(init.kaiming_uniform_).copy()
    lw.manual_seed(42)
    np.testing.assert_array_equal(_filled(init.kaiming_uniform_), first)
    own = np.random.default_rng(1)
    values = np.empty((3, 3))
    init.normal_(values, generator=own)
    np.testing.assert_array_equal(values, np.random.default_rng(1).normal(0, 1, (3, 3)))
