"""Linear layer and the linear op: parity with PyTorch, gradients, shapes, bad input."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random)


@pytest.mark.parametrize("x_shape", [(1, 5), (4, 5), (2, 3, 5), (5,), (2, 1, 3, 5)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_function_matches_torch(x_shape, with_bias):
    arrays = [random(*x_shape, seed=1), random(3, 5, seed=2)]
    if with_bias:
        arrays.append(random(3, seed=3))
    assert_matches_torch(F.linear, torch.nn.functional.linear, *arrays)


def test_linear_function_gradcheck():
    assert_gradcheck(F.linear, random(2, 3, 4), random(5, 4, seed=1), random(5, seed=2))
    assert_gradcheck(lambda x, w: F.linear(x, w), random(3, 4), random(2, 4, seed=1))


@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_matches_torch(batch, bias):
    torch.manual_seed(0)
    reference = torch.nn.Linear(6, 4, bias=bias)
    assert_module_matches_torch(nn.Linear(6, 4, bias=bias), reference, random(batch, 6))


def test_linear_module_float64_and_leading_dims():
    torch.manual_seed(1)
    reference = torch.nn.Linear(3, 2).double()
    layer = nn.Linear(3, 2, dtype=np.float64)
    assert layer.weight.dtype == np.float64
    assert_module_matches_torch(layer, reference, random(2, 4, 3, dtype=np.float64))


def test_linear_keeps_float32_and_skips_unneeded_gradients():
    layer = nn.Linear(3, 2)
    x = lw.tensor(random(4, 3))                      # no grad wanted for the input
    out = layer(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad is None and layer.weight.grad.dtype == np.float32
    np.testing.assert_allclose(layer.bias.grad.numpy(), [4, 4])


def test_linear_default_init_follows_pytorch_bounds():
    lw.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert layer.weight.requires_grad and layer.bias.requires_grad


def test_linear_state_dict_keys_and_repr():
    layer = nn.Linear(784, 10)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert list(nn.Linear(2, 2, bias=False).state_dict()) == ["weight"]
    assert repr(layer) == "Linear(in_features=784, out_features=10, bias=True)"


def test_identity_returns_input():
    x = lw.tensor(random(2, 3))
    assert nn.Identity(54, unused="argument")(x) is x
    assert F.identity(x) is x


def test_linear_wrong_feature_size_names_layer_and_shapes():
    layer = nn.Linear(784, 10)
    with pytest.raises(RuntimeError, match=r"Linear: expected input with last dimension 784 "
                                           r"\(in_features\), got shape \(32, 785\)"):
        layer(lw.zeros(32, 785))
    with pytest.raises(RuntimeError, match=r"linear: expected input with last dimension 4"):
        F.linear(lw.zeros(2, 3), lw.zeros(5, 4))
    with pytest.raises(RuntimeError, match="bias must have shape"):
        F.linear(lw.zeros(2, 4), lw.zeros(5, 4), lw.zeros(4))


def test_linear_dtype_mismatch_is_an_error():
    layer = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="Linear: input dtype float64 does not match "
                                           "weight dtype float32"):
        layer(lw.tensor(np.zeros((2, 3))))
