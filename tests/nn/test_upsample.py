"""F.interpolate and nn.Upsample: PyTorch's index and weight conventions, gradients, errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, assert_matches_torch, random

CASES = [
    dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=3, mode="nearest"),
    dict(size=(7, 5), mode="nearest"),
    dict(size=(3, 4), mode="nearest"),            # downsampling
    dict(scale_factor=1.7, mode="nearest"),
    dict(scale_factor=(2, 1.5), mode="nearest"),
    dict(size=(9, 11), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=2, mode="bilinear", align_corners=True),
    dict(size=(7, 13), mode="bilinear"),
    dict(size=(7, 13), mode="bilinear", align_corners=True),
    dict(size=(3, 2), mode="bilinear"),           # downsampling
    dict(size=(1, 1), mode="bilinear", align_corners=True),
    dict(scale_factor=1.3, mode="bilinear"),
    dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
    dict(scale_factor=(2.5, 0.7), mode="bilinear", align_corners=False),
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_interpolate_matches_torch(kwargs):
    x = random(2, 3, 5, 6, seed=1)
    assert_matches_torch(lambda t: F.interpolate(t, **kwargs),
                         lambda t: torch.nn.functional.interpolate(t, **kwargs), x)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2, mode="nearest"),
                                    dict(size=(7, 9), mode="bilinear"),
                                    dict(size=(7, 9), mode="bilinear", align_corners=True)])
def test_interpolate_gradcheck(kwargs):
    assert_gradcheck(lambda t: F.interpolate(t, **kwargs), random(1, 2, 4, 5, seed=2,
                                                                  dtype=np.float64))


def test_upsample_layers_match_torch():
    x = random(1, 2, 4, 4, seed=3)
    for lw_layer, torch_layer in (
            (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
            (nn.Upsample(size=(6, 10), mode="bilinear"),
             torch.nn.Upsample(size=(6, 10), mode="bilinear")),
            (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
            (nn.UpsamplingNearest2d(size=5), torch.nn.UpsamplingNearest2d(size=5))):
        assert_matches_torch(lw_layer, torch_layer, x)
    assert nn.Upsample(scale_factor=2).state_dict() == {}


def test_nearest_upsampling_by_two_repeats_pixels():
    x = lw.tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0],
                                  [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])


def test_clear_errors():
    x = lw.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="Upsample: only 4-D"):
        nn.Upsample(scale_factor=2)(lw.zeros(1, 4, 4))
