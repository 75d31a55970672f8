"""Sinusoidal and learned positional encodings: the formula, both layouts, offsets,
gradients, and the error for a sequence longer than the table."""
import math

import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import nn
from tests.helpers import assert_close, random


def _tutorial_table(max_len, d_model):
    """PyTorch's tutorial PositionalEncoding table, computed in torch as the reference."""
    position = torch.arange(max_len).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def test_sinusoidal_table_is_the_formula():
    table = nn.sinusoidal_table(50, 16)
    assert_close(table, _tutorial_table(50, 16), atol=2e-6, rtol=1e-5)
    assert table[3, 4] == pytest.approx(math.sin(3 / 10000 ** (4 / 16)), abs=1e-7)
    assert table[3, 5] == pytest.approx(math.cos(3 / 10000 ** (4 / 16)), abs=1e-7)
    odd = nn.sinusoidal_table(4, 5)                       # an odd width keeps its last sine
    assert odd.shape == (4, 5) and odd[1, 4] == pytest.approx(math.sin(1 / 10000 ** 0.8))


@pytest.mark.parametrize("batch_first", [True, False])
def test_sinusoidal_adds_the_table_in_either_layout_with_offset(batch_first):
    pe = nn.SinusoidalPositionalEncoding(8, max_len=20, batch_first=batch_first)
    x = random(2, 5, 8) if batch_first else random(5, 2, 8)
    out = pe(lw.tensor(x), offset=3).data
    table = nn.sinusoidal_table(20, 8)[3:8]
    expected = x + (table[None] if batch_first else table[:, None])
    assert_close(out, expected, 1e-6, 1e-6)
    assert "pe" not in pe.state_dict()                      # recomputed, never saved


def test_learned_positional_encoding_learns_its_table():
    pe = nn.LearnedPositionalEncoding(10, 4)
    assert list(pe.state_dict()) == ["embedding.weight"]
    assert pe.embedding.weight.data.std() < 0.05
    x = lw.tensor(random(3, 6, 4), requires_grad=True)
    out = pe(x, offset=2)
    assert_close(out, x.data + pe.embedding.weight.data[2:8][None], 1e-6, 1e-6)
    out.sum().backward()
    grad = pe.embedding.weight.grad.data
    assert np.allclose(grad[2:8], 3.0) and not grad[:2].any() and not grad[8:].any()
    assert np.allclose(x.grad.data, 1.0)


@pytest.mark.parametrize("make", [lambda: nn.SinusoidalPositionalEncoding(8, max_len=16),
                                  lambda: nn.LearnedPositionalEncoding(16, 8)])
def test_sequence_longer_than_the_table_is_a_clear_error(make):
    pe = make()
    with pytest.raises(ValueError, match=r"PositionalEncoding: a sequence of length 17 starting "
                                         r"at position 0 runs past the positional table: "
                                         r"max_len=16"):
        pe(lw.tensor(random(2, 17, 8)))
    with pytest.raises(ValueError, match=r"length 2 starting at position 15"):
        pe(lw.tensor(random(1, 2, 8)), offset=15)
    with pytest.raises(RuntimeError, match=r"expected input \(N, T, 8\)"):
        pe(lw.tensor(random(2, 4, 6)))
