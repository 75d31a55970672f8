"""sum, mean, var, std, max/min with and without dim, amax, logsumexp, norm, argmax."""
import numpy as np
import pytest
import torch

import layerwise as lw
from tests.helpers import assert_gradcheck, assert_matches_torch, random

DIMS = [0, 1, -1, (0, 2)]


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_full_reductions_match_torch(name):
    x = random(3, 4, 5)
    fn = lambda t: getattr(t, name)()  # noqa: E731
    assert_matches_torch(fn, fn, x)
    assert_gradcheck(fn, x)


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_reductions_along_dims_match_torch(name, dim, keepdim):
    x = random(3, 4, 5)
    fn = lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)  # noqa: E731
    assert_matches_torch(fn, fn, x)
    assert_gradcheck(fn, x)


def test_var_unbiased_false_and_correction():
    x = random(4, 6)
    assert_matches_torch(lambda t: t.var(dim=1, unbiased=False),
                         lambda t: t.var(dim=1, unbiased=False), x)
    assert_matches_torch(lambda t: t.std(dim=0, correction=0),
                         lambda t: t.std(dim=0, correction=0), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_dim_return_values_and_indices(name, dim, keepdim):
    x = random(3, 4, 5, seed=3)
    lw_out = getattr(lw.tensor(x), name)(dim=dim, keepdim=keepdim)
    torch_out = getattr(torch.tensor(x), name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(lw_out.indices.numpy(), torch_out.indices.numpy())
    assert lw_out.indices.dtype == np.int64
    assert_matches_torch(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values,
                         lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values, x)
    assert_gradcheck(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values, x)


def test_full_max_splits_gradient_between_ties_like_torch():
    x = np.array([[1.0, 3.0], [3.0, 2.0]], np.float32)
    assert_matches_torch(lambda t: t.max(), lambda t: t.max(), x)
    assert_matches_torch(lambda t: t.min(), lambda t: t.min(), x)


@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_amax_amin(dim):
    x = np.array([[1.0, 3.0, 3.0], [0.5, 2.0, -1.0]], np.float32)
    kwargs = {} if dim is None else {"dim": dim}
    assert_matches_torch(lambda t: t.amax(**kwargs), lambda t: t.amax(**kwargs), x)
    assert_matches_torch(lambda t: t.amin(**kwargs), lambda t: t.amin(**kwargs), x)


@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
def test_logsumexp_matches_torch_and_is_stable(dim):
    x = random(4, 6) * 10
    assert_matches_torch(lambda t: t.logsumexp(dim), lambda t: t.logsumexp(dim), x)
    assert_gradcheck(lambda t: t.logsumexp(dim), x)
    big = np.array([[1000.0, -1000.0, 999.0]], np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact
        assert_matches_torch(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), big)


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
def test_norm(p):
    x = random(3, 4)
    assert_matches_torch(lambda t: t.norm(p), lambda t: t.norm(p), x)
    assert_matches_torch(lambda t: t.norm(p, dim=1), lambda t: t.norm(p, dim=1), x)


def test_norm_of_zero_has_zero_gradient_like_torch():
    assert_matches_torch(lambda t: t.norm(), lambda t: t.norm(), np.zeros(3, np.float32))


def test_argmax_argmin():
    x = random(3, 4)
    np.testing.assert_array_equal(lw.tensor(x).argmax(dim=1).numpy(),
                                  torch.tensor(x).argmax(dim=1).numpy())
    assert lw.tensor(x).argmin().item() == torch.tensor(x).argmin().item()


def test_reduction_over_a_missing_dim_is_a_clear_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        lw.randn(2, 3).sum(dim=2)


def test_sum_of_bool_counts():
    assert (lw.tensor([1.0, 2.0, 3.0]) > 1.5).sum().item() == 2
