"""Embedding against PyTorch: lookup, gradient (repeated ids, padding_idx,
scale_grad_by_freq), max_norm renormalization, from_pretrained, init, and id errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_close, random

IDS = np.array([[1, 4, 4, 0], [9, 1, 0, 4]])


def embedding_pair(padding_idx=None, **kwargs):
    torch.manual_seed(0)
    reference = torch.nn.Embedding(10, 3, padding_idx=padding_idx, **kwargs)
    ours = nn.Embedding(10, 3, padding_idx=padding_idx, **kwargs)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in
                          reference.state_dict().items()})
    return ours, reference


@pytest.mark.parametrize("padding_idx", [None, 0, -6])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_matches_torch(padding_idx, scale_grad_by_freq):
    ours, reference = embedding_pair(padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    out, t_out = ours(lw.tensor(IDS)), reference(torch.tensor(IDS))
    assert_close(out, t_out)
    assert out.shape == (2, 4, 3) and out.dtype == np.float32
    projection = random(2, 4, 3, seed=1)
    (out * lw.tensor(projection)).sum().backward()
    (t_out * torch.from_numpy(projection)).sum().backward()
    assert_close(ours.weight.grad, reference.weight.grad)


def test_max_norm_renormalizes_looked_up_rows_like_torch():
    ours, reference = embedding_pair(max_norm=1.0)
    with torch.no_grad():
        reference.weight.mul_(3)
    ours.load_state_dict({"weight": reference.weight.detach().numpy().copy()})
    assert_close(ours(lw.tensor(IDS)), reference(torch.tensor(IDS)))
    assert_close(ours.weight, reference.weight)          # rows rescaled in place, others kept
    norms = np.linalg.norm(ours.weight.detach().numpy()[[0, 1, 4, 9]], axis=1)
    assert np.all(norms <= 1.0 + 1e-5)


def test_functional_embedding_and_gradient_of_repeated_ids():
    weight = lw.tensor(random(5, 2), requires_grad=True)
    out = F.embedding(lw.tensor([3, 3, 3, 1]), weight)
    out.sum().backward()
    expected = np.zeros((5, 2), np.float32)
    expected[3], expected[1] = 3, 1
    np.testing.assert_array_equal(weight.grad.numpy(), expected)


def test_init_padding_row_and_from_pretrained():
    lw.manual_seed(0)
    layer = nn.Embedding(1000, 16, padding_idx=2)
    w = layer.weight.detach().numpy()
    assert not w[2].any() and abs(w.std() - 1) < 0.05
    assert repr(layer) == "Embedding(1000, 16, padding_idx=2)"
    table = random(4, 3)
    frozen = nn.Embedding.from_pretrained(lw.tensor(table))
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(lw.tensor([2])).numpy()[0], table[2])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_bad_ids_name_the_layer_and_the_range():
    layer = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"Embedding: token id 12 is out of range for 10 "
                                         r"embeddings \(valid ids are 0..9\)"):
        layer(lw.tensor([1, 12]))
    with pytest.raises(IndexError, match="token id -1 is out of range"):
        layer(lw.tensor([-1, 2]))
    with pytest.raises(TypeError, match="Embedding: expected integer token ids"):
        layer(lw.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings \(10\)"):
        nn.Embedding(10, 3, padding_idx=10)
