"""The encoder layer's inference fast path (``nn.transformer_inference``): taken in eval
mode without gradients, equal to the graph path and to PyTorch's own fast path."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from layerwise.nn import transformer_inference
from tests.helpers import assert_close, random


def _layer(norm_first, batch_first, activation, dtype=np.float32):
    lw.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1,
                                       activation=activation, batch_first=batch_first,
                                       norm_first=norm_first)
    return layer.to(lw.float64) if dtype == np.float64 else layer


def _masks(length, dtype):
    causal = np.triu(np.full((length, length), -np.inf, dtype), k=1)
    return {"none": None, "float": causal, "bool": np.isinf(causal)}


@pytest.mark.parametrize("dtype, atol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("activation", ["relu", "gelu", F.tanh])
@pytest.mark.parametrize("mask", ["none", "float", "bool"])
def test_fast_path_equals_the_graph_path(dtype, atol, norm_first, batch_first, activation, mask):
    layer = _layer(norm_first, batch_first, activation, dtype).eval()
    x = random(*((3, 6, 16) if batch_first else (6, 3, 16)), seed=1, dtype=dtype)
    m = _masks(6, dtype)[mask]
    m = None if m is None else lw.tensor(m)
    with lw.no_grad():
        assert transformer_inference.applies(layer, lw.tensor(x), m, None)
        fast = layer(lw.tensor(x), src_mask=m)
    graph_input = lw.tensor(x, requires_grad=True)
    assert not transformer_inference.applies(layer, graph_input, m, None)
    graph = layer(graph_input, src_mask=m)
    assert fast.dtype == graph.dtype == dtype
    assert_close(fast, graph.data, atol=atol, rtol=atol)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_fast_path_matches_torch_in_eval(norm_first, activation):
    options = dict(dim_feedforward=32, dropout=0.1, batch_first=True, norm_first=norm_first,
                   activation=activation)
    t = torch.nn.TransformerEncoderLayer(16, 4, **options).eval()
    m = nn.TransformerEncoderLayer(16, 4, **options).eval()
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    x = random(2, 7, 16, seed=3)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(7)
    with torch.no_grad(), lw.no_grad():
        for mask in (None, causal):
            expected = t(torch.from_numpy(x), src_mask=mask)
            got = m(lw.tensor(x), src_mask=None if mask is None else lw.tensor(mask.numpy()))
            assert_close(got, expected, atol=2e-6, rtol=1e-5)


def test_fast_path_is_not_taken_when_the_graph_or_dropout_is_needed():
    layer = _layer(True, True, "relu")
    x = lw.tensor(random(2, 5, 16))
    with lw.no_grad():
        assert not transformer_inference.applies(layer, x, None, None)          # training
        layer.eval()
        assert transformer_inference.applies(layer, x, None, None)
        assert not transformer_inference.applies(layer, x, None, lw.tensor(np.zeros((2, 5), bool)))
        assert not transformer_inference.applies(layer, lw.tensor(random(5, 16)), None, None)
    assert not transformer_inference.applies(layer, x, None, None)    # parameters need grads
    for p in layer.parameters():
        p.requires_grad_(False)
    assert transformer_inference.applies(layer, x, None, None)        # nothing to record


def test_fast_path_output_is_a_new_tensor_without_history():
    layer = _layer(False, True, "gelu").eval()
    x = lw.tensor(random(2, 5, 16))
    before = x.numpy().copy()
    with lw.no_grad():
        y = layer(x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(x.numpy(), before)


def test_is_causal_without_a_mask_is_the_same_clear_error_in_eval():
    layer = _layer(True, True, "relu").eval()
    with lw.no_grad(), pytest.raises(RuntimeError, match="is_causal"):
        layer(lw.tensor(random(2, 5, 16)), is_causal=True)


def test_a_mask_of_the_wrong_shape_is_the_same_clear_error_in_eval():
    layer = _layer(False, True, "relu").eval()
    x = lw.tensor(random(2, 5, 16))
    with lw.no_grad():
        assert not transformer_inference.applies(layer, x, lw.tensor(np.zeros((4, 4))), None)
        with pytest.raises(RuntimeError, match="attn_mask|mask"):
            layer(x, src_mask=lw.tensor(np.zeros((4, 4), np.float32)))
