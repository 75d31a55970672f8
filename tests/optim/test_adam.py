import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn, optim
from tests.optim.parity import assert_same_trajectory, run, two_groups

ADAM_OPTIONS = [
    dict(),
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99)),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, eps=1e-3, maximize=True),
    dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.05, amsgrad=True, maximize=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_trajectory_matches_torch(options, dtype):
    assert_same_trajectory(optim.Adam, torch.optim.Adam, options, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(), dict(lr=0.01, weight_decay=0.3),
                                     dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)],
                         ids=str)
def test_adamw_trajectory_matches_torch(options, dtype):
    assert_same_trajectory(optim.AdamW, torch.optim.AdamW, options, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_with_decoupled_weight_decay_matches_torch(dtype):
    assert_same_trajectory(optim.Adam, torch.optim.Adam,
                           dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dtype)


def test_adam_with_decoupled_weight_decay_is_adamw():
    options = dict(lr=0.01, weight_decay=0.1)
    adam = run("lw", optim.Adam, dict(options, decoupled_weight_decay=True), np.float64)
    adamw = run("lw", optim.AdamW, options, np.float64)
    for mine, reference in zip(adam, adamw):
        np.testing.assert_array_equal(mine["weight"], reference["weight"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_param_groups_match_torch(dtype):
    assert_same_trajectory(optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True), dtype,
                           groups=two_groups)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    """With m̂_1 = g and v̂_1 = g², the first step is lr·g/(|g| + ε) ≈ lr·sign(g)."""
    p = nn.Parameter(np.array([1.0, -1.0, 2.0]))
    p.grad = lw.tensor(np.array([3.0, -0.5, 1e-3]))
    optim.Adam([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.data, [0.9, -0.9, 1.9], rtol=1e-14)


def test_adam_state_names_and_dtypes_are_pytorchs():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    p.grad = lw.tensor(np.ones(2, dtype=np.float32))
    opt = optim.Adam([p], lr=np.float64(0.1), amsgrad=True)
    opt.step()
    opt.step()
    assert opt.state[p]["step"] == 2
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert p.data.dtype == np.float32
    assert all(opt.state[p][k].dtype == np.float32 for k in opt.state[p] if k != "step")


def test_adamw_default_weight_decay_is_pytorchs():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert optim.AdamW([p]).defaults["weight_decay"] == 1e-2
    assert optim.Adam([p]).defaults["weight_decay"] == 0


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
])
def test_adam_validation(options, message):
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match=message):
        optim.Adam([p], **options)
