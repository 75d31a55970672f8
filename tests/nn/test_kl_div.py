"""F.kl_div and nn.KLDivLoss: PyTorch's semantics for every reduction and log_target."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, assert_matches_torch, random

pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides")


def _log_probs(seed, shape=(4, 5)):
    x = random(*shape, seed=seed)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
def test_kl_div_matches_torch(reduction, log_target):
    x = _log_probs(1)
    t = _log_probs(2) if log_target else np.exp(_log_probs(2)).astype(np.float32)
    assert_matches_torch(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
        x.astype(np.float32), t.astype(np.float32))


def test_zero_targets_contribute_nothing():
    x = _log_probs(3).astype(np.float32)
    t = np.zeros_like(x)
    t[:, 0] = 1.0
    assert_matches_torch(lambda a, b: F.kl_div(a, b, reduction="sum"),
                         lambda a, b: torch.nn.functional.kl_div(a, b, reduction="sum"),
                         x, t, grad=False)
    ours = F.kl_div(lw.tensor(x, requires_grad=True), lw.tensor(t), reduction="sum")
    assert np.isclose(ours.item(), -x[:, 0].sum(), rtol=1e-5)


def test_batchmean_is_the_kl_divergence_per_sample():
    p = np.exp(_log_probs(4, (3, 6)))
    q = np.exp(_log_probs(5, (3, 6)))
    expected = np.mean(np.sum(p * np.log(p / q), axis=1))
    loss = nn.KLDivLoss(reduction="batchmean")(lw.tensor(np.log(q)), lw.tensor(p))
    assert np.isclose(loss.item(), expected)


def test_gradcheck_both_inputs():
    x = _log_probs(6, (3, 4))
    t = np.exp(_log_probs(7, (3, 4)))
    assert_gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), x, t)
    assert_gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), x,
                     _log_probs(8, (3, 4)))


def test_bad_reduction_is_refused():
    with pytest.raises(ValueError, match="batchmean"):
        F.kl_div(lw.zeros(2, 2), lw.zeros(2, 2), reduction="avg")
