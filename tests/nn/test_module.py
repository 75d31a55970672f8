"""Module machinery: registration, state_dict with PyTorch's keys, loading, modes, hooks."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn


class Affine(nn.Module):
    def __init__(self, n, m, lib=nn):
        super().__init__()
        self.weight = lib.Parameter(lw.randn(m, n) if lib is nn else torch.randn(m, n))
        self.bias = lib.Parameter(lw.zeros(m) if lib is nn else torch.zeros(m))
        self.register_buffer("calls", lw.zeros(()) if lib is nn else torch.zeros(()))
        self.register_buffer("scratch", lw.zeros(2) if lib is nn else torch.zeros(2),
                             persistent=False)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class TorchAffine(torch.nn.Module):
    def __init__(self, n, m):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(m, n))
        self.bias = torch.nn.Parameter(torch.zeros(m))
        self.register_buffer("calls", torch.zeros(()))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return x @ self.weight.T + self.bias


def _pair():
    ours = nn.Sequential(Affine(4, 3), nn.Sequential(Affine(3, 2)))
    theirs = torch.nn.Sequential(TorchAffine(4, 3), torch.nn.Sequential(TorchAffine(3, 2)))
    return ours, theirs


def test_state_dict_keys_equal_torchs_and_torch_weights_load_strictly():
    ours, theirs = _pair()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())              # torch tensors accepted as is
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(lw.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_reports_missing_unexpected_and_size_mismatch():
    ours, _ = _pair()
    state = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    del state["0.bias"]
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as err:
        ours.load_state_dict(state)
    assert 'Missing key(s) in state_dict: "0.bias"' in str(err.value)
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in str(err.value)
    result = ours.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra.weight"]
    state = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    state["1.0.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(RuntimeError, match=r"size mismatch for 1.0.weight: copying a param "
                                           r"with shape \(3, 3\) from checkpoint, the shape "
                                           r"in current model is \(2, 3\)"):
        ours.load_state_dict(state)


def test_load_state_dict_copies_in_place_and_keeps_dtype():
    m = Affine(2, 2)
    w = m.weight
    m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2), "calls": np.array(3.0)})
    assert m.weight is w and w.dtype == np.float32 and w.data.sum() == 4
    assert m.calls.item() == 3.0


def test_train_eval_propagate_and_zero_grad_clears():
    ours, _ = _pair()
    ours.eval()
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    ours(lw.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in ours.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


def test_requires_grad_false_freezes_a_submodule():
    ours, _ = _pair()
    ours[0].requires_grad_(False)
    ours(lw.randn(2, 4)).sum().backward()
    assert ours[0].weight.grad is None and ours[1][0].weight.grad is not None


def test_sequential_indexing_slicing_len_and_names():
    seq = nn.Sequential(OrderedDict(first=Affine(4, 3), second=Affine(3, 2)))
    assert len(seq) == 2 and seq[-1] is seq.second and seq["first"] is seq[0]
    head = seq[:1]
    assert isinstance(head, nn.Sequential) and list(head.state_dict())[0] == "first.weight"
    assert seq(lw.randn(5, 4)).shape == (5, 2)


def test_module_list_and_dict_register_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Affine(2, 2), Affine(2, 2)])
            self.heads = nn.ModuleDict({"a": Affine(2, 1)})

    keys = list(Net().state_dict())
    assert keys == ["blocks.0.weight", "blocks.0.bias", "blocks.0.calls", "blocks.1.weight",
                    "blocks.1.bias", "blocks.1.calls", "heads.a.weight", "heads.a.bias",
                    "heads.a.calls"]


def test_shared_parameters_are_listed_once():
    a = Affine(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2


def test_forward_hooks_see_outputs_and_can_be_removed():
    m = Affine(3, 2)
    captured = []
    handle = m.register_forward_hook(lambda mod, inp, out: captured.append(out.shape))
    m(lw.randn(4, 3))
    handle.remove()
    m(lw.randn(4, 3))
    assert captured == [(4, 2)]


def test_to_float64_converts_parameters_and_buffers():
    m = Affine(3, 2).double()
    assert m.weight.dtype == np.float64 and m.calls.dtype == np.float64


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(lw.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


def test_repr_lists_children():
    text = repr(nn.Sequential(Affine(2, 2)))
    assert text.startswith("Sequential(\n  (0): Affine(")


def test_parameter_is_a_leaf_that_requires_grad():
    p = nn.Parameter(np.zeros(3))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert "Parameter containing" in repr(p)
