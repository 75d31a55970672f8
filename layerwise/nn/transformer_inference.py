"""The transformer layers' inference fast path: the same arithmetic on plain arrays.

In evaluation mode with gradients off, a ``TransformerEncoderLayer`` needs none of the
graph bookkeeping, and at the sizes of small models (gpt-mini: 64 positions x 128
features) that bookkeeping costs as much as the arithmetic: a Tensor, a Function node
and a module call per op, two dozen per layer. PyTorch takes such a "fast path" too
(``torch._transformer_encoder_layer_fwd``, used under the same conditions). Here:

    pre-norm:  x = x + W_O Attn(LN₁(x)) + b_O;   x = x + FF(LN₂(x))
    post-norm: x = LN₁(x + W_O Attn(x) + b_O);   x = LN₂(x + FF(x))
    Attn(h) = [softmax(Q_i K_iᵀ / √d + M) V_i]_i,  [Q K V] = h W_inᵀ + b_in (one GEMM)
    FF(h) = W₂ act(W₁ h + b₁) + b₂    (act: ReLU or GELU in one compiled pass)

with dropout absent (evaluation). ``encoder_layer`` also serves generation with a
key/value cache (``models.gpt``): the new positions' keys and values are appended to
the cache and the queries attend over all of them.
"""
import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend.blas import matmul
from .functional.attention import MultiHeadAttentionCore, additive_mask, causal_mask
from .functional.feed_forward import _gelu_ as gelu_
from .functional.normalization import LayerNorm


def applies(layer, x, mask, padding_mask):
    """True when ``layer``'s forward on Tensor ``x`` may take the fast path: evaluation
    mode, no gradient to record, one packed in-projection, no extra keys, batched input,
    no mask or an (L, L) one (anything else goes the graph path, whose checks explain
    what does not fit)."""
    attention = layer.self_attn
    if layer.training or (is_grad_enabled() and (x.requires_grad or any(
            p.requires_grad for p in layer.parameters()))):
        return False
    if not (padding_mask is None and attention._qkv_same_embed_dim and attention.bias_k is None
            and not attention.add_zero_attn and x.dtype.kind == "f"
            and x.dtype == attention.in_proj_weight.dtype and x.ndim == 3):
        return False
    length = x.shape[1] if attention.batch_first else x.shape[0]
    return mask is None or np.shape(getattr(mask, "data", mask)) == (length, length)


def layer_norm(x, norm):
    """LN over the last axis of an ndarray: (x - μ) / √(σ² + ε) · γ + β (the op's own
    forward, compiled where it can be, without a graph node)."""
    op = LayerNorm()
    op.needs_input_grad = (False,) * 3
    return op.forward(x, None if norm.weight is None else norm.weight.data,
                      None if norm.bias is None else norm.bias.data, 1, norm.eps)


def linear(x, weight, bias):
    """x Wᵀ + b on the rows of an ndarray (*, in) -> (*, out)."""
    rows = x.reshape(-1, x.shape[-1])
    out = matmul(rows, weight.data.T)
    if bias is not None:
        out += bias.data
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


def feed_forward(layer, x):
    """W₂ act(W₁ x + b₁) + b₂ with the layer's activation (no dropout: evaluation)."""
    hidden = linear(x, layer.linear1.weight, layer.linear1.bias)
    if layer._fused == "relu":
        np.maximum(hidden, 0, out=hidden)
    elif layer._fused == "gelu":
        gelu_(hidden, hidden, "none")             # in place (compiled where it can be)
    else:                                  # any other callable, through its tensor op
        hidden = layer.activation(Tensor(hidden)).data
    return linear(hidden, layer.linear2.weight, layer.linear2.bias)


def self_attention(attention, h, mask, cache=None, index=0):
    """W_O Attn(h) + b_O of (N, L, E) or (L, N, E) ``h``; ``mask`` additive (L, S) or None.

    With a ``cache`` (batch first), the new keys and values join the cached ones first."""
    e, batch_first = attention.embed_dim, attention.batch_first
    qkv = linear(h, attention.in_proj_weight, attention.in_proj_bias)          # [Q K V]
    core = MultiHeadAttentionCore()
    core.needs_input_grad = (False,) * 4
    if cache is None:
        out = core.forward(qkv, None, None, mask, num_heads=attention.num_heads,
                           batch_first=batch_first)
    else:
        keys, values = cache.append(index, qkv[..., e:2 * e], qkv[..., 2 * e:])
        out = core.forward(qkv[..., :e], keys, values, mask, num_heads=attention.num_heads,
                           batch_first=True)
    return linear(out, attention.out_proj.weight, attention.out_proj.bias)


def encoder_layer(layer, x, mask=None, cache=None, index=0):
    """One ``TransformerEncoderLayer`` in evaluation on ndarray x -> ndarray (formulas above).

    ``mask``: an additive float (L, S) array, a boolean one (True = masked out, as in
    ``MultiheadAttention``) or None; with a ``cache`` and no mask, the causal mask of
    the new positions against all cached ones is used (none for one new position)."""
    if mask is not None and mask.dtype == np.bool_:
        mask = additive_mask(mask, x.dtype, allowed_when_true=False)
    if cache is not None and mask is None and x.shape[1] > 1:
        mask = causal_mask(x.shape[1], cache.length + x.shape[1], x.dtype, cache.length)
    attend = lambda h: self_attention(layer.self_attn, h, mask, cache, index)  # noqa: E731
    if layer.norm_first:
        x = x + attend(layer_norm(x, layer.norm1))
        x += feed_forward(layer, layer_norm(x, layer.norm2))
        return x
    x = layer_norm(x + attend(x), layer.norm1)
    return layer_norm(x + feed_forward(layer, x), layer.norm2)
