"""``gpt-mini``: a decoder-only transformer language model (GPT; Radford et al., 2018/2019).

    x_0 = E[token] + P[position]                     (token embedding + positional encoding)
    x_l = Block_l(x_{l-1}),  l = 1..n_layer          (pre-norm: x + SA(LN(x)), x + FF(LN(x)),
                                                      causal self-attention, GELU)
    logits = LN(x_L) Eᵀ                              (output layer tied to the embedding)

Each position may attend only to itself and the positions before it (the causal mask),
so one forward pass over a text of T tokens trains T next-token predictions at once,
and generation can go left to right. The blocks are PyTorch's
``nn.TransformerEncoderLayer(norm_first=True, activation='gelu', batch_first=True)``
with a causal mask, stacked in ``nn.TransformerEncoder`` with a final LayerNorm: the
state_dict keys are PyTorch's (``transformer.layers.0.self_attn.in_proj_weight``, ...),
and the same model built from torch.nn loads the same weights.

**Key/value cache.** At generation step t the keys and values of positions < t do not
change (nothing after them can influence them), so each layer keeps them: a new token
computes its own query, key and value (one row), appends its key and value to the cache,
and attends over the cached ones. A step costs O(t) instead of re-running the whole
prefix (O(t²) attention, t times the projections).
"""
import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.functional.attention import causal_mask
from ..nn.transformer_inference import encoder_layer, layer_norm, linear


class KeyValueCache:
    """Per layer, the keys and values of the positions seen so far: (N, capacity, E) arrays."""

    def __init__(self, num_layers, batch, capacity, width, dtype=np.float32):
        self.keys = [np.zeros((batch, capacity, width), dtype) for _ in range(num_layers)]
        self.values = [np.zeros((batch, capacity, width), dtype) for _ in range(num_layers)]
        self.length, self.capacity = 0, capacity

    def append(self, layer, keys, values):
        """Store (N, T, E) new keys and values of ``layer``; return all (N, length + T, E)."""
        start, stop = self.length, self.length + keys.shape[1]
        if stop > self.capacity:
            raise ValueError(f"KeyValueCache: {stop} positions exceed its capacity of "
                             f"{self.capacity} (the model's block size)")
        self.keys[layer][:, start:stop] = keys
        self.values[layer][:, start:stop] = values
        return self.keys[layer][:, :stop], self.values[layer][:, :stop]


class GPTMini(nn.Module):
    """``forward(ids (N, T)) -> logits (N, T, vocab_size)``; ``T <= block_size``."""

    def __init__(self, vocab_size, block_size=128, n_layer=4, n_head=4, d_model=128,
                 dim_feedforward=None, dropout=0.1, positional="learned", tie_weights=True):
        super().__init__()
        if positional not in ("learned", "sinusoidal"):
            raise ValueError(f"gpt-mini: positional must be 'learned' or 'sinusoidal', got "
                             f"{positional!r}")
        if d_model % n_head:
            raise ValueError(f"gpt-mini: d_model must be divisible by n_head, got d_model="
                             f"{d_model} and n_head={n_head}")
        self.vocab_size, self.block_size, self.d_model = vocab_size, block_size, d_model
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.token_embedding.weight, 0.0, 0.02)
        self.position = (nn.LearnedPositionalEncoding(block_size, d_model, dropout)
                         if positional == "learned" else
                         nn.SinusoidalPositionalEncoding(d_model, block_size, dropout))
        layer = nn.TransformerEncoderLayer(d_model, n_head, dim_feedforward or 4 * d_model,
                                           dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, n_layer, norm=nn.LayerNorm(d_model),
                                                 enable_nested_tensor=False)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.lm_head.weight = self.token_embedding.weight      # one matrix, two uses
        self.tie_weights = tie_weights

    def _check_ids(self, ids, offset=0):
        shape = tuple(ids.shape)
        if len(shape) != 2:
            raise ValueError(f"gpt-mini: expected token ids of shape (N, T), got {shape}")
        if offset + shape[1] > self.block_size:
            raise ValueError(f"gpt-mini: {offset + shape[1]} positions exceed the block size "
                             f"{self.block_size} (the positional table's length); feed at "
                             f"most the last {self.block_size} tokens")

    def forward(self, ids):
        self._check_ids(ids)
        length = ids.shape[1]
        x = self.position(self.token_embedding(ids))
        mask = Tensor(causal_mask(length, length, x.dtype))
        return self.lm_head(self.transformer(x, mask=mask, is_causal=True))

    # ---------------------------------------------------------------- generation
    def new_cache(self, batch=1):
        return KeyValueCache(len(self.transformer.layers), batch, self.block_size, self.d_model,
                             self.token_embedding.weight.dtype)

    @no_grad()
    def forward_cached(self, ids, cache):
        """Logits (N, T, V) of new tokens ``ids`` (N, T) following the cached positions."""
        self._check_ids(ids, cache.length)
        x = self.position(self.token_embedding(ids), offset=cache.length).data
        for index, layer in enumerate(self.transformer.layers):
            x = encoder_layer(layer, x, cache=cache, index=index)
        cache.length += ids.shape[1]
        head = self.lm_head
        return Tensor(linear(layer_norm(x, self.transformer.norm), head.weight, head.bias))

    def example_input(self, batch_size=1, steps=16):
        return Tensor(np.zeros((batch_size, min(steps, self.block_size)), np.int64))


def gpt_mini(vocab_size=256, block_size=128, n_layer=4, n_head=4, d_model=128,
             dim_feedforward=None, dropout=0.1, positional="learned", tie_weights=True,
             num_classes=None, in_channels=None, image_size=None):
    return GPTMini(vocab_size, block_size, n_layer, n_head, d_model, dim_feedforward, dropout,
                   positional, tie_weights)
