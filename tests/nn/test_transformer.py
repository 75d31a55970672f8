"""Transformer layers against PyTorch 2.13: encoder and decoder layers (norm_first both
ways, batch_first both ways, ReLU/GELU, masks), the stacks and nn.Transformer; the fused
activation+dropout; errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_close, assert_gradcheck, assert_module_matches_torch, random


def _shape(batch_first, length, n=3, d=16):
    return (n, length, d) if batch_first else (length, n, d)


def _load(m, t):
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()},
                      strict=True)


class _WithMasks(torch.nn.Module):
    """Calls a layer with fixed masks (so the helpers pass only the float inputs)."""

    def __init__(self, layer, **masks):
        super().__init__()
        self.layer, self.masks = layer, masks

    def forward(self, *inputs):
        return self.layer(*inputs, **self.masks)


class _LwWithMasks(nn.Module):
    def __init__(self, layer, **masks):
        super().__init__()
        self.layer, self.masks = layer, masks

    def forward(self, *inputs):
        return self.layer(*inputs, **self.masks)


def _masks(batch_first, length, n=3):
    causal = torch.nn.Transformer.generate_square_subsequent_mask(length)
    padding = np.zeros((n, length), bool)
    padding[1, length - 2:] = True
    return causal, padding


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(batch_first, norm_first, activation):
    options = dict(dim_feedforward=32, dropout=0.0, batch_first=batch_first,
                   norm_first=norm_first, activation=activation)
    t, m = torch.nn.TransformerEncoderLayer(16, 4, **options), nn.TransformerEncoderLayer(16, 4, **options)
    assert list(m.state_dict()) == list(t.state_dict())
    x = random(*_shape(batch_first, 5), seed=1)
    assert_module_matches_torch(m, t, x)
    causal, padding = _masks(batch_first, 5)
    assert_module_matches_torch(
        _LwWithMasks(m, src_mask=lw.tensor(causal.numpy()), src_key_padding_mask=lw.tensor(padding)),
        _WithMasks(t, src_mask=causal, src_key_padding_mask=torch.tensor(padding)), x, atol=2e-5)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(batch_first, norm_first):
    options = dict(dim_feedforward=32, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    t, m = torch.nn.TransformerDecoderLayer(16, 4, **options), nn.TransformerDecoderLayer(16, 4, **options)
    assert list(m.state_dict()) == list(t.state_dict())
    tgt, memory = random(*_shape(batch_first, 5), seed=1), random(*_shape(batch_first, 7), seed=2)
    causal, padding = _masks(batch_first, 5)
    memory_padding = np.zeros((3, 7), bool)
    memory_padding[2, 5:] = True
    assert_module_matches_torch(
        _LwWithMasks(m, tgt_mask=lw.tensor(causal.numpy()), tgt_key_padding_mask=lw.tensor(padding),
                     memory_key_padding_mask=lw.tensor(memory_padding)),
        _WithMasks(t, tgt_mask=causal, tgt_key_padding_mask=torch.tensor(padding),
                   memory_key_padding_mask=torch.tensor(memory_padding)),
        tgt, memory, atol=2e-5)


def test_encoder_and_decoder_stacks_match_torch():
    layer_t = torch.nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True)
    t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True),
                              2, norm=nn.LayerNorm(16))
    assert list(m.state_dict()) == list(t.state_dict())
    causal, padding = _masks(True, 6)
    assert_module_matches_torch(
        _LwWithMasks(m, mask=lw.tensor(causal.numpy()), src_key_padding_mask=lw.tensor(padding)),
        _WithMasks(t, mask=causal, src_key_padding_mask=torch.tensor(padding)),
        random(3, 6, 16, seed=1), atol=2e-5)
    dec_t = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(16, 2, 24, dropout=0.0), 2, norm=torch.nn.LayerNorm(16))
    dec_m = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 2, 24, dropout=0.0), 2,
                                  norm=nn.LayerNorm(16))
    assert_module_matches_torch(_LwWithMasks(dec_m, tgt_mask=lw.tensor(causal.numpy())),
                                _WithMasks(dec_t, tgt_mask=causal),
                                random(6, 3, 16, seed=2), random(4, 3, 16, seed=3), atol=2e-5)


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_matches_torch_and_its_causal_mask(batch_first):
    options = dict(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=1,
                   dim_feedforward=24, dropout=0.0, batch_first=batch_first)
    torch.manual_seed(0)
    t, m = torch.nn.Transformer(**options), nn.Transformer(**options)
    assert list(m.state_dict()) == list(t.state_dict())
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    assert_close(mask, torch.nn.Transformer.generate_square_subsequent_mask(5), 0, 0)
    src, tgt = random(*_shape(batch_first, 7, 2), seed=1), random(*_shape(batch_first, 5, 2), seed=2)
    padding = np.zeros((2, 7), bool)
    padding[0, 5:] = True
    assert_module_matches_torch(
        _LwWithMasks(m, tgt_mask=mask, src_key_padding_mask=lw.tensor(padding),
                     memory_key_padding_mask=lw.tensor(padding)),
        _WithMasks(t, tgt_mask=torch.tensor(mask.numpy()), src_key_padding_mask=torch.tensor(padding),
                   memory_key_padding_mask=torch.tensor(padding)), src, tgt, atol=3e-5)


def test_transformer_initialization_is_xavier_like_torch():
    m = nn.Transformer(32, 4, 1, 1, 64)
    w = m.encoder.layers[0].linear1.weight.data                   # (64, 32)
    bound = np.sqrt(6 / (32 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_encoder_layer_dropout_train_vs_eval():
    m = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.3, batch_first=True)
    x = lw.tensor(random(2, 5, 16, seed=1))
    m.eval()
    a, b = m(x).data, m(x).data
    assert np.array_equal(a, b)
    m.train()
    lw.manual_seed(1)
    c = m(x).data
    lw.manual_seed(1)
    assert np.array_equal(c, m(x).data) and not np.allclose(a, c)


@pytest.mark.parametrize("activation, approximate", [("relu", "none"), ("gelu", "none"),
                                                     ("gelu", "tanh")])
def test_fused_activation_dropout_gradcheck_and_rate(activation, approximate):
    def fn(x):
        lw.manual_seed(3)
        return F.activation_dropout(x, activation, p=0.3, approximate=approximate)
    assert_gradcheck(fn, random(4, 7, seed=1) + 0.05)
    x = lw.tensor(np.full((400, 500), 2.0, np.float32))
    y = F.activation_dropout(x, activation, p=0.3, approximate=approximate).data
    assert abs((y == 0).mean() - 0.3) < 0.01
    active = 2.0 if activation == "relu" else F.gelu(lw.tensor(2.0), approximate).item()
    assert np.allclose(y[y != 0], active / 0.7, rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.TransformerEncoderLayer(10, 4), r"TransformerEncoderLayer: d_model must be divisible by nhead, got d_model=10 and nhead=4"),
    (lambda: nn.TransformerDecoderLayer(12, 5), r"TransformerDecoderLayer: d_model must be divisible"),
    (lambda: nn.TransformerEncoderLayer(8, 2, batch_first=True)(lw.tensor(random(2, 3, 6))),
     r"TransformerEncoderLayer: expected src with d_model=8 .* got shape \(2, 3, 6\)"),
    (lambda: nn.TransformerEncoderLayer(8, 2, batch_first=True)(
        lw.tensor(random(2, 3, 8)), src_mask=lw.tensor(np.zeros((4, 4), np.float32))),
     r"TransformerEncoderLayer.self_attn: attn_mask has shape \(4, 4\), expected \(L, S\) = \(3, 3\)"),
    (lambda: nn.Transformer(8, 2, 1, 1, 16, batch_first=True)(lw.tensor(random(2, 3, 8)),
                                                             lw.tensor(random(3, 3, 8))),
     r"batch number of src and tgt must be equal"),
    (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), r"relu/gelu"),
])
def test_transformer_bad_input_is_a_clear_error(call, message):
    with pytest.raises((RuntimeError, ValueError), match=message):
        call()
