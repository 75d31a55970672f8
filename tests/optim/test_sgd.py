import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn, optim
from tests.optim.parity import (assert_same_trajectory, data, initial_arrays, loss_of, run,
                                two_groups)

SGD_OPTIONS = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
    dict(lr=0.05, maximize=True),
    dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.01, maximize=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_trajectory_matches_torch(options, dtype):
    assert_same_trajectory(optim.SGD, torch.optim.SGD, options, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_param_groups_with_different_lrs_match_torch(dtype):
    assert_same_trajectory(optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9), dtype,
                           groups=two_groups)


def test_sgd_with_closure_matches_torch():
    assert_same_trajectory(optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9),
                           closure=True)


def test_step_returns_closure_loss():
    p = nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.data, [0.8, 1.6], rtol=1e-6)


def test_default_lr_is_pytorchs():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert optim.SGD([p]).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                                           nesterov=False, maximize=False, ema=False)


def torch_sgd_run(options, steps, zero_initial_buffer=False, dtype=np.float64):
    """torch.optim.SGD on the parity problem; optionally its buffers start at 0, not at g."""
    arrays = initial_arrays(dtype)
    x, y = (torch.tensor(a) for a in data(dtype))
    w, b = (torch.nn.Parameter(torch.tensor(arrays[k].copy())) for k in ("weight", "bias"))
    opt = torch.optim.SGD([w, b], **options)
    if zero_initial_buffer:
        for p in (w, b):
            opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w, b, x, y).backward()
        opt.step()
        history.append(w.detach().numpy().copy())
    return history


def ema_run(gamma, alpha, steps):
    ema = run("lw", optim.SGD, dict(lr=alpha, momentum=gamma, ema=True), np.float64, steps=steps)
    return [values["weight"] for values in ema]


def test_ema_momentum_is_the_course_formula():
    gamma, alpha = 0.9, 0.1
    w = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([w], lr=alpha, momentum=gamma, ema=True)
    v, expected = np.zeros(2), np.array([1.0, -2.0])
    for _ in range(5):
        opt.zero_grad()
        (w * w * w).sum().backward()       # dW = 3 W²
        v = gamma * v + (1 - gamma) * 3 * expected ** 2
        expected = expected - alpha * v
        opt.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-14)


def test_ema_equals_pytorch_undamped_with_lr_scaled_by_one_minus_gamma():
    """EMA(α, γ) = PyTorch(lr=α(1-γ), momentum=γ, dampening=0), at every step.

    PyTorch's undamped first step v = g is also μ·0 + g, so here even the first
    step agrees: v_EMA = (1-γ) v_PyTorch throughout.
    """
    gamma, alpha, steps = 0.9, 0.05, 6
    ours = ema_run(gamma, alpha, steps)
    theirs = torch_sgd_run(dict(lr=alpha * (1 - gamma), momentum=gamma), steps)
    for step, (mine, reference) in enumerate(zip(ours, theirs), start=1):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, err_msg=f"step {step}")


def test_ema_equals_pytorch_damped_except_for_the_first_step():
    """EMA(α, γ) vs PyTorch(lr=α, momentum=γ, dampening=γ): same recursion, other start."""
    gamma, alpha, steps = 0.9, 0.05, 6
    start = initial_arrays(np.float64)["weight"]
    ours = ema_run(gamma, alpha, steps)
    damped = torch_sgd_run(dict(lr=alpha, momentum=gamma, dampening=gamma), steps)
    # first step: PyTorch's v = g, the EMA's v = (1-γ) g
    np.testing.assert_allclose(damped[0] - start, (ours[0] - start) / (1 - gamma), rtol=1e-12)
    assert not np.allclose(damped[-1], ours[-1], rtol=1e-6)
    # start PyTorch's buffer at 0 instead of g and the two runs coincide at every step
    damped_from_zero = torch_sgd_run(dict(lr=alpha, momentum=gamma, dampening=gamma), steps,
                                     zero_initial_buffer=True)
    for step, (mine, reference) in enumerate(zip(ours, damped_from_zero), start=1):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, err_msg=f"step {step}")


def test_sgd_validation_messages():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        optim.SGD([p], lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.SGD([p], lr=0.1, weight_decay=-1e-4)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="ema=True"):
        optim.SGD([p], lr=0.1, momentum=0.9, ema=True, dampening=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)


def test_skips_params_that_do_not_require_grad_even_with_a_grad():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    p.grad = lw.tensor(np.ones(2, dtype=np.float32))
    p.requires_grad_(False)
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, [1.0, 1.0])


def test_update_keeps_float32_and_does_not_touch_the_grad_array():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    grad = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    p.grad = lw.tensor(grad)
    opt = optim.SGD([p], lr=np.float64(0.1), momentum=0.9, weight_decay=0.1, maximize=True)
    opt.step()
    opt.step()
    assert p.data.dtype == np.float32
    assert opt.state[p]["momentum_buffer"].dtype == np.float32
    np.testing.assert_array_equal(grad, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(p.grad.data, [1.0, 2.0, 3.0])
