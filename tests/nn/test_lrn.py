"""Local response normalization: parity with PyTorch, gradients, the layer, errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random)

TF = torch.nn.functional


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 9])
@pytest.mark.parametrize("shape", [(2, 6, 3, 4), (1, 3, 5), (2, 4, 2, 2, 3)])
def test_local_response_norm_matches_torch(size, shape):
    x = random(*shape, seed=size) * 3
    assert_matches_torch(lambda t: F.local_response_norm(t, size, alpha=0.05, beta=0.75, k=2.0),
                         lambda t: TF.local_response_norm(t, size, alpha=0.05, beta=0.75, k=2.0),
                         x)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_local_response_norm_gradcheck(size):
    assert_gradcheck(lambda t: F.local_response_norm(t, size, alpha=0.3, beta=0.6, k=1.0),
                     random(2, 4, 2, 3, seed=3))


def test_alexnet_constants_match_torch_module():
    layer = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    assert repr(layer) == repr(torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
    assert not list(layer.parameters()) and not layer.state_dict()
    assert_module_matches_torch(layer, torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
                                random(2, 96, 5, 5, seed=1) * 10)


def test_extreme_inputs_stay_finite():
    x = np.array([[[[1e4]], [[-1e4]], [[0.0]]]], np.float32)
    y = F.local_response_norm(lw.tensor(x), 3, alpha=1.0, beta=0.75, k=1.0)
    expected = TF.local_response_norm(torch.tensor(x), 3, alpha=1.0, beta=0.75, k=1.0)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"3D or higher.*\(4, 5\)"):
        F.local_response_norm(lw.zeros(4, 5), 3)
    with pytest.raises(ValueError, match="size must be a positive integer"):
        F.local_response_norm(lw.zeros(1, 4, 5), 0)
