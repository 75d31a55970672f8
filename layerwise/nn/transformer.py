"""The Transformer (Vaswani et al., 2017) with PyTorch's classes, arguments and keys.

An encoder layer is self-attention then a position-wise feed-forward network, each
inside a residual connection with layer normalization and dropout:

    post-norm (norm_first=False, the paper):  x = LN(x + SA(x));     x = LN(x + FF(x))
    pre-norm  (norm_first=True, GPT-2 style): x = x + SA(LN(x));     x = x + FF(LN(x))
    FF(x) = W₂ dropout(act(W₁x + b₁)) + b₂,   act = ReLU (default) or GELU

A decoder layer adds attention over the encoder's output ("memory") between the two:
x = LN(x + SA(x, tgt_mask)); x = LN(x + MHA(x, memory, memory)); x = LN(x + FF(x)).
``Transformer`` stacks N encoder and N decoder layers, each stack ending in a LayerNorm;
``Transformer.generate_square_subsequent_mask(L)`` is the causal mask (-inf above the
diagonal) that keeps position i of the decoder from seeing positions after i.

State-dict keys are PyTorch's (``layers.0.self_attn.in_proj_weight``, ``linear1.weight``,
``norm1.bias``, ``encoder.layers.0...``, ``decoder.norm.weight``), so a PyTorch
transformer's ``state_dict()`` loads as is.
"""
import copy

import numpy as np

from ..autograd.factories import tensor
from ..autograd.ops import relu
from ..autograd.tensor import Tensor
from . import functional as F
from . import init, transformer_inference
from .functional.attention import additive_mask
from .attention import MultiheadAttention
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _activation(activation, layer):
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"{layer}: activation should be relu/gelu, not {activation!r}")
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _check_features(layer, x, d_model, what):
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise RuntimeError(f"{layer}: expected {what} with d_model={d_model} features in its "
                           f"last dimension ((L, N, E), (N, L, E) or (L, E)), got shape "
                           f"{tuple(x.shape)}")


class _FeedForwardLayer(Module):
    """What encoder and decoder layers share: the feed-forward block and the options."""

    def _build_feed_forward(self, d_model, dim_feedforward, dropout, activation, bias, dtype):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        fn = _activation(activation, type(self).__name__)
        self._fused = {relu: "relu", F.gelu: "gelu"}.get(fn)   # act + dropout as one op
        if isinstance(fn, Module):
            self.activation = fn                 # a submodule, as in PyTorch
        else:
            object.__setattr__(self, "activation", fn)

    def _ff_block(self, x, last_dropout):
        hidden = self.linear1(x)
        if self._fused and self.dropout.p < 1:
            hidden = F.activation_dropout(hidden, self._fused, self.dropout.p, self.training)
        else:
            hidden = self.dropout(self.activation(hidden))
        return last_dropout(self.linear2(hidden))

    def _attention(self, attention, x, memory, mask, padding, is_causal, dropout):
        out = attention(x, memory, memory, attn_mask=mask, key_padding_mask=padding,
                        need_weights=False, is_causal=is_causal)[0]
        return dropout(out)


class TransformerEncoderLayer(_FeedForwardLayer):
    """Self-attention + feed-forward, PyTorch's ``nn.TransformerEncoderLayer``.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; src
    (S, N, E), (N, S, E) with ``batch_first``, or (S, E).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_heads(name, d_model, nhead)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.self_attn.name_in_errors = f"{name}.self_attn"
        self._build_feed_forward(d_model, dim_feedforward, dropout, activation, bias, dtype)
        self.norm_first, self.d_model, self.batch_first = norm_first, d_model, batch_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        _check_features(type(self).__name__, src, self.d_model, "src")
        if transformer_inference.applies(self, src, src_mask, src_key_padding_mask) and not (
                is_causal and src_mask is None):      # (the graph path explains that error)
            mask = None if src_mask is None else additive_mask(
                src_mask, src.dtype, allowed_when_true=False, layer=type(self).__name__)
            return Tensor(transformer_inference.encoder_layer(self, src.data, mask))
        x = src
        if self.norm_first:
            h = self.norm1(x)
            x = x + self._attention(self.self_attn, h, h, src_mask, src_key_padding_mask,
                                    is_causal, self.dropout1)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._attention(self.self_attn, x, x, src_mask,
                                               src_key_padding_mask, is_causal, self.dropout1))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x


class TransformerDecoderLayer(_FeedForwardLayer):
    """Self-attention, attention over the memory, feed-forward: ``nn.TransformerDecoderLayer``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_heads(name, d_model, nhead)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.self_attn.name_in_errors = f"{name}.self_attn"
        self.multihead_attn.name_in_errors = f"{name}.multihead_attn"
        self._build_feed_forward(d_model, dim_feedforward, dropout, activation, bias, dtype)
        self.norm_first, self.d_model, self.batch_first = norm_first, d_model, batch_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2, self.dropout3 = (Dropout(dropout), Dropout(dropout),
                                                       Dropout(dropout))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        name = type(self).__name__
        _check_features(name, tgt, self.d_model, "tgt")
        _check_features(name, memory, self.d_model, "memory")
        x = tgt
        if self.norm_first:
            h = self.norm1(x)
            x = x + self._attention(self.self_attn, h, h, tgt_mask, tgt_key_padding_mask,
                                    tgt_is_causal, self.dropout1)
            x = x + self._attention(self.multihead_attn, self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal, self.dropout2)
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._attention(self.self_attn, x, x, tgt_mask,
                                               tgt_key_padding_mask, tgt_is_causal,
                                               self.dropout1))
            x = self.norm2(x + self._attention(self.multihead_attn, x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal,
                                               self.dropout2))
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x


def _check_heads(layer, d_model, nhead):
    if nhead <= 0 or d_model % nhead:
        raise ValueError(f"{layer}: d_model must be divisible by nhead, got d_model={d_model} "
                         f"and nhead={nhead}")


def _clones(layer, count):
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


def _is_causal_mask(mask, size):
    """Whether ``mask`` is exactly the (size, size) causal mask (PyTorch's detection)."""
    if mask is None:
        return False
    values = np.asarray(getattr(mask, "data", mask))
    if values.shape != (size, size):
        return False
    expected = np.triu(np.ones((size, size), dtype=bool), k=1)
    if values.dtype == np.bool_:
        return bool((values == expected).all())
    return bool((np.isneginf(values) == expected).all() and (values[~expected] == 0).all())


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...), then ``norm``.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for compatibility (PyTorch's
    nested-tensor fast path skips padded positions in eval mode; here every position is
    computed, the non-padded ones identically).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        length = src.shape[1] if getattr(self.layers[0], "batch_first", False) and \
            src.ndim == 3 else src.shape[0]
        causal = is_causal if is_causal is not None else _is_causal_mask(mask, length)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=causal,
                        src_key_padding_mask=src_key_padding_mask)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer``, then ``norm``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        length = tgt.shape[1] if getattr(self.layers[0], "batch_first", False) and \
            tgt.ndim == 3 else tgt.shape[0]
        causal = tgt_is_causal if tgt_is_causal is not None else \
            _is_causal_mask(tgt_mask, length)
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=causal, memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """Encoder-decoder transformer, PyTorch's ``nn.Transformer`` (defaults of the paper's
    base model: d_model 512, 8 heads, 6 + 6 layers, feed-forward 2048, dropout 0.1).

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)`` -> like tgt.
    Weights with more than one dimension start Xavier-uniform, as in PyTorch.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, "
                               f"got src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                               f"(batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal "
                               f"to d_model={self.d_model}, got src {tuple(src.shape)} and "
                               f"tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (causal)."""
        dtype = np.dtype(dtype or np.float32)
        return tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1))
