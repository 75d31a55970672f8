import numpy as np
import pytest
import torch

from layerwise import nn, optim
from tests.optim.parity import assert_same_trajectory, two_groups

RMSPROP_OPTIONS = [
    dict(),
    dict(lr=0.01, alpha=0.9),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, centered=True, momentum=0.5),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, eps=1e-3, maximize=True),
    dict(lr=0.005, alpha=0.95, eps=1e-6, weight_decay=0.05, momentum=0.7, centered=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_trajectory_matches_torch(options, dtype):
    assert_same_trajectory(optim.RMSprop, torch.optim.RMSprop, options, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsprop_param_groups_match_torch(dtype):
    assert_same_trajectory(optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5),
                           dtype, groups=two_groups)


def test_rmsprop_defaults_are_pytorchs():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    defaults = optim.RMSprop([p]).defaults
    assert defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                            centered=False, maximize=False)


def test_rmsprop_state_names_are_pytorchs():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    p.grad = nn.Parameter(np.ones(2, dtype=np.float32)).detach()
    opt = optim.RMSprop([p], momentum=0.9, centered=True)
    opt.step()
    assert set(opt.state[p]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}
    assert all(opt.state[p][k].dtype == np.float32 for k in opt.state[p] if k != "step")


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    (dict(eps=-1e-8), "Invalid epsilon value"),
    (dict(momentum=-0.1), "Invalid momentum value"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value"),
])
def test_rmsprop_validation(options, message):
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match=message):
        optim.RMSprop([p], **options)
