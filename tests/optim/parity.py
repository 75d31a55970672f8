"""Run a layerwise optimizer and its torch.optim twin on the same small problem.

The problem is non-quadratic (a tanh layer plus a quartic term), so adaptive
optimizers see gradients that change shape from step to step. ``loss_of`` takes
either framework's tensors (their methods share names).

Both optimizers receive gradients computed by layerwise at their own current
parameter values, so the comparison isolates the optimizers' arithmetic: float32
rounding differences between the two autograds would otherwise be amplified by
momentum and by adaptive denominators and hide what is tested. Besides the
two trained tensors the parameter list holds one that gets no gradient (``.grad``
stays None) and one that does not require grad: both must stay untouched.
"""
import numpy as np

from layerwise.backend import fast_tanh
import torch

import layerwise as lw
from layerwise import nn
from tests.helpers import random

TOLERANCES = {np.float32: dict(rtol=1e-6, atol=3e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


def initial_arrays(dtype):
    return {"weight": random(3, 4, seed=1, dtype=dtype), "bias": random(3, seed=2, dtype=dtype),
            "unused": random(2, seed=3, dtype=dtype), "frozen": random(2, seed=4, dtype=dtype)}


def data(dtype):
    return random(4, 5, seed=5, dtype=dtype), random(3, 5, seed=6, dtype=dtype)


def loss_of(weight, bias, x, y):
    hidden = (weight @ x + bias.reshape(3, 1)).tanh()
    return ((hidden - y) ** 2).sum() + (bias * bias * bias * bias).sum() * 0.1


def make_params(arrays, parameter_class):
    params = {k: parameter_class(lw_or_torch_array(v, parameter_class)) for k, v in arrays.items()}
    params["frozen"].requires_grad_(False)
    return params


def lw_or_torch_array(array, parameter_class):
    return torch.tensor(array.copy()) if parameter_class is torch.nn.Parameter else array.copy()


def all_in_one_group(params):
    return list(params.values())


def two_groups(params):
    """Different lr per group (transfer learning), the second group overriding more options."""
    return [{"params": [params["weight"], params["unused"]]},
            {"params": [params["bias"], params["frozen"]], "lr": 0.03}]


def run(framework, optimizer_class, options, dtype=np.float32, steps=6, groups=all_in_one_group,
        closure=False):
    """Parameter values after each step (a list of dicts name -> ndarray) in one framework.

    layerwise runs with NumPy's exact tanh (``fast_tanh.exact``): the trajectories test
    the optimizers to 1e-6, tighter than the rational tanh's 4e-7 per call allows.
    """
    with fast_tanh.exact():
        return _run(framework, optimizer_class, options, dtype, steps, groups, closure)


def _run(framework, optimizer_class, options, dtype, steps, groups, closure):
    parameter_class = nn.Parameter if framework == "lw" else torch.nn.Parameter
    params = make_params(initial_arrays(dtype), parameter_class)
    optimizer = optimizer_class(groups(params), **options)
    x, y = (lw.tensor(a) for a in data(dtype))

    def compute_loss():
        optimizer.zero_grad()
        if framework == "lw":
            loss = loss_of(params["weight"], params["bias"], x, y)
            loss.backward()
            return loss
        return torch_loss_with_layerwise_gradients(params, x, y)

    history = []
    for _ in range(steps):
        if closure:
            optimizer.step(compute_loss)
        else:
            compute_loss()
            optimizer.step()
        history.append({k: np.array(p.detach().numpy()) for k, p in params.items()})
    return history


def torch_loss_with_layerwise_gradients(params, x, y):
    """Give torch's parameters the gradients layerwise computes at their current values."""
    copies = {k: lw.tensor(params[k].detach().numpy().copy(), requires_grad=True)
              for k in ("weight", "bias")}
    loss = loss_of(copies["weight"], copies["bias"], x, y)
    loss.backward()
    for name, copy in copies.items():
        params[name].grad = torch.from_numpy(copy.grad.data.copy())
    return torch.tensor(loss.item())


def trajectories(lw_optimizer_class, torch_optimizer_class, options, dtype=np.float32, **kwargs):
    """The runs of the layerwise optimizer and of its torch.optim twin."""
    return (run("lw", lw_optimizer_class, options, dtype, **kwargs),
            run("torch", torch_optimizer_class, options, dtype, **kwargs))


def assert_same_trajectory(lw_optimizer_class, torch_optimizer_class, options, dtype=np.float32,
                           **kwargs):
    ours, theirs = trajectories(lw_optimizer_class, torch_optimizer_class, options, dtype,
                                **kwargs)
    arrays = initial_arrays(dtype)
    for step, (mine, reference) in enumerate(zip(ours, theirs), start=1):
        for name in mine:
            assert mine[name].dtype == dtype, f"{name} changed dtype to {mine[name].dtype}"
            np.testing.assert_allclose(mine[name], reference[name], **TOLERANCES[dtype],
                                       err_msg=f"{name} after step {step} with {options}")
        for untouched in ("unused", "frozen"):
            np.testing.assert_array_equal(mine[untouched], arrays[untouched])
    moved = np.abs(ours[-1]["weight"] - arrays["weight"]).max()
    assert moved > 1e-4, "the parameters barely moved: the test would prove nothing"
