import json
import warnings

import numpy as np
import pytest
import torch

from layerwise import nn, optim
from layerwise.optim import lr_scheduler

EPOCHS = 30


def optimizers(optimizer="SGD", **options):
    """A layerwise and a torch optimizer with two param groups (lrs 0.1 and 0.02)."""
    pairs = []
    for framework, parameter in (("lw", nn.Parameter(np.zeros(2))),
                                 ("torch", torch.nn.Parameter(torch.zeros(2)))):
        extra = nn.Parameter(np.zeros(1)) if framework == "lw" else torch.nn.Parameter(
            torch.zeros(1))
        module = optim if framework == "lw" else torch.optim
        groups = [{"params": [parameter]}, {"params": [extra], "lr": 0.02}]
        pairs.append(getattr(module, optimizer)(groups, lr=0.1, **options))
    return pairs


def lr_sequences(name, *args, metrics=None, epochs=EPOCHS, chain=None, **kwargs):
    """(layerwise, torch) lists of per-epoch lrs: get_last_lr() and the groups' lr."""
    sequences = []
    for opt, module in zip(optimizers(), (lr_scheduler, torch.optim.lr_scheduler)):
        schedulers = [getattr(module, name)(opt, *args, **kwargs)]
        if chain is not None:
            schedulers.append(getattr(module, chain[0])(opt, **chain[1]))
        history = [list(schedulers[0].get_last_lr())]
        for epoch in range(epochs):
            opt.step()
            for scheduler in schedulers:
                scheduler.step(*([] if metrics is None else [metrics[epoch]]))
            history.append(list(schedulers[-1].get_last_lr()))
            assert history[-1] == [g["lr"] for g in opt.param_groups]
        sequences.append(history)
    return sequences


SCHEDULERS = [
    ("StepLR", (), dict(step_size=7)),
    ("StepLR", (), dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", (), dict(milestones=[5, 12, 12, 20], gamma=0.3)),
    ("ExponentialLR", (), dict(gamma=0.9)),
    ("CosineAnnealingLR", (), dict(T_max=10)),
    ("CosineAnnealingLR", (), dict(T_max=8, eta_min=0.001)),
    ("LinearLR", (), dict()),
    ("LinearLR", (), dict(start_factor=0.1, end_factor=0.6, total_iters=12)),
]


@pytest.mark.parametrize("name, args, kwargs", SCHEDULERS, ids=lambda v: str(v))
def test_lr_sequence_matches_torch(name, args, kwargs):
    ours, theirs = lr_sequences(name, *args, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


def test_lambda_lr_matches_torch_with_one_function_per_group():
    ours, theirs = lr_sequences("LambdaLR", [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)


def test_chained_schedulers_match_torch():
    ours, theirs = lr_sequences("StepLR", step_size=5, gamma=0.5,
                                chain=("CosineAnnealingLR", dict(T_max=12, eta_min=1e-3)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_cosine_annealing_follows_the_closed_form_over_one_period():
    ours, _ = lr_sequences("CosineAnnealingLR", T_max=10, eta_min=0.001, epochs=10)
    epochs = np.arange(11)
    expected = 0.001 + (0.1 - 0.001) * (1 + np.cos(np.pi * epochs / 10)) / 2
    np.testing.assert_allclose([lrs[0] for lrs in ours], expected, rtol=1e-12)


PLATEAU_METRICS = ([1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7]
                   + [0.7 - 0.001 * i for i in range(17)])


@pytest.mark.parametrize("kwargs", [
    dict(patience=2),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=0, threshold=0.01, threshold_mode="abs", min_lr=[0.01, 0.005]),
    dict(mode="max", patience=1, factor=0.2, min_lr=1e-3),
    dict(mode="max", threshold_mode="abs", patience=3, eps=1e-2),
], ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    ours, theirs = lr_sequences("ReduceLROnPlateau", metrics=PLATEAU_METRICS, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert ours[-1] != ours[0] or kwargs.get("mode") == "max"


def test_step_epoch_argument_uses_the_closed_form_like_torch():
    sequences = []
    for opt, module in zip(optimizers(), (lr_scheduler, torch.optim.lr_scheduler)):
        scheduler = module.MultiStepLR(opt, milestones=[3, 6], gamma=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step(7)
        sequences.append(scheduler.get_last_lr())
    np.testing.assert_allclose(sequences[0], sequences[1], rtol=1e-15)


def test_constructing_records_initial_lr_and_base_lrs():
    opt, _ = optimizers()
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert scheduler.base_lrs == [0.1, 0.02] and scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.1, 0.02]


def test_warns_when_scheduler_steps_before_optimizer():
    opt, _ = optimizers()
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    opt, _ = optimizers()
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


@pytest.mark.parametrize("name, kwargs", [
    ("MultiStepLR", dict(milestones=[4, 8], gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=9, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.2, total_iters=10)),
    ("ReduceLROnPlateau", dict(patience=1)),
])
def test_state_dict_round_trip_through_json_resumes_the_schedule(name, kwargs):
    def advance(opt, scheduler, epochs, start):
        for epoch in range(start, start + epochs):
            opt.step()
            scheduler.step(*([PLATEAU_METRICS[epoch]] if name == "ReduceLROnPlateau" else []))
        return scheduler.get_last_lr()

    opt, _ = optimizers()
    expected = advance(opt, getattr(lr_scheduler, name)(opt, **kwargs), 15, 0)

    opt, _ = optimizers()
    scheduler = getattr(lr_scheduler, name)(opt, **kwargs)
    advance(opt, scheduler, 6, 0)
    saved_optimizer = opt.state_dict()
    saved_scheduler = json.loads(json.dumps(scheduler.state_dict()))

    opt, _ = optimizers()
    scheduler = getattr(lr_scheduler, name)(opt, **kwargs)
    opt.load_state_dict(saved_optimizer)      # after constructing the scheduler, as in torch
    scheduler.load_state_dict(saved_scheduler)
    assert advance(opt, scheduler, 9, 6) == pytest.approx(expected, rel=1e-15)


def test_lambda_lr_state_dict_skips_plain_functions():
    opt, _ = optimizers()
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
    assert scheduler.state_dict()["lr_lambdas"] == [None, None]
    assert "optimizer" not in scheduler.state_dict()


def test_resuming_needs_initial_lr():
    opt, _ = optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=5)


def test_scheduler_errors():
    opt, _ = optimizers()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)


def test_scheduled_lr_drives_the_updates():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = nn.Parameter(np.ones(1)).detach()
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(p.data, [-(1.0 + 0.5 + 0.25)])
