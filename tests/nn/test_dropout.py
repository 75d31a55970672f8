"""Dropout: inverted scaling, masks from the global generator, channels, train/eval modes."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, random


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest():
    lw.manual_seed(0)
    x = lw.ones(200, 500)
    y = F.dropout(x, p=0.3).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.01                   # the expectation is unchanged
    assert y.dtype == np.float32


def test_dropout_gradient_uses_the_same_mask():
    lw.manual_seed(1)
    x = lw.tensor(random(6, 7), requires_grad=True)
    y = F.dropout(x, p=0.5)
    y.backward(lw.ones(6, 7))
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)
    np.testing.assert_allclose(y.detach().numpy(), x.data * mask * 2.0, rtol=1e-6)


def test_dropout_gradcheck_with_a_fixed_mask():
    def fixed_mask_dropout(x):
        lw.manual_seed(3)                              # the same mask at every evaluation
        return F.dropout(x, p=0.4)
    assert_gradcheck(fixed_mask_dropout, random(3, 4))
    assert_gradcheck(lambda x: (lw.manual_seed(4), F.dropout2d(x, p=0.5))[1], random(2, 3, 2, 2))
    assert_gradcheck(lambda x: (lw.manual_seed(5), F.alpha_dropout(x, 0.3, True))[1],
                     random(3, 4))


def test_dropout_is_reproducible_from_the_seed():
    x = lw.ones(4, 5)
    lw.manual_seed(7)
    first = F.dropout(x).numpy()
    lw.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)


def test_dropout_edge_probabilities_and_eval_mode():
    x = lw.tensor(random(3, 4))
    assert F.dropout(x, p=0.0) is x
    assert F.dropout(x, p=0.9, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, p=1.0).numpy(), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                         "but got 1.5"):
        F.dropout(x, p=1.5)
    with pytest.raises(ValueError, match="Dropout: dropout probability"):
        nn.Dropout(-0.1)


def test_dropout2d_drops_whole_channels():
    lw.manual_seed(2)
    y = F.dropout2d(lw.ones(50, 20, 3, 3), p=0.25).numpy()
    per_channel = y.reshape(50, 20, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel != 0).all(axis=2))
    dropped = (per_channel == 0).all(axis=2).mean()
    assert abs(dropped - 0.25) < 0.04
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    unbatched = F.dropout2d(lw.ones(30, 2, 2), p=0.5).numpy().reshape(30, 4)
    assert np.all((unbatched == 0).all(axis=1) | (unbatched != 0).all(axis=1))
    line = F.dropout1d(lw.ones(8, 30, 5), p=0.5).numpy()
    assert np.all((line == 0).all(axis=2) | (line != 0).all(axis=2))
    with pytest.raises(RuntimeError, match=r"dropout2d: expected a 4-D input .* got shape "
                                           r"\(2, 3\)"):
        F.dropout2d(lw.ones(2, 3))


def test_alpha_dropout_keeps_mean_and_variance():
    lw.manual_seed(0)
    x = lw.tensor(random(400, 500, seed=9))
    y = F.alpha_dropout(x, p=0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x                # training=False by default, as PyTorch


def test_dropout_modules_follow_train_and_eval():
    for layer, reference, shape in [(nn.Dropout(0.5), torch.nn.Dropout(0.5), (4, 3)),
                                    (nn.Dropout1d(0.5), torch.nn.Dropout1d(0.5), (4, 3, 5)),
                                    (nn.Dropout2d(0.5), torch.nn.Dropout2d(0.5), (4, 3, 2, 2)),
                                    (nn.AlphaDropout(0.5), torch.nn.AlphaDropout(0.5), (4, 3))]:
        x = lw.tensor(random(*shape))
        assert layer.training
        lw.manual_seed(0)
        assert (layer(x).numpy() != x.data).any()
        layer.eval()
        assert layer(x) is x
        assert list(layer.state_dict()) == list(reference.state_dict()) == []
        assert repr(layer) == repr(reference)
