import json

import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn, optim
from layerwise.optim.optimizer import flatten_state_dict, unflatten_state_dict
from tests.optim.parity import data, initial_arrays, loss_of, torch_loss_with_layerwise_gradients

OPTIMIZERS = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, None, dict(lr=0.05, momentum=0.9, ema=True)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1)),
]
IDS = [f"{cls.__name__}-{options}" for cls, _, options in OPTIMIZERS]


def new_params(values=None):
    values = values or initial_arrays(np.float64)
    return {k: nn.Parameter(np.array(values[k])) for k in ("weight", "bias")}


def groups_of(params):
    return [{"params": [params["weight"]]}, {"params": [params["bias"]], "lr": 0.02}]


def train(optimizer, params, steps):
    x, y = (lw.tensor(a) for a in data(np.float64))
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(params["weight"], params["bias"], x, y).backward()
        optimizer.step()


@pytest.mark.parametrize("cls, _, options", OPTIMIZERS, ids=IDS)
def test_resume_from_state_dict_equals_uninterrupted_run(cls, _, options):
    params = new_params()
    train(cls(groups_of(params), **options), params, 6)
    expected = {k: p.data for k, p in params.items()}

    params = new_params()
    first = cls(groups_of(params), **options)
    train(first, params, 3)
    saved_state = first.state_dict()
    saved_values = {k: p.data.copy() for k, p in params.items()}
    train(first, params, 2)                  # keep going: the saved state must not change

    resumed_params = new_params(saved_values)
    resumed = cls(groups_of(resumed_params), **options)
    resumed.load_state_dict(saved_state)
    train(resumed, resumed_params, 3)
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(resumed_params[name].data, expected[name])


@pytest.mark.parametrize("cls, _, options", OPTIMIZERS, ids=IDS)
def test_state_dict_survives_json_and_flat_arrays(cls, _, options):
    params = new_params()
    opt = cls(groups_of(params), **options)
    train(opt, params, 3)
    arrays, metadata = flatten_state_dict(opt.state_dict())
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    restored = unflatten_state_dict(arrays, json.loads(json.dumps(metadata)))

    twin_params = new_params({k: p.data.copy() for k, p in params.items()})
    twin = cls(groups_of(twin_params), **options)
    twin.load_state_dict(restored)
    assert twin.param_groups[1]["lr"] == 0.02
    train(opt, params, 2)
    train(twin, twin_params, 2)
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(twin_params[name].data, params[name].data)


def test_state_dict_layout_is_pytorchs():
    params = new_params()
    opt = optim.Adam(groups_of(params), lr=0.01)
    train(opt, params, 2)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][0]["lr"] == 0.01 and saved["param_groups"][1]["lr"] == 0.02
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(saved["state"]) == {0, 1}
    assert saved["state"][0]["step"] == 2
    assert saved["state"][0]["exp_avg"].shape == (3, 4)

    reference = torch.optim.Adam([torch.nn.Parameter(torch.zeros(3, 4))], lr=0.01)
    assert set(saved["param_groups"][0]) - {"params"} <= set(reference.state_dict()
                                                             ["param_groups"][0])


@pytest.mark.parametrize("cls, torch_cls, options", [o for o in OPTIMIZERS if o[1] is not None],
                         ids=[i for i, o in zip(IDS, OPTIMIZERS) if o[1] is not None])
def test_loads_a_pytorch_optimizer_state_dict(cls, torch_cls, options):
    values = initial_arrays(np.float64)
    torch_params = {k: torch.nn.Parameter(torch.tensor(values[k])) for k in ("weight", "bias")}
    torch_opt = torch_cls(groups_of(torch_params), **options)
    x, y = (lw.tensor(a) for a in data(np.float64))
    for _ in range(3):
        torch_opt.zero_grad()
        torch_loss_with_layerwise_gradients(torch_params, x, y)
        torch_opt.step()

    params = new_params({k: p.detach().numpy().copy() for k, p in torch_params.items()})
    opt = cls(groups_of(params), **options)
    opt.load_state_dict(torch_opt.state_dict())
    for _ in range(3):
        torch_opt.zero_grad()
        torch_loss_with_layerwise_gradients(torch_params, x, y)
        torch_opt.step()
    train(opt, params, 3)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(params[name].data, torch_params[name].detach().numpy(),
                                   rtol=1e-13, atol=1e-15)


def saved_adam_state():
    params = new_params()
    opt = optim.Adam(groups_of(params), lr=0.01)
    train(opt, params, 1)
    return opt.state_dict()


def test_load_rejects_a_different_number_of_groups():
    opt = optim.Adam(list(new_params().values()), lr=0.01)
    with pytest.raises(ValueError, match="different number of parameter groups: 2 saved, 1"):
        opt.load_state_dict(saved_adam_state())


def test_load_rejects_groups_of_another_size():
    params = new_params()
    extra = nn.Parameter(np.zeros(2))
    opt = optim.Adam([{"params": [params["weight"]]}, {"params": [params["bias"], extra]}])
    with pytest.raises(ValueError, match="group 1 has 1 parameters saved, 2 here"):
        opt.load_state_dict(saved_adam_state())


def test_load_rejects_state_of_another_shape_and_changes_nothing():
    params = {"weight": nn.Parameter(np.zeros((4, 3))), "bias": nn.Parameter(np.zeros(3))}
    opt = optim.Adam(groups_of(params), lr=0.5)
    with pytest.raises(ValueError, match=r"'exp_avg' of shape \(3, 4\) for parameter 0, "
                                         r"whose shape is \(4, 3\)"):
        opt.load_state_dict(saved_adam_state())
    assert not opt.state and opt.param_groups[0]["lr"] == 0.5


def test_loaded_state_is_cast_to_the_parameter_dtype():
    saved = saved_adam_state()                       # float64 parameters
    params = {k: nn.Parameter(np.zeros(v.shape, np.float32)) for k, v in new_params().items()}
    opt = optim.Adam(groups_of(params))
    opt.load_state_dict(saved)
    assert opt.state[params["weight"]]["exp_avg"].dtype == np.float32


def test_param_groups_take_defaults_and_their_own_options():
    params = new_params()
    opt = optim.SGD([{"params": [params["weight"]]},
                     {"params": params["bias"], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [params["bias"]]


def test_add_param_group_for_fine_tuning():
    params = new_params()
    opt = optim.SGD([params["weight"]], lr=0.1)
    opt.add_param_group({"params": [params["bias"]], "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [params["bias"]]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {nn.Parameter(np.zeros(1))}})
    with pytest.raises(ValueError, match="non-leaf"):
        opt.add_param_group({"params": [params["bias"] * 2]})
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.add_param_group({"params": [nn.Parameter(np.zeros(1))], "lr": -1})


def test_named_parameters_are_accepted_and_saved():
    params = new_params()
    opt = optim.SGD(list(params.items()), lr=0.1)
    assert opt.param_groups[0]["params"] == [params["weight"], params["bias"]]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_zero_grad():
    params = new_params()
    opt = optim.SGD(list(params.values()), lr=0.1)
    train(opt, params, 1)
    old_grad = params["weight"].grad.data
    old_values = old_grad.copy()
    opt.zero_grad(set_to_none=False)
    assert not params["weight"].grad.data.any()
    np.testing.assert_array_equal(old_grad, old_values)   # a new array, the old one untouched
    opt.zero_grad()
    assert params["weight"].grad is None and params["bias"].grad is None


def test_repr_lists_groups():
    opt = optim.SGD(list(new_params().values()), lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text
