"""Flatten and Unflatten: PyTorch's shapes, gradients passed back unchanged, clear errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn
from tests.helpers import assert_gradcheck, assert_module_matches_torch, random


@pytest.mark.parametrize("shape,start_dim,end_dim", [
    ((1, 3, 4, 4), 1, -1), ((2, 3, 4, 4), 1, -1), ((2, 3, 4, 4), 0, -1), ((2, 3, 4, 4), 1, 2),
    ((2, 3, 4, 4), -2, -1), ((2, 3, 4, 4), 0, 0), ((2, 5), 1, -1), ((2, 5), 0, -1)])
def test_flatten_matches_torch(shape, start_dim, end_dim):
    assert_module_matches_torch(nn.Flatten(start_dim, end_dim),
                                torch.nn.Flatten(start_dim, end_dim), random(*shape))


@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, (1, 28, 28), (2, 784)),
                                             (1, (-1, 2), (1, 6, 5)), (0, (2, 2), (4,))])
def test_unflatten_matches_torch(dim, sizes, shape):
    assert_module_matches_torch(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes),
                                random(*shape))


def test_flatten_then_unflatten_round_trip_and_gradcheck():
    model = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (3, 2, 2)))
    x = random(2, 3, 2, 2)
    np.testing.assert_array_equal(model(lw.tensor(x)).numpy(), x)
    assert_gradcheck(lambda t: nn.Flatten()(t) * 2, x)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())


def test_shape_layer_errors():
    with pytest.raises(RuntimeError, match=r"Unflatten: cannot split dimension 1 of size 6 "
                                           r"\(input shape \(4, 6\)\) into \(4, 2\)"):
        nn.Unflatten(1, (4, 2))(lw.zeros(4, 6))
    with pytest.raises(IndexError, match=r"Flatten: dimension 1 is out of range for an input "
                                         r"of shape \(5,\)"):
        nn.Flatten()(lw.zeros(5))
