"""exp, log, sqrt, abs, clamp, sigmoid, tanh, relu, maximum, minimum, where."""
import numpy as np
import pytest
import torch

import layerwise as lw
from tests.helpers import assert_gradcheck, assert_matches_torch, random

UNARY = {
    "exp": (lambda t: t.exp(), torch.exp, None),
    "log": (lambda t: t.log(), torch.log, (0.1, 3.0)),
    "sqrt": (lambda t: t.sqrt(), torch.sqrt, (0.1, 3.0)),
    "abs": (lambda t: t.abs(), torch.abs, None),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid, None),
    "tanh": (lambda t: t.tanh(), torch.tanh, None),
    "relu": (lambda t: t.relu(), torch.relu, None),
    "clamp": (lambda t: t.clamp(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7), None),
    "clamp_min": (lambda t: t.clamp(min=0.2), lambda t: t.clamp(min=0.2), None),
    "clip_max": (lambda t: lw.clip(t, max=0.1), lambda t: torch.clip(t, max=0.1), None),
}


def _input(bounds, shape=(3, 5), seed=0):
    if bounds is None:
        x = random(*shape, seed=seed)
        # keep away from kinks (0 for abs/relu, clamp bounds) for finite differences
        x[np.abs(x) < 0.05] += 0.1
        for edge in (-0.5, 0.7, 0.2, 0.1):
            x[np.abs(x - edge) < 0.02] += 0.05
        return x
    return random(*shape, seed=seed, low=bounds[0], high=bounds[1])


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(3, 5), (1,), (2, 3, 4)])
def test_unary_matches_torch(name, shape):
    ours, theirs, bounds = UNARY[name]
    assert_matches_torch(ours, theirs, _input(bounds, shape))


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    ours, _, bounds = UNARY[name]
    assert_gradcheck(ours, _input(bounds))


def test_sigmoid_and_exp_of_extreme_values_raise_no_warnings():
    x = lw.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.25, 0.0])


def test_maximum_minimum_with_ties_split_the_gradient_like_torch():
    a = np.array([1.0, 2.0, 3.0, 2.0], np.float32)
    b = np.array([3.0, 2.0, 1.0, 2.0], np.float32)
    assert_matches_torch(lw.maximum, torch.maximum, a, b)
    assert_matches_torch(lw.minimum, torch.minimum, a, b)
    assert_gradcheck(lw.maximum, random(3, 4, seed=1), random(4, seed=2))


def test_where_routes_gradients_to_the_chosen_side():
    cond = np.array([[True, False, True]])
    a, b = random(2, 3, seed=1), random(3, seed=2)
    assert_matches_torch(lambda x, y: lw.where(lw.tensor(cond), x, y),
                         lambda x, y: torch.where(torch.tensor(cond), x, y), a, b)
    assert_gradcheck(lambda x, y: lw.where(cond, x, y), a, b)
