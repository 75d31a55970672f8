"""Activations: parity with PyTorch (values and gradients), gradchecks, extreme inputs."""
import warnings

import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from layerwise.nn.functional.activation import exp_shift
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random)

TF = torch.nn.functional

# (layerwise function, torch function), applied elementwise
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, TF.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, beta=2, threshold=3),
                      lambda x: TF.softplus(x, beta=2, threshold=3)),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_range": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "relu6": (F.relu6, TF.relu6),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(1,), (3, 4), (2, 3, 2, 2)])
def test_elementwise_activation_matches_torch(name, shape):
    x = random(*shape, seed=len(name)) * 4           # reach the saturated/clipped regions
    assert_matches_torch(*ELEMENTWISE[name], x)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_gradcheck(name):
    x = random(3, 4, seed=7) * 3
    x[np.abs(x) < 0.05] = 0.3                        # keep away from the kinks
    x[np.abs(np.abs(x) - 1) < 0.05] = 0.5            # hardtanh's corners
    x[np.abs(x - 6) < 0.05] = 5.0
    assert_gradcheck(ELEMENTWISE[name][0], x)


def test_step_is_heaviside_with_zero_at_zero_and_zero_gradient():
    x = lw.tensor([-2.0, -0.0, 0.0, 1e-7, 3.0], requires_grad=True)
    y = F.step(x)
    np.testing.assert_array_equal(y.numpy() if not y.requires_grad else y.detach().numpy(),
                                  [0, 0, 0, 1, 1])
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))
    expected = torch.heaviside(torch.tensor([-2.0, -0.0, 0.0, 1e-7, 3.0]), torch.tensor(0.0))
    np.testing.assert_array_equal(nn.Step()(lw.tensor(x.data)).numpy(), expected.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("shape", [(1, 5), (4, 5), (2, 3, 4)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_and_log_softmax_match_torch(dim, shape, log):
    ours, theirs = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    assert_matches_torch(lambda x: ours(x, dim), lambda x: theirs(x, dim), random(*shape) * 3)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_gradcheck(log):
    fn = F.log_softmax if log else F.softmax
    assert_gradcheck(lambda x: fn(x, 1), random(3, 4, 2))
    assert_gradcheck(lambda x: fn(x, -1), random(5))


@pytest.mark.parametrize("spread", [1.0, 100.0])   # within 60 of the max: one shift for all
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_on_large_arrays_matches_torch(spread, dtype):
    x = random(8, 4, 16, 16, seed=3, dtype=dtype) * spread     # takes the large-array paths
    one_shift = exp_shift(x, 3)
    assert (np.ndim(one_shift) == 0) == (spread == 1.0)
    for ours, theirs in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]:
        assert_matches_torch(lambda t: ours(t, -1), lambda t: theirs(t, -1), x)
        assert_matches_torch(lambda t: ours(t, 1), lambda t: theirs(t, 1), x)


def test_softmax_sums_to_one_and_accepts_dtype():
    y = F.softmax(lw.tensor(random(3, 7)), dim=1)
    np.testing.assert_allclose(y.numpy().sum(axis=1), np.ones(3), rtol=1e-6)
    assert F.softmax(lw.tensor(random(2, 3)), dim=1, dtype=np.float64).dtype == np.float64
    assert F.softmax(lw.tensor(np.float32(2.0)), dim=0).item() == 1.0
    assert_matches_torch(lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0),
                         np.array(3.0, dtype=np.float32))


EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0],
                    [1000.0, 1000.0, 999.0]], dtype=np.float32)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid", "softplus", "gelu",
                                  "elu", "tanh"])
def test_extreme_logits_are_finite_correct_and_silent(name):
    pairs = {"softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
             "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1))}
    ours, theirs = pairs.get(name) or ELEMENTWISE[name]
    # overflow, division by zero and invalid operations raise; underflow of e^-1000 to 0
    # is the correct result (NumPy ignores it by default too)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        x = lw.tensor(EXTREME, requires_grad=True)
        y = ours(x)
        (y * lw.tensor(random(3, 3))).sum().backward()
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert_matches_torch(ours, theirs, EXTREME)


def test_module_activations_match_torch():
    x = random(2, 5) * 3
    pairs = [(nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
             (nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
             (nn.ELU(), torch.nn.ELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
             (nn.Softplus(beta=0.5), torch.nn.Softplus(beta=0.5)),
             (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
             (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
             (nn.Hardtanh(-2, 2), torch.nn.Hardtanh(-2, 2)), (nn.ReLU6(), torch.nn.ReLU6())]
    for ours, theirs in pairs:
        assert_module_matches_torch(ours, theirs, x)
        assert list(ours.state_dict()) == []


def test_module_repr():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_softmax_requires_dim():
    with pytest.raises(TypeError, match="Softmax: dim is required"):
        nn.Softmax()
    with pytest.raises(TypeError, match="log_softmax: dim is required"):
        F.log_softmax(lw.zeros(2, 3))
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(lw.zeros(2, 3), dim=2)


def test_bad_activation_arguments():
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(lw.zeros(2), approximate="fast")
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_activations_keep_float32():
    x = lw.tensor(random(3, 4), requires_grad=True)
    assert F.leaky_relu(x, np.float64(0.1)).dtype == np.float32      # a NumPy scalar parameter
    for fn in [F.step, F.leaky_relu, F.elu, F.gelu, F.softplus, F.hardtanh, F.relu6,
               lambda t: F.softmax(t, 1), lambda t: F.log_softmax(t, 1),
               lambda t: F.gelu(t, approximate="tanh"), lambda t: F.softplus(t, beta=3)]:
        y = fn(x)
        assert y.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == np.float32
