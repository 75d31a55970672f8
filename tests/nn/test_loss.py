"""Losses: parity with PyTorch for every reduction and option, gradchecks, stability, errors."""
import warnings

import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import (assert_gradcheck, assert_matches_torch, assert_module_matches_torch,
                           random, rng)

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def probabilities(*shape, seed=0, dtype=np.float32):
    return random(*shape, seed=seed, low=0.02, high=0.98, dtype=dtype)


def labels(shape, classes, seed=0):
    return rng(seed).integers(0, classes, size=shape).astype(np.int64)


def torch_weight(array):
    return None if array is None else torch.from_numpy(array)


# ------------------------------------------------------------------ regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (1, 3), (4, 3), (2, 3, 2)])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_match_torch(name, shape, reduction):
    assert_matches_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction),
                         lambda x, t: getattr(TF, name)(x, t, reduction=reduction),
                         random(*shape, seed=1), random(*shape, seed=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_weighted_regression_losses_match_torch(name, reduction):
    w = random(4, 3, seed=3, low=0.1, high=2.0)
    assert_matches_torch(
        lambda x, t: getattr(F, name)(x, t, reduction=reduction, weight=lw.tensor(w)),
        lambda x, t: getattr(TF, name)(x, t, reduction=reduction, weight=torch.from_numpy(w)),
        random(4, 3, seed=1), random(4, 3, seed=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_gradcheck(name, reduction):
    fn = getattr(F, name)
    assert_gradcheck(lambda x, t: fn(x, t, reduction=reduction), random(3, 2, seed=1),
                     random(3, 2, seed=2))
    assert_gradcheck(lambda x, t: fn(x, t, reduction=reduction, weight=lw.tensor(
        random(3, 2, seed=4, low=0.5, high=1.5, dtype=np.float64))),
        random(3, 2, seed=1), random(3, 2, seed=2))


def test_mse_loss_value_and_float64_target_does_not_promote():
    x = lw.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    loss = F.mse_loss(x, lw.tensor(np.array([[1.0, 0.0], [3.0, 4.0]])))   # float64 target
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(5 / 4)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1], [0, 0.5]])


def test_mse_loss_refuses_mismatched_shapes():
    with pytest.raises(RuntimeError, match=r"mse_loss: input shape \(4, 1\) and target shape "
                                           r"\(4,\) differ"):
        F.mse_loss(lw.zeros(4, 1), lw.zeros(4))
    with pytest.raises(ValueError, match="mse_loss: weight shape"):
        F.mse_loss(lw.zeros(4), lw.zeros(4), weight=lw.ones(3))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.l1_loss(lw.zeros(4), lw.zeros(4), reduction="average")


# ---------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weight_shape", [((1,), None), ((5,), (5,)), ((4, 3), (3,)),
                                                 ((2, 3, 2), (3, 1)), ((4, 3), None)])
def test_binary_cross_entropy_matches_torch(shape, weight_shape, reduction):
    w = None if weight_shape is None else random(*weight_shape, seed=5, low=0.1, high=2)
    assert_matches_torch(
        lambda x, t: F.binary_cross_entropy(x, t, None if w is None else lw.tensor(w),
                                            reduction=reduction),
        lambda x, t: TF.binary_cross_entropy(x, t, torch_weight(w), reduction=reduction),
        probabilities(*shape, seed=1), probabilities(*shape, seed=2))


def test_binary_cross_entropy_gradcheck():
    w = random(3, seed=5, low=0.1, high=2, dtype=np.float64)
    assert_gradcheck(lambda x, t: F.binary_cross_entropy(x, t, lw.tensor(w)),
                     probabilities(2, 3, seed=1), probabilities(2, 3, seed=2))
    assert_gradcheck(lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
                     probabilities(4, seed=1), probabilities(4, seed=2))


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=np.float32)
    ours = lw.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(ours, lw.tensor(t), reduction="none")
        loss.sum().backward()
    expected = TF.binary_cross_entropy(theirs, torch.from_numpy(t), reduction="none")
    expected.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy())
    np.testing.assert_allclose(loss.detach().numpy()[:2], [100, 100])
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())   # ±1e12, finite
    # the gradient for the target uses the same clamped logs: finite where PyTorch's is ±inf
    target = lw.tensor(t, requires_grad=True)
    F.binary_cross_entropy(lw.tensor(x), target, reduction="sum").backward()
    np.testing.assert_allclose(target.grad.numpy(), [100, -100, 100, -100, 0], atol=1e-5)


def test_binary_cross_entropy_rejects_values_outside_unit_interval():
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: input values must be "
                                           r"probabilities in \[0, 1\], got values in "
                                           r"\[-0.5, 1.2\]"):
        F.binary_cross_entropy(lw.tensor([-0.5, 1.2]), lw.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="target values must lie in"):
        F.binary_cross_entropy(lw.tensor([0.5, 0.2]), lw.tensor([0.0, 2.0]))
    with pytest.raises(RuntimeError, match="binary_cross_entropy: input shape"):
        F.binary_cross_entropy(lw.tensor([0.5, 0.2]), lw.tensor([0.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("shape", [(1, 3), (4, 3), (2, 2, 3)])
def test_bce_with_logits_matches_torch(shape, weighted, pos_weighted, reduction):
    w = random(*shape[1:], seed=5, low=0.1, high=2) if weighted else None
    pw = random(3, seed=6, low=0.5, high=3) if pos_weighted else None
    assert_matches_torch(
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, None if w is None else lw.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else lw.tensor(pw)),
        lambda x, t: TF.binary_cross_entropy_with_logits(
            x, t, torch_weight(w), reduction=reduction, pos_weight=torch_weight(pw)),
        random(*shape, seed=1) * 3, probabilities(*shape, seed=2))


def test_bce_with_logits_gradcheck():
    pw = lw.tensor(random(3, seed=6, low=0.5, high=3, dtype=np.float64))
    w = lw.tensor(random(3, seed=7, low=0.5, high=3, dtype=np.float64))
    for kwargs in ({}, {"pos_weight": pw}, {"weight": w, "reduction": "sum"}):
        assert_gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, **kwargs),
                         random(2, 3, seed=1) * 2, probabilities(2, 3, seed=2))


# ------------------------------------------------------------- multi-class (NLL, CE)
def ignore_some(target, value=-100):
    target = target.copy()
    target.flat[::3] = value
    return target


CLASS_CASES = [  # input shape, target shape
    ((5,), ()), ((1, 4), (1,)), ((6, 4), (6,)), ((3, 4, 2), (3, 2)), ((2, 3, 2, 2), (2, 2, 2))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("shapes", CLASS_CASES)
def test_nll_loss_matches_torch(shapes, ignore, weighted, reduction):
    (x_shape, t_shape), classes = shapes, shapes[0][0 if len(shapes[0]) == 1 else 1]
    target = labels(t_shape, classes, seed=3)
    if ignore and target.ndim:
        target = ignore_some(target, value=1)
    w = random(classes, seed=4, low=0.2, high=2) if weighted else None
    kwargs = dict(ignore_index=1 if ignore else -100, reduction=reduction)
    assert_matches_torch(
        lambda x, t: F.nll_loss(x, t, None if w is None else lw.tensor(w), **kwargs),
        lambda x, t: TF.nll_loss(x, t, torch_weight(w), **kwargs),
        random(*x_shape, seed=1), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shapes", CLASS_CASES)
def test_cross_entropy_with_class_indices_matches_torch(shapes, smoothing, ignore, weighted,
                                                        reduction):
    (x_shape, t_shape), classes = shapes, shapes[0][0 if len(shapes[0]) == 1 else 1]
    target = labels(t_shape, classes, seed=3)
    if ignore and target.ndim:
        target = ignore_some(target)
    w = random(classes, seed=4, low=0.2, high=2) if weighted else None
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    assert_matches_torch(
        lambda x, t: F.cross_entropy(x, t, None if w is None else lw.tensor(w), **kwargs),
        lambda x, t: TF.cross_entropy(x, t, torch_weight(w), **kwargs),
        random(*x_shape, seed=1) * 2, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("x_shape", [(4,), (1, 4), (3, 4), (2, 4, 3)])
def test_cross_entropy_with_probabilities_matches_torch(x_shape, smoothing, weighted,
                                                        reduction):
    axis = 0 if len(x_shape) == 1 else 1
    target = random(*x_shape, seed=2, low=0, high=1)
    target /= target.sum(axis=axis, keepdims=True)
    w = random(4, seed=4, low=0.2, high=2) if weighted else None
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    assert_matches_torch(
        lambda x, t: F.cross_entropy(x, t, None if w is None else lw.tensor(w), **kwargs),
        lambda x, t: TF.cross_entropy(x, t, torch_weight(w), **kwargs),
        random(*x_shape, seed=1) * 2, target)


@pytest.mark.parametrize("spread", [1.0, 100.0])
def test_cross_entropy_on_a_large_batch_matches_torch(spread):
    x = random(600, 10, seed=1) * spread                       # takes the large-array paths
    target = labels((600,), 10, seed=2)
    assert_matches_torch(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1),
                         lambda a, b: TF.cross_entropy(a, b, label_smoothing=0.1), x, target)
    probs = random(600, 10, seed=3, low=0, high=1)
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, x, probs / probs.sum(1, keepdims=True))


def test_cross_entropy_and_nll_gradcheck():
    x = random(4, 3, 2, seed=1)
    t = ignore_some(labels((4, 2), 3, seed=2))
    w = lw.tensor(random(3, seed=3, low=0.2, high=2, dtype=np.float64))
    for kwargs in ({}, {"weight": w, "label_smoothing": 0.1}, {"reduction": "none"},
                   {"weight": w, "reduction": "sum", "label_smoothing": 0.3}):
        assert_gradcheck(lambda a, b: F.cross_entropy(a, b, **kwargs), x, t)
        if "label_smoothing" not in kwargs:
            assert_gradcheck(lambda a, b: F.nll_loss(a, b, **kwargs), x, t)
    probs = random(4, 3, seed=5, low=0.1, high=1)
    assert_gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.2),
                     random(4, 3, seed=1), probs)


def test_cross_entropy_is_one_fused_op_with_softmax_minus_onehot_gradient():
    x = lw.tensor(random(3, 4), requires_grad=True)
    target = lw.tensor(np.array([2, 0, 3]))
    loss = F.cross_entropy(x, target)
    assert type(loss.grad_fn).__name__ == "SoftmaxCrossEntropy"
    assert all(t is None or t.grad_fn is None for t in loss.grad_fn.inputs)
    loss.backward()
    expected = F.softmax(lw.tensor(x.data), dim=1).numpy() - np.eye(4)[[2, 0, 3]]
    np.testing.assert_allclose(x.grad.numpy(), expected / 3, rtol=1e-5, atol=1e-7)


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    x = lw.tensor(random(2, 3), requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.cross_entropy(x, lw.tensor(np.array([-100, -100])))
        loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_class_losses_keep_float32():
    x = lw.tensor(random(3, 4), requires_grad=True)
    t = lw.tensor(np.array([0, 1, 3]))
    w = lw.tensor(np.ones(4))                                           # float64 weights
    for loss in (F.cross_entropy(x, t, w, label_smoothing=0.1), F.nll_loss(x, t, w),
                 F.cross_entropy(x, lw.tensor(np.full((3, 4), 0.25)))):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


# ------------------------------------------------------------------------ stability
EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0],
                    [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]], dtype=np.float32)


@pytest.mark.parametrize("case", ["cross_entropy", "cross_entropy_smoothed",
                                  "cross_entropy_probabilities", "bce_with_logits",
                                  "bce_with_logits_pos_weight", "nll_of_log_softmax"])
def test_losses_on_extreme_logits_are_finite_correct_and_silent(case):
    target = np.array([1, 0, 2, 0])
    soft = np.full((4, 3), 1 / 3, dtype=np.float32)
    binary = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], dtype=np.float32)
    pw = np.array([2.0, 0.5, 1.0], dtype=np.float32)
    cases = {
        "cross_entropy": (F.cross_entropy, TF.cross_entropy, target),
        "cross_entropy_smoothed": (lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
                                   lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1),
                                   target),
        "cross_entropy_probabilities": (F.cross_entropy, TF.cross_entropy, soft),
        "bce_with_logits": (F.binary_cross_entropy_with_logits,
                            TF.binary_cross_entropy_with_logits, binary),
        "bce_with_logits_pos_weight": (
            lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=lw.tensor(pw)),
            lambda x, t: TF.binary_cross_entropy_with_logits(x, t,
                                                             pos_weight=torch.from_numpy(pw)),
            binary),
        "nll_of_log_softmax": (lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
                               lambda x, t: TF.nll_loss(TF.log_softmax(x, 1), t), target),
    }
    ours, theirs, t = cases[case]
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        x = lw.tensor(EXTREME, requires_grad=True)
        loss = ours(x, lw.tensor(t))
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert_matches_torch(ours, theirs, EXTREME, t)


# --------------------------------------------------------------------------- errors
def test_cross_entropy_label_out_of_range():
    x = lw.zeros(3, 10)
    with pytest.raises(IndexError, match="cross_entropy: target 10 is out of bounds for 10 "
                                         "classes"):
        F.cross_entropy(x, lw.tensor(np.array([1, 10, 2])))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(x, lw.tensor(np.array([1, -1, 2])))
    with pytest.raises(IndexError, match="nll_loss: target 12 is out of bounds"):
        F.nll_loss(x, lw.tensor(np.array([12, 0, 0])))
    F.cross_entropy(x, lw.tensor(np.array([1, 5, 2])), ignore_index=5)   # ignored: fine


def test_cross_entropy_float_target_of_wrong_shape():
    with pytest.raises(RuntimeError, match=r"cross_entropy: target of dtype float32 and shape "
                                           r"\(4,\) fits neither form: class indices must be "
                                           r"an integer tensor of shape \(4,\), class "
                                           r"probabilities a float tensor of the input's "
                                           r"shape \(4, 10\)"):
        F.cross_entropy(lw.zeros(4, 10), lw.tensor([1.0, 2.0, 3.0, 4.0]))


def test_cross_entropy_bad_shapes_and_weights():
    with pytest.raises(RuntimeError, match=r"expected target of shape \(4,\) for input of "
                                           r"shape \(4, 10\), got \(5,\)"):
        F.cross_entropy(lw.zeros(4, 10), lw.tensor(np.zeros(5, dtype=np.int64)))
    with pytest.raises(RuntimeError, match=r"weight must have shape \(10,\)"):
        F.cross_entropy(lw.zeros(4, 10), lw.tensor(np.zeros(4, dtype=np.int64)),
                        weight=lw.ones(9))
    with pytest.raises(RuntimeError, match="input must have a class dimension"):
        F.cross_entropy(lw.tensor(1.0), lw.tensor(np.array(0)))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(lw.zeros(4, 10), lw.tensor(np.zeros(4, dtype=np.int64)),
                        label_smoothing=1.5)
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy_with_logits(lw.zeros(4, 1), lw.zeros(4))


# -------------------------------------------------------------------------- modules
def test_loss_modules_match_torch():
    w = random(4, seed=4, low=0.2, high=2)
    x, x_prob, t_class, t_float = (random(5, 4, seed=1), probabilities(5, 4, seed=2),
                                   labels((5,), 4, seed=3), probabilities(5, 4, seed=5))
    cases = [
        (nn.MSELoss(), torch.nn.MSELoss(), x, t_float),
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), x, t_float),
        (nn.BCELoss(weight=lw.tensor(w)), torch.nn.BCELoss(weight=torch.from_numpy(w)),
         x_prob, t_float),
        (nn.BCEWithLogitsLoss(pos_weight=lw.tensor(w)),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(w)), x, t_float),
        (nn.NLLLoss(weight=lw.tensor(w), ignore_index=2),
         torch.nn.NLLLoss(weight=torch.from_numpy(w), ignore_index=2), x, t_class),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, t_class),
        (nn.CrossEntropyLoss(weight=lw.tensor(w), label_smoothing=0.1, reduction="none"),
         torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w), label_smoothing=0.1,
                                   reduction="none"), x, t_class),
    ]
    for ours, theirs, *arrays in cases:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert_module_matches_torch(ours, theirs, *arrays)


def test_loss_module_arguments_are_checked():
    with pytest.raises(ValueError, match="CrossEntropyLoss: 'avg' is not a valid value"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="size_average and reduce are deprecated"):
        nn.MSELoss(size_average=False)
