"""gpt-mini: PyTorch parity (same keys, logits, gradients), weight tying, the key/value
cache (same logits and tokens as re-running the prefix), sampling filters, errors."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise.models import get_model
from layerwise.models.generation import (choose_token, generate_ids, generate_text,
                                         next_token_distribution)
from layerwise.models.gpt import GPTMini
from layerwise.text import build_tokenizer
from tests.helpers import assert_close


class TorchGPTMini(torch.nn.Module):
    """The same architecture from torch.nn, with gpt-mini's state_dict keys."""

    def __init__(self, vocab, block, layers, heads, d_model, dropout=0.0):
        super().__init__()
        self.token_embedding = torch.nn.Embedding(vocab, d_model)
        self.position = torch.nn.Module()
        self.position.embedding = torch.nn.Embedding(block, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout,
                                                 activation="gelu", batch_first=True,
                                                 norm_first=True)
        self.transformer = torch.nn.TransformerEncoder(layer, layers, norm=torch.nn.LayerNorm(d_model),
                                                       enable_nested_tensor=False)
        self.lm_head = torch.nn.Linear(d_model, vocab, bias=False)
        self.lm_head.weight = self.token_embedding.weight

    def forward(self, ids):
        length = ids.shape[1]
        x = self.token_embedding(ids) + self.position.embedding(torch.arange(length))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(length)
        return self.lm_head(self.transformer(x, mask=mask, is_causal=True))


def _tiny(**options):
    lw.manual_seed(0)
    return GPTMini(40, block_size=16, n_layer=2, n_head=2, d_model=16, dropout=0.0, **options)


def test_matches_torch_with_tied_weights_logits_and_gradients():
    model = _tiny()
    assert model.lm_head.weight is model.token_embedding.weight
    twin = TorchGPTMini(40, 16, 2, 2, 16)
    assert list(model.state_dict()) == list(twin.state_dict())
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    ids = np.random.default_rng(0).integers(0, 40, (3, 12))
    logits = model(lw.tensor(ids))
    expected = twin(torch.tensor(ids))
    assert_close(logits, expected, atol=2e-5)
    targets = np.random.default_rng(1).integers(0, 40, (3, 12))
    lw.nn.functional.cross_entropy(logits.reshape(-1, 40), lw.tensor(targets.reshape(-1))).backward()
    torch.nn.functional.cross_entropy(expected.reshape(-1, 40), torch.tensor(targets.reshape(-1))).backward()
    grads = dict(model.named_parameters())
    for name, p in twin.named_parameters():
        assert_close(grads[name].grad, p.grad, atol=2e-5, what=name)
    assert len(list(model.parameters())) == len(list(twin.parameters()))


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_key_value_cache_gives_the_full_forward_logits(positional):
    model = _tiny(positional=positional).eval()
    ids = np.random.default_rng(2).integers(0, 40, (2, 11))
    full = model(lw.tensor(ids)).data
    cache = model.new_cache(2)
    pieces = [model.forward_cached(lw.tensor(ids[:, :5]), cache).data]
    pieces += [model.forward_cached(lw.tensor(ids[:, t:t + 1]), cache).data for t in range(5, 11)]
    assert cache.length == 11
    assert_close(np.concatenate(pieces, axis=1), full, atol=1e-5)


def test_generation_with_and_without_cache_agrees():
    model = _tiny()
    for p in model.parameters():
        p.data *= 20                                    # a sharper, more varied model
    greedy = list(generate_ids(model, [3, 4], 14, temperature=0))
    assert greedy == list(generate_ids(model, [3, 4], 14, temperature=0, use_cache=False))
    sampled = list(generate_ids(model, [3, 4], 14, temperature=1.0, top_k=5, seed=3))
    assert sampled == list(generate_ids(model, [3, 4], 14, temperature=1.0, top_k=5, seed=3,
                                        use_cache=False))
    longer = list(generate_ids(model, [3, 4], 40, temperature=0))   # past the block size
    assert len(longer) == 40 and longer[:14] == greedy
    assert longer == list(generate_ids(model, [3, 4], 40, temperature=0, use_cache=False))
    assert model.training                                # generation restores the mode


def test_generate_text_streams_pieces_of_the_tokenizer():
    tokenizer = build_tokenizer("char", "abcdefghij klmnop\n")
    lw.manual_seed(0)
    model = GPTMini(len(tokenizer), 16, 1, 2, 8, dropout=0.0)
    pieces = list(generate_text(model, tokenizer, "ab", 10, temperature=0.9, seed=0))
    assert len(pieces) == 10 and all(len(p) == 1 for p in pieces)


def test_sampling_filters():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert np.allclose(next_token_distribution(logits), [0.5, 0.3, 0.15, 0.05])
    assert np.allclose(next_token_distribution(logits, top_k=2), [0.625, 0.375, 0, 0])
    assert np.allclose(next_token_distribution(logits, top_p=0.75), [0.625, 0.375, 0, 0])
    assert np.allclose(next_token_distribution(logits, top_p=0.1), [1, 0, 0, 0])
    assert np.allclose(next_token_distribution(logits, temperature=1e-3), [1, 0, 0, 0])
    assert choose_token(logits, temperature=0) == 0
    draws = [choose_token(logits, 1.0, top_p=0.9, rng=np.random.default_rng(s)) for s in range(300)]
    assert 3 not in draws and {0, 1, 2} <= set(draws)
    with pytest.raises(ValueError, match="top_p must be in"):
        next_token_distribution(logits, top_p=0.0)


def test_registry_and_errors():
    model = get_model("gpt-mini", vocab_size=30, block_size=8, n_layer=1, n_head=2, d_model=8)
    with pytest.raises(ValueError, match="9 positions exceed the block size 8"):
        model(lw.tensor(np.zeros((1, 9), np.int64)))
    with pytest.raises(ValueError, match="d_model must be divisible by n_head, got d_model=10"):
        get_model("gpt-mini", d_model=10, n_head=4)
    cache = model.new_cache()
    model.eval().forward_cached(lw.tensor(np.zeros((1, 8), np.int64)), cache)
    with pytest.raises(ValueError, match="9 positions exceed the block size 8"):
        model.forward_cached(lw.tensor(np.zeros((1, 1), np.int64)), cache)
