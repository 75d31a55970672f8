import math

import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn
from layerwise.nn.utils import (clip_grad_norm_, clip_grad_value_, get_total_norm,
                                parameters_to_vector, vector_to_parameters)
from tests.helpers import random

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def twin_params(dtype=np.float32, scale=1.0, with_unused=True):
    """Layerwise and torch parameters holding the same values and the same gradients."""
    lw_params, torch_params = [], []
    for i, shape in enumerate(SHAPES):
        value, grad = random(*shape, seed=i, dtype=dtype), random(*shape, seed=10 + i, dtype=dtype)
        grad = grad * dtype(scale)
        p, tp = nn.Parameter(value.copy()), torch.nn.Parameter(torch.tensor(value))
        p.grad, tp.grad = lw.tensor(grad.copy()), torch.tensor(grad.copy())
        lw_params.append(p)
        torch_params.append(tp)
    if with_unused:   # a parameter without gradient is ignored
        lw_params.append(nn.Parameter(np.ones(2, dtype=dtype)))
        torch_params.append(torch.nn.Parameter(torch.ones(2, dtype=torch.from_numpy(
            np.zeros(1, dtype)).dtype)))
    return lw_params, torch_params


def assert_grads_equal(lw_params, torch_params, rtol):
    for p, tp in zip(lw_params, torch_params):
        if tp.grad is None:
            assert p.grad is None
            continue
        assert p.grad.data.dtype == tp.grad.numpy().dtype
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype, rtol):
    lw_params, torch_params = twin_params(dtype)
    total = clip_grad_norm_(lw_params, max_norm, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, max_norm, norm_type=norm_type)
    assert isinstance(total, lw.Tensor) and total.shape == ()
    assert total.dtype == dtype
    np.testing.assert_allclose(total.data, torch_total.numpy(), rtol=rtol)
    assert_grads_equal(lw_params, torch_params, rtol)


def test_clipped_gradients_have_max_norm():
    lw_params, _ = twin_params(np.float64)
    before = clip_grad_norm_(lw_params, 1.0).item()
    assert before > 1.0
    after = math.sqrt(sum((p.grad.data ** 2).sum() for p in lw_params if p.grad is not None))
    assert after == pytest.approx(before / (before + 1e-6), rel=1e-12)


def test_no_clipping_below_max_norm_leaves_grads_identical():
    lw_params, _ = twin_params(np.float32)
    grads = [p.grad.data for p in lw_params[:3]]
    clip_grad_norm_(lw_params, 1e6)
    assert all(p.grad.data is g for p, g in zip(lw_params, grads))


def test_clipping_assigns_new_arrays_and_leaves_shared_ones_alone():
    lw_params, _ = twin_params(np.float32)
    shared = lw_params[0].grad.data
    snapshot = shared.copy()
    clip_grad_norm_(lw_params, 0.1)
    clip_grad_value_(lw_params, 0.01)
    np.testing.assert_array_equal(shared, snapshot)
    assert lw_params[0].grad.data is not shared


def test_single_tensor_and_generator_inputs():
    lw_params, torch_params = twin_params(np.float64, with_unused=False)
    total = clip_grad_norm_(lw_params[0], 0.3)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params[0], 0.3)
    np.testing.assert_allclose(total.data, torch_total.numpy(), rtol=1e-13)
    total = clip_grad_norm_((p for p in lw_params), 0.3)
    torch_total = torch.nn.utils.clip_grad_norm_((p for p in torch_params), 0.3)
    np.testing.assert_allclose(total.data, torch_total.numpy(), rtol=1e-13)
    assert_grads_equal(lw_params, torch_params, 1e-13)


def test_no_gradients_gives_zero_norm():
    total = clip_grad_norm_([nn.Parameter(np.ones(3, dtype=np.float32))], 1.0)
    assert total.item() == 0.0


def test_nonfinite_norm():
    lw_params, torch_params = twin_params(np.float32)
    for params, tensor in ((lw_params, lw.tensor), (torch_params, torch.tensor)):
        grad = params[1].grad.data if params is lw_params else params[1].grad.numpy()
        grad = grad.copy()
        grad[0] = np.inf
        params[1].grad = tensor(grad)
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_(lw_params, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(lw_params, 1.0)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, 1.0)
    assert math.isinf(total.item()) and math.isinf(torch_total.item())
    assert_grads_equal(lw_params, torch_params, 1e-6)   # 0 and nan (inf·0), as torch


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.0, -math.inf])
def test_get_total_norm_matches_torch(norm_type):
    lw_params, torch_params = twin_params(np.float64, with_unused=False)
    lw_params[1].grad.data[:2] = 0.0
    torch_params[1].grad[:2] = 0.0
    total = get_total_norm([p.grad for p in lw_params], norm_type)
    torch_total = torch.nn.utils.get_total_norm([p.grad for p in torch_params], norm_type)
    np.testing.assert_allclose(total.data, torch_total.numpy(), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.5, 10.0])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    lw_params, torch_params = twin_params(dtype)
    clip_grad_value_(lw_params, clip_value)
    torch.nn.utils.clip_grad_value_(torch_params, clip_value)
    assert_grads_equal(lw_params, torch_params, 0)
    assert max(np.abs(p.grad.data).max() for p in lw_params[:3]) <= clip_value


def test_parameters_to_vector_and_back_match_torch():
    lw_params, torch_params = twin_params(np.float64, with_unused=False)
    vector = parameters_to_vector(lw_params)
    torch_vector = torch.nn.utils.parameters_to_vector(torch_params)
    np.testing.assert_array_equal(vector.data, torch_vector.detach().numpy())

    new = lw.tensor(np.arange(vector.shape[0], dtype=np.float64))
    vector_to_parameters(new, lw_params)
    torch.nn.utils.vector_to_parameters(torch.arange(len(torch_vector), dtype=torch.float64),
                                        torch_params)
    for p, tp in zip(lw_params, torch_params):
        np.testing.assert_array_equal(p.data, tp.detach().numpy())
    new.data[:] = -1.0                      # copies: changing the vector changes no parameter
    assert lw_params[0].data[0, 0] == 0.0


def test_parameters_to_vector_is_differentiable():
    lw_params, _ = twin_params(np.float64, with_unused=False)
    for p in lw_params:
        p.grad = None
    (parameters_to_vector(lw_params) ** 2).sum().backward()
    for p in lw_params:
        np.testing.assert_allclose(p.grad.data, 2 * p.data)


def test_vector_to_parameters_errors():
    params = [nn.Parameter(np.zeros((2, 2)))]
    with pytest.raises(TypeError, match="expected Tensor"):
        vector_to_parameters(np.zeros(4), params)
    with pytest.raises(ValueError, match="the vector has 5 entries, the parameters 4"):
        vector_to_parameters(lw.tensor(np.zeros(5)), params)
