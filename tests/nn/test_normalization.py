"""Batch and layer normalization: parity with PyTorch (train and eval), gradients, errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import (assert_close, assert_gradcheck, assert_matches_torch,
                           assert_module_matches_torch, random)

TF = torch.nn.functional
SHAPES = [(2, 3), (5, 3), (1, 3, 4), (4, 3, 5), (2, 3, 4, 4), (1, 3, 2, 3)]


def running_stats(channels, seed=10):
    return random(channels, seed=seed), random(channels, seed=seed + 1, low=0.5, high=2)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch_and_updates_running_stats(shape, affine):
    mean, var = running_stats(shape[1])
    ours_stats = [lw.tensor(mean), lw.tensor(var)]
    torch_stats = [torch.tensor(mean), torch.tensor(var)]
    arrays = [random(*shape, seed=1) * 2 + 1]
    if affine:
        arrays += [random(3, seed=2), random(3, seed=3)]
    assert_matches_torch(
        lambda x, *wb: F.batch_norm(x, *ours_stats, *wb, training=True, momentum=0.3),
        lambda x, *wb: TF.batch_norm(x, *torch_stats, *wb, training=True, momentum=0.3),
        *arrays)
    for ours, theirs in zip(ours_stats, torch_stats):
        assert_close(ours, theirs, what="running statistic")


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_eval_matches_torch(shape):
    mean, var = running_stats(shape[1])
    assert_matches_torch(
        lambda x, w, b: F.batch_norm(x, lw.tensor(mean), lw.tensor(var), w, b, eps=1e-3),
        lambda x, w, b: TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b, eps=1e-3),
        random(*shape, seed=1), random(3, seed=2), random(3, seed=3))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    mean, var = running_stats(3)
    stats = [lw.tensor(mean.astype(np.float64)), lw.tensor(var.astype(np.float64))]
    for shape in [(4, 3), (2, 3, 2, 2)]:
        assert_gradcheck(lambda x, w, b: F.batch_norm(x, *stats, w, b, training=training,
                                                      momentum=0.0),
                         random(*shape, seed=1), random(3, seed=2), random(3, seed=3))
        assert_gradcheck(lambda x: F.batch_norm(x, None, None, training=True),
                         random(*shape, seed=4))


def _train_both(ours, theirs, shape, steps=3, seed=0):
    """Run both modules on the same batches; compare outputs, gradients and state each step."""
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    for step in range(steps):
        x = random(*shape, seed=seed + step) * (step + 1) + step
        g = random(*shape, seed=seed + 100 + step)
        x_ours, x_theirs = lw.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        assert_close(y_ours, y_theirs, what=f"output at step {step}")
        ours.zero_grad()
        theirs.zero_grad()
        y_ours.backward(lw.tensor(g))
        y_theirs.backward(torch.from_numpy(g))
        assert_close(x_ours.grad, x_theirs.grad, what=f"input grad at step {step}")
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert_close(p.grad, q.grad, what=f"grad of {name} at step {step}")
        for name, buf in theirs.state_dict().items():
            assert_close(ours.state_dict()[name], buf, what=f"{name} at step {step}")
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("layer,shape", [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (3, 4, 5)),
                                         ("BatchNorm2d", (4, 4, 3, 3)),
                                         ("BatchNorm2d", (1, 4, 2, 2))])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}, {"bias": False},
                                     {"momentum": 0.5, "eps": 1e-3}])
def test_batch_norm_module_train_then_eval_matches_torch(layer, shape, options):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, layer)(4, **options)
    ours = getattr(nn, layer)(4, **options)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p))
    _train_both(ours, theirs, shape, steps=3)
    if options.get("track_running_stats", True):
        assert ours.num_batches_tracked.item() == 3
        assert ours.num_batches_tracked.dtype == np.int64 and ours.num_batches_tracked.ndim == 0
    ours.eval(), theirs.eval()
    if options.get("track_running_stats", True):     # one sample works with running stats
        shape = (1,) + shape[1:]
    _train_both(ours, theirs, shape, steps=2, seed=50)


def test_batch_norm_module_float64_and_state_dict():
    layer = nn.BatchNorm2d(3, dtype=np.float64)
    assert layer.running_mean.dtype == np.float64
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    assert_module_matches_torch(layer, torch.nn.BatchNorm2d(3).double(),
                                random(2, 3, 2, 2, dtype=np.float64))
    assert repr(nn.BatchNorm1d(5, momentum=None)) == repr(torch.nn.BatchNorm1d(5, momentum=None))
    layer.reset_running_stats()
    assert layer.num_batches_tracked.item() == 0 and layer.running_var.data.sum() == 3


def test_batch_norm_normalizes_each_channel():
    x = lw.tensor(random(16, 3, 4, 4) * 5 + 2)
    y = nn.BatchNorm2d(3)(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batch_norm_bad_input():
    with pytest.raises(RuntimeError, match=r"BatchNorm2d: expected input with 16 channels "
                                           r"\(num_features\), got shape \(8, 3, 5, 5\)"):
        nn.BatchNorm2d(16)(lw.zeros(8, 3, 5, 5))
    with pytest.raises(RuntimeError, match=r"BatchNorm2d: expected 4-D input \(N, C, H, W\), "
                                           r"got 3-D input of shape \(3, 5, 5\)"):
        nn.BatchNorm2d(3)(lw.zeros(3, 5, 5))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d: expected 2-D or 3-D input"):
        nn.BatchNorm1d(3)(lw.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(lw.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(lw.zeros(1, 3))                       # fine in eval mode
    with pytest.raises(RuntimeError, match="input dtype float64 does not match"):
        nn.BatchNorm1d(3)(lw.tensor(np.zeros((2, 3))))
    with pytest.raises(RuntimeError, match=r"batch_norm: weight must have shape \(3,\)"):
        F.batch_norm(lw.zeros(2, 3), None, None, lw.ones(4), training=True)
    with pytest.raises(RuntimeError, match="running_mean and running_var are needed"):
        F.batch_norm(lw.zeros(2, 3), None, None)


@pytest.mark.parametrize("x_shape,normalized", [((4, 6), (6,)), ((1, 6), 6), ((2, 3, 4), (4,)),
                                                ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(x_shape, normalized, affine):
    shape = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [random(*x_shape, seed=1) * 3 + 1]
    if affine != "none":
        arrays.append(random(*shape, seed=2))
    if affine == "both":
        arrays.append(random(*shape, seed=3))
    assert_matches_torch(lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-4),
                         lambda x, *wb: TF.layer_norm(x, shape, *wb, eps=1e-4), *arrays)


def test_layer_norm_gradcheck():
    assert_gradcheck(lambda x, w, b: F.layer_norm(x, (3, 2), w, b), random(2, 3, 2),
                     random(3, 2, seed=1), random(3, 2, seed=2))
    assert_gradcheck(lambda x: F.layer_norm(x, 4), random(3, 4))


@pytest.mark.parametrize("options", [{}, {"elementwise_affine": False}, {"bias": False}])
def test_layer_norm_module_matches_torch(options):
    torch.manual_seed(0)
    theirs = torch.nn.LayerNorm((3, 4), **options)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p))
    assert_module_matches_torch(nn.LayerNorm((3, 4), **options), theirs, random(2, 3, 4))
    assert_module_matches_torch(nn.LayerNorm(4, **options), torch.nn.LayerNorm(4, **options),
                                random(1, 4))


def test_layer_norm_bad_input():
    with pytest.raises(RuntimeError, match=r"layer_norm: expected input with trailing "
                                           r"dimensions \(8,\) \(normalized_shape\), got "
                                           r"shape \(4, 7\)"):
        nn.LayerNorm(8)(lw.zeros(4, 7))
    with pytest.raises(RuntimeError, match="input dtype float64 does not match weight"):
        nn.LayerNorm(3)(lw.tensor(np.zeros((2, 3))))
