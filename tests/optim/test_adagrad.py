import numpy as np
import pytest
import torch

from layerwise import nn, optim
from tests.optim.parity import assert_same_trajectory, two_groups

ADAGRAD_OPTIONS = [
    dict(),
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.1),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, initial_accumulator_value=0.5),
    dict(lr=0.1, eps=1e-3, maximize=True),
    dict(lr=0.05, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.1, eps=1e-6),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", ADAGRAD_OPTIONS, ids=str)
def test_adagrad_trajectory_matches_torch(options, dtype):
    assert_same_trajectory(optim.Adagrad, torch.optim.Adagrad, options, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adagrad_param_groups_match_torch(dtype):
    assert_same_trajectory(optim.Adagrad, torch.optim.Adagrad,
                           dict(lr=0.1, initial_accumulator_value=0.2), dtype, groups=two_groups)


def test_adagrad_state_exists_from_construction_like_pytorch():
    p = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state[p]["step"] == 0
    np.testing.assert_array_equal(opt.state[p]["sum"], np.full((2, 3), 0.25, np.float32))
    assert opt.state[p]["sum"].dtype == np.float32


def test_adagrad_defaults_are_pytorchs():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert optim.Adagrad([p]).defaults == dict(lr=1e-2, lr_decay=0, eps=1e-10, weight_decay=0,
                                               initial_accumulator_value=0, maximize=False)


@pytest.mark.parametrize("options, message", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value"),
    (dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (dict(eps=-1e-10), "Invalid epsilon value"),
])
def test_adagrad_validation(options, message):
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match=message):
        optim.Adagrad([p], **options)
