"""Multi-head attention as one function (PyTorch's ``F.multi_head_attention_forward``).

    Q = query W_Qᵀ + b_Q,  K = key W_Kᵀ + b_K,  V = value W_Vᵀ + b_V
    head_i = softmax(Q_i K_iᵀ / √d + M) V_i        (d = E / num_heads, i = 1..h)
    out = [head_1 … head_h] W_Oᵀ + b_O

W_Q, W_K, W_V are the three (E, E) blocks of ``in_proj_weight`` (3E, E) — one GEMM
projects all three when query, key and value are the same tensor (self-attention), two
when key is value (encoder-decoder attention) — or ``q_proj_weight`` (E, E),
``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when the inputs' sizes differ.

Masks (PyTorch's conventions): ``attn_mask`` (L, S) or (N·h, L, S), boolean (True =
*not allowed* to attend) or float (added to the scores); ``key_padding_mask`` (N, S)
(True or -inf = a padding key nobody attends to). Both are merged into one additive
mask broadcast over (N, h, L, S). ``bias_k``/``bias_v`` append one learned key/value,
``add_zero_attn`` one zero key/value, to every sequence.
Returns (output, weights): weights (N, L, S) averaged over heads, or (N, h, L, S), or
None without ``need_weights``; they are the weights applied to V (after dropout).
"""
import numpy as np

from ...autograd import ops
from ...autograd.tensor import Tensor
from .attention import additive_mask, multi_head_attention_core, scaled_dot_product_attention
from .feed_forward import activation_dropout
from .linear import linear

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention", "activation_dropout"]


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _mask_values(mask, dtype, layer, what):
    """The additive form of a MultiheadAttention mask (a Tensor when it needs gradients)."""
    if isinstance(mask, Tensor) and mask.requires_grad and mask.data.dtype.kind == "f":
        if mask.data.dtype != dtype:
            raise TypeError(f"{layer}: {what} dtype {mask.data.dtype} does not match the "
                            f"query's {dtype}")
        return mask
    return Tensor(additive_mask(mask, dtype, allowed_when_true=False, layer=f"{layer} {what}"))


def merged_mask(attn_mask, key_padding_mask, n, heads, length, source, dtype, layer):
    """attn_mask and key_padding_mask as one additive tensor broadcastable to (N, h, L, S)."""
    total = None
    if attn_mask is not None:
        shape = tuple(attn_mask.shape)
        if shape == (length, source):
            view = (1, 1, length, source)
        elif shape == (n * heads, length, source):
            view = (n, heads, length, source)
        else:
            raise RuntimeError(
                f"{layer}: attn_mask has shape {_shape_text(shape)}, expected (L, S) = "
                f"{_shape_text((length, source))} or (N·num_heads, L, S) = "
                f"{_shape_text((n * heads, length, source))}")
        total = ops.reshape(_mask_values(attn_mask, dtype, layer, "attn_mask"), view)
    if key_padding_mask is not None:
        shape = tuple(key_padding_mask.shape)
        if shape != (n, source):
            raise RuntimeError(f"{layer}: key_padding_mask has shape {_shape_text(shape)}, "
                               f"expected (N, S) = {_shape_text((n, source))}")
        padding = ops.reshape(_mask_values(key_padding_mask, dtype, layer, "key_padding_mask"),
                              (n, 1, 1, source))
        total = padding if total is None else total + padding
    return total


def _append_keys(x, extra, batch_first):
    """x (N, S, E) or (S, N, E) with one more key/value per sequence: ``extra`` (1, 1, E)."""
    n = x.shape[0] if batch_first else x.shape[1]
    width = x.shape[-1]
    if batch_first:
        return ops.cat([x, ops.expand(extra, (n, 1, width))], dim=1)
    return ops.cat([x, ops.expand(extra, (1, n, width))], dim=0)


def _pad_mask(mask, columns):
    if mask is None:
        return None
    zeros = Tensor(np.zeros(tuple(mask.shape[:-1]) + (columns,), dtype=mask.data.dtype))
    return ops.cat([mask, zeros], dim=-1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False,
                                 batch_first=False, layer="multi_head_attention_forward"):
    """Multi-head attention of (L, N, E) inputs ((N, L, E) with ``batch_first``; (L, E)
    unbatched): (output like query, weights or None). See the module docstring."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{layer}: static_k / static_v are not supported")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{layer}: query, key and value must all be 3-D "
                           f"({'(N, L, E)' if batch_first else '(L, N, E)'}) or all 2-D "
                           f"(unbatched (L, E)), got shapes {_shape_text(query.shape)}, "
                           f"{_shape_text(key.shape)}, {_shape_text(value.shape)}")
    same_kv, self_attention = key is value, query is key and key is value
    if not batched:                                       # add the batch axis N = 1
        axis = 0 if batch_first else 1
        query = ops.unsqueeze(query, axis)
        key = query if self_attention else ops.unsqueeze(key, axis)
        value = key if same_kv else ops.unsqueeze(value, axis)
        if key_padding_mask is not None:                  # (S,) -> (1, S)
            key_padding_mask = ops.unsqueeze(_as_tensor(key_padding_mask), 0)
    n_axis, t_axis = (0, 1) if batch_first else (1, 0)
    n, length, embed = query.shape[n_axis], query.shape[t_axis], query.shape[2]
    source = key.shape[t_axis]
    if embed != embed_dim_to_check:
        raise RuntimeError(f"{layer}: expected query with embed_dim {embed_dim_to_check} in "
                           f"its last dimension, got shape {_shape_text(query.shape)}")
    if key.shape[n_axis] != n or value.shape[n_axis] != n:
        raise RuntimeError(f"{layer}: query, key and value must have the same batch size N, "
                           f"got shapes {_shape_text(query.shape)}, {_shape_text(key.shape)}, "
                           f"{_shape_text(value.shape)}")
    if value.shape[t_axis] != source:
        raise RuntimeError(f"{layer}: key and value must have the same length S, got shapes "
                           f"{_shape_text(key.shape)} and {_shape_text(value.shape)}")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{layer}: is_causal is a hint that attn_mask is the causal mask; "
                           f"pass attn_mask too (e.g. nn.Transformer."
                           f"generate_square_subsequent_mask(L))")
    # ---- in-projection: one GEMM for self-attention, two when key is value
    e = embed
    b_q, b_k, b_v = ((None,) * 3 if in_proj_bias is None else
                     (in_proj_bias[0:e], in_proj_bias[e:2 * e], in_proj_bias[2 * e:]))
    q = k = v = None
    if not use_separate_proj_weight:
        if self_attention:
            q = linear(query, in_proj_weight, in_proj_bias)                  # [Q K V]
        elif same_kv:
            q = linear(query, in_proj_weight[0:e], b_q)
            k = linear(key, in_proj_weight[e:], None if in_proj_bias is None else
                       in_proj_bias[e:])                                     # [K V]
        else:
            q, k, v = (linear(x, in_proj_weight[a:b], bias) for x, a, b, bias in
                       ((query, 0, e, b_q), (key, e, 2 * e, b_k), (value, 2 * e, 3 * e, b_v)))
    else:
        q, k, v = (linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k),
                   linear(value, v_proj_weight, b_v))
    mask = merged_mask(attn_mask, key_padding_mask, n, num_heads, length, source,
                       query.dtype, layer)
    if bias_k is not None or add_zero_attn:               # extra keys: unpack, then append
        if k is None:
            q, k, v = q[..., :e], q[..., e:2 * e], q[..., 2 * e:]
        elif v is None:
            k, v = k[..., :e], k[..., e:]
        if bias_k is not None:
            k, v = _append_keys(k, bias_k, batch_first), _append_keys(v, bias_v, batch_first)
            mask = _pad_mask(mask, 1)
        if add_zero_attn:
            zeros = Tensor(np.zeros((1, 1, e), dtype=query.dtype))
            k, v = _append_keys(k, zeros, batch_first), _append_keys(v, zeros, batch_first)
            mask = _pad_mask(mask, 1)
    out, weights = multi_head_attention_core(
        q, k, v, mask, num_heads=num_heads, batch_first=batch_first,
        dropout_p=dropout_p if training else 0.0, need_weights=need_weights)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = ops.squeeze(out, n_axis)
    if weights is None:
        return out, None
    if average_attn_weights:
        weights = ops.mean(weights, dim=1)                 # (N, L, S)
    return out, (weights if batched else ops.squeeze(weights, 0))
