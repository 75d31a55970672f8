import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn, optim
from tests.helpers import random


def twin_params(dtype=np.float64):
    arrays = [random(3, 4, seed=1, dtype=dtype), random(4, seed=2, dtype=dtype)]
    arrays[0][0, 0] = 0.0           # |w| at 0: gradient 0 in both frameworks
    return ([nn.Parameter(a.copy()) for a in arrays],
            [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays], arrays)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-13)])
def test_l1_penalty_value_and_gradient(dtype, rtol):
    params, torch_params, arrays = twin_params(dtype)
    penalty = nn.l1_penalty(params, 0.3)
    torch_penalty = 0.3 * sum(p.abs().sum() for p in torch_params)
    assert penalty.dtype == dtype
    np.testing.assert_allclose(penalty.item(), 0.3 * sum(np.abs(a).sum() for a in arrays),
                               rtol=rtol)
    np.testing.assert_allclose(penalty.item(), torch_penalty.item(), rtol=rtol)
    penalty.backward()
    torch_penalty.backward()
    for p, tp, a in zip(params, torch_params, arrays):
        np.testing.assert_allclose(p.grad.data, 0.3 * np.sign(a), rtol=rtol)
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol)
    assert params[0].grad.data[0, 0] == 0.0


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-13)])
def test_l2_penalty_value_and_gradient(dtype, rtol):
    params, torch_params, arrays = twin_params(dtype)
    penalty = nn.l2_penalty(params, 0.05)
    torch_penalty = 0.05 * sum((p ** 2).sum() for p in torch_params)
    np.testing.assert_allclose(penalty.item(), 0.05 * sum((a ** 2).sum() for a in arrays),
                               rtol=rtol)
    np.testing.assert_allclose(penalty.item(), torch_penalty.item(), rtol=rtol)
    penalty.backward()
    torch_penalty.backward()
    for p, tp, a in zip(params, torch_params, arrays):
        np.testing.assert_allclose(p.grad.data, 2 * 0.05 * a, rtol=rtol)   # not ½-scaled
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol)


def test_elastic_net_penalty_is_the_sum_of_both():
    params, torch_params, arrays = twin_params()
    penalty = nn.elastic_net_penalty(params, 0.1, 0.2)
    expected = sum(0.1 * np.abs(a).sum() + 0.2 * (a ** 2).sum() for a in arrays)
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-13)
    penalty.backward()
    torch_penalty = sum(0.1 * p.abs().sum() + 0.2 * (p ** 2).sum() for p in torch_params)
    torch_penalty.backward()
    for p, tp, a in zip(params, torch_params, arrays):
        np.testing.assert_allclose(p.grad.data, 0.1 * np.sign(a) + 0.4 * a, rtol=1e-13)
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-13)


def test_penalty_adds_to_a_loss_and_backpropagates():
    params, _, arrays = twin_params()
    x = lw.tensor(random(4, 2, seed=3, dtype=np.float64))
    loss = ((params[0] @ x) ** 2).sum() + nn.l2_penalty(params[:1], 0.5)
    loss.backward()
    data_grad = 2 * (arrays[0] @ x.data) @ x.data.T
    np.testing.assert_allclose(params[0].grad.data, data_grad + arrays[0], rtol=1e-13)


def test_sgd_weight_decay_equals_half_scaled_l2_penalty():
    """SGD(weight_decay=λ) on the loss == SGD on loss + l2_penalty(params, λ/2)."""
    lam, x = 0.1, lw.tensor(random(4, 2, seed=3, dtype=np.float64))
    runs = []
    for decay, penalty_weight in ((lam, 0.0), (0.0, lam / 2)):
        params, _, _ = twin_params()
        opt = optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=decay)
        for _ in range(5):
            opt.zero_grad()
            loss = ((params[0] @ x).tanh() ** 2).sum() + (params[1] ** 4).sum()
            (loss + nn.l2_penalty(params, penalty_weight)).backward()
            opt.step()
        runs.append([p.data.copy() for p in params])
    for with_decay, with_penalty in zip(*runs):
        np.testing.assert_allclose(with_decay, with_penalty, rtol=1e-12)


class BatchNormLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.ones(3))
        self.bias = nn.Parameter(np.zeros(3))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.ones((3, 3)))
        self.bias = nn.Parameter(np.zeros(3))
        self.norm = BatchNormLike()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head_weight = nn.Parameter(np.ones((2, 3)))
        self.tied = self.head_weight        # a shared parameter is listed once


def test_decay_parameters_selects_weights_only():
    net = Net()
    decay = nn.decay_parameters(net)
    # in parameters() order: a module's own parameters before its children's
    assert [id(p) for p in decay] == [id(net.head_weight), id(net.block.weight)]


def test_weight_decay_groups_feed_an_optimizer():
    net = Net()
    groups = nn.weight_decay_groups(net, 0.05)
    assert [g["weight_decay"] for g in groups] == [0.05, 0.0]
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))
    opt = optim.AdamW(groups, lr=1e-3)
    assert opt.param_groups[1]["weight_decay"] == 0.0


def test_penalties_accept_a_module_a_tensor_and_nothing():
    net = Net()
    assert nn.l1_penalty(net, 1.0).item() == pytest.approx(9 + 6 + 3)   # weights of ones
    assert nn.l2_penalty(net.head_weight, 2.0).item() == pytest.approx(12.0)
    assert nn.l2_penalty([], 1.0).item() == 0.0
