"""Attention (Bahdanau et al., 2015; Vaswani et al., 2017): each query reads a weighted
average of the values, weighted by how well it matches each key.

**Scaled dot-product attention** of queries Q (L, E), keys K (S, E), values V (S, Ev):

    A = softmax(Q Kᵀ · s + M)   (row-wise, s = 1/√E unless ``scale`` is given)
    out = A V

M is an additive mask, 0 where query i may look at key j and -inf where it may not
(a boolean mask is turned into one; ``is_causal`` is the lower triangle: query i sees
keys j <= i). A query that may look nowhere gets zero weights (PyTorch's rule for
``scaled_dot_product_attention``). With dropout, A is replaced by P = A ⊙ D / (1 - p),
D ~ Bernoulli(1 - p), before it meets V. Backward, with G = dL/d(out):

    dV = Pᵀ G,   dP = G Vᵀ,   dA = dP ⊙ D / (1 - p),
    dZ = A ⊙ (dA - rowsum(dA ⊙ A))            (the softmax Jacobian, Z = Q Kᵀ s + M)
    dQ = s · dZ K,   dK = s · dZᵀ Q,   dM = dZ summed over the axes M was broadcast along.

Each is one ``Function`` over all batch items (and heads) at once: two batched GEMMs
forward and four backward, the softmax and its backward in place on one buffer (rows
split over the cores), the dropout mask saved for backward.

**Multi-head attention** (:class:`MultiHeadAttentionCore`): h heads, head i attending
with its own slice of width d = E/h of the projected queries, keys and values:

    head_i = Attention(Q_i, K_i, V_i),   out = [head_1, ..., head_h]   (then W_O, outside)

The projections arrive as (N, L, E) (batch first) or (L, N, E) arrays — or packed, one
(…, 3E) array [Q K V] from a single in-projection GEMM — and the heads are strided views
of them, (N, h, L, d), that BLAS reads in place: no transposed copies either way; the
heads' outputs are written straight into the merged (…, E) layout, and the gradients
straight into the packed layout.
"""
import math

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend.broadcast import unbroadcast
from ...backend.parallel import MIN_SIZE, for_each_chunk
from .activation import exp_shift, sum_keepdims
from .feed_forward import keep_mask
from .recurrent_base import FinalState
from ...backend.blas import matmul
from ...backend import jit_softmax

__all__ = ["scaled_dot_product_attention"]


# ------------------------------------------------------------------ the arithmetic
def softmax_rows_(scores):
    """In place along the last axis of a C-contiguous array: row-wise softmax, rows split
    over the cores; a row that is all -inf (fully masked) becomes zeros."""
    width = scores.shape[-1]
    rows = scores.reshape(-1, width)
    lowest = np.finfo(scores.dtype).min
    compiled = jit_softmax.usable(rows)

    def work(start, stop):
        block = rows[start:stop]
        if compiled:                                   # the row passes compiled
            jit_softmax.softmax_rows_(block)
            return
        shift = exp_shift(block, 1)
        if np.ndim(shift):
            np.maximum(shift, lowest, out=shift)      # a fully masked row: -inf - lowest
        block -= shift
        np.exp(block, out=block)
        total = sum_keepdims(block, 1)
        total[total == 0] = 1                          # ... exp() gave zeros: keep them
        block /= total

    for_each_chunk(work, len(rows), max(1, MIN_SIZE // width))
    return scores


def softmax_backward_(grad, probs):
    """In place: grad <- probs ⊙ (grad - rowsum(grad ⊙ probs)), rows over the cores."""
    width = grad.shape[-1]
    g_rows, p_rows = grad.reshape(-1, width), probs.reshape(-1, width)

    def work(start, stop):
        g, p = g_rows[start:stop], p_rows[start:stop]
        dot = np.einsum("ij,ij->i", g, p)
        g -= dot[:, None]
        g *= p

    for_each_chunk(work, len(g_rows), max(1, MIN_SIZE // width))
    return grad


def masked_scaled(x, keep, scale, out=None):
    """x ⊙ keep · scale (C-contiguous arrays of one shape), over the cores."""
    out = np.empty_like(x) if out is None else out
    flat_x, flat_keep, flat_out = x.reshape(-1), keep.reshape(-1), out.reshape(-1)
    factor = x.dtype.type(scale)

    def work(a, b):
        np.multiply(flat_x[a:b], flat_keep[a:b], out=flat_out[a:b])
        flat_out[a:b] *= factor

    for_each_chunk(work, flat_x.size, MIN_SIZE)
    return out


def attention_forward(q, k, v, mask, scale, dropout_p, out=None, keep_saved=True):
    """(out, saved) of softmax(q kᵀ·scale + mask) v on (…, L, E) arrays (views are fine).

    ``out`` (optional) is where the result goes (any strided view BLAS accepts).
    ``saved`` holds what :func:`attention_backward` needs (or None), and the weights
    actually applied to v (after dropout) under ``"weights"``.
    """
    q_scaled = q * q.dtype.type(scale)                 # contiguous, reused by backward
    scores = matmul(q_scaled, np.swapaxes(k, -1, -2))
    if mask is not None:
        scores += mask
    probs = softmax_rows_(scores)
    weights, keep = probs, None
    if dropout_p > 0:
        keep = keep_mask(probs.shape, dropout_p)
        weights = masked_scaled(probs, keep, 1.0 / (1.0 - dropout_p))
    out = matmul(weights, v, out=out)
    saved = {"weights": weights}
    if keep_saved:
        saved.update(q_scaled=q_scaled, k=k, v=v, probs=probs, keep=keep, scale=scale,
                     dropout_p=dropout_p)
    return out, saved


def attention_backward(saved, g, weights_grad=None, outs=(None, None, None), need=(1, 1, 1),
                       need_mask=False):
    """(dq, dk, dv, d_scores) for the output gradient ``g`` (and the weights' own gradient).

    ``outs`` are optional arrays to write dq, dk, dv into; ``need`` says which to compute.
    ``d_scores`` (the gradient of the masked, scaled scores) is returned if ``need_mask``.
    """
    weights, probs = saved["weights"], saved["probs"]
    dv = matmul(np.swapaxes(weights, -1, -2), g, out=outs[2]) if need[2] else None
    if not (need[0] or need[1] or need_mask):
        return None, None, dv, None
    d_probs = matmul(g, np.swapaxes(saved["v"], -1, -2))
    if weights_grad is not None:
        d_probs += weights_grad
    if saved["keep"] is not None:
        masked_scaled(d_probs, saved["keep"], 1.0 / (1.0 - saved["dropout_p"]), out=d_probs)
    d_scores = softmax_backward_(d_probs, probs)
    dq = dk = None
    if need[0]:
        dq = matmul(d_scores, saved["k"], out=outs[0])
        dq *= dq.dtype.type(saved["scale"])
    if need[1]:
        dk = matmul(np.swapaxes(d_scores, -1, -2), saved["q_scaled"], out=outs[1])
    return dq, dk, dv, (d_scores if need_mask else None)


# ------------------------------------------------------------------ F.scaled_dot_product_attention
class ScaledDotProductAttention(Function):
    """softmax(Q Kᵀ·s + M) V over any leading (batch, head) axes; see the module docstring."""

    def forward(self, q, k, v, mask=None, scale=1.0, dropout_p=0.0):
        out, saved = attention_forward(q, k, v, mask, scale, dropout_p,
                                       keep_saved=any(self.needs_input_grad))
        if any(self.needs_input_grad):
            self.saved = saved
            self.shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        return out

    def backward(self, g):
        need_q, need_k, need_v, need_mask = self.needs_input_grad
        dq, dk, dv, dm = attention_backward(self.saved, g, need=(need_q, need_k, need_v),
                                            need_mask=need_mask)
        shapes = self.shapes
        grads = [None if d is None else unbroadcast(d, s) for d, s in zip((dq, dk, dv, dm), shapes)]
        return tuple(grads)


def additive_mask(mask, dtype, allowed_when_true, layer="attention"):
    """A boolean or float mask as the array added to the scores (0 or -inf for booleans).

    ``allowed_when_true``: True in a boolean mask means "may attend" (scaled_dot_product_
    attention's convention) or, if False, "masked out" (MultiheadAttention's)."""
    array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype == np.bool_:
        hidden = ~array if allowed_when_true else array
        return np.where(hidden, -np.inf, 0).astype(dtype)
    if array.dtype.kind != "f":
        raise TypeError(f"{layer}: masks must be boolean or floating point, got dtype "
                        f"{array.dtype}")
    if array.dtype != dtype:
        raise TypeError(f"{layer}: a float mask must have the dtype of the query ({dtype}), "
                        f"got {array.dtype}")
    return array


def causal_mask(length, source_length, dtype=np.float32, offset=0):
    """(L, S) additive mask: query i (at position offset + i) sees keys j <= offset + i."""
    return np.triu(np.full((length, source_length), -np.inf, dtype=dtype), k=1 + offset)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q Kᵀ / √E + M) V for query (…, L, E), key (…, S, E), value (…, S, Ev).

    ``attn_mask``: boolean (True = may attend) or float (added to the scores),
    broadcastable to (…, L, S). ``is_causal``: query i attends to keys j <= i (no
    ``attn_mask`` then). ``dropout_p`` drops attention weights (always, as PyTorch's
    functional form does; pass 0 in evaluation). ``enable_gqa``: key/value may have
    fewer heads (axis -3) than query, each shared by a group of query heads.
    Returns (…, L, Ev).
    """
    name = "scaled_dot_product_attention"
    q, k, v = query.data, key.data, value.data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"{name}: query, key and value need at least 2 dimensions (…, L, E), "
                           f"got shapes {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"{name}: query and key must have the same embedding size E, got "
                           f"{q.shape[-1]} (query {tuple(q.shape)}) and {k.shape[-1]} "
                           f"(key {tuple(k.shape)})")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{name}: key and value must have the same length S, got "
                           f"{k.shape[-2]} (key {tuple(k.shape)}) and {v.shape[-2]} "
                           f"(value {tuple(v.shape)})")
    if not q.dtype == k.dtype == v.dtype or q.dtype.kind != "f":
        raise TypeError(f"{name}: query, key and value must share one floating dtype, got "
                        f"{q.dtype}, {k.dtype}, {v.dtype}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1), got {dropout_p}")
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        key, value = _share_heads(name, key, q.shape[-3]), _share_heads(name, value, q.shape[-3])
        k, v = key.data, value.data
    length, source = q.shape[-2], k.shape[-2]
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{name}: the batch dimensions of query {tuple(q.shape)}, key "
                           f"{tuple(k.shape)} and value {tuple(v.shape)} do not broadcast") \
            from None
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{name}: pass either attn_mask or is_causal=True, not both")
        mask = Tensor(causal_mask(length, source, q.dtype))
    elif attn_mask is not None:
        full = tuple(batch) + (length, source)
        shape = tuple(np.shape(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask))
        try:
            fits = np.broadcast_shapes(shape, full) == full
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"{name}: attn_mask of shape {shape} does not broadcast to the "
                               f"attention weights' shape {full} (batch…, L, S)")
        values = additive_mask(attn_mask, q.dtype, allowed_when_true=True, layer=name)
        grad_mask = isinstance(attn_mask, Tensor) and attn_mask.requires_grad and \
            values is attn_mask.data
        mask = attn_mask if grad_mask else Tensor(values)
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, mask, scale=s,
                                           dropout_p=float(dropout_p))


def _share_heads(name, t, heads):
    """(…, Hk, S, E) -> (…, heads, S, E), each of the Hk heads repeated heads/Hk times."""
    hk = t.shape[-3]
    if heads % hk:
        raise RuntimeError(f"{name}: enable_gqa needs the query's {heads} heads to be a "
                           f"multiple of the key/value heads, got {hk}")
    lead, rest = tuple(t.shape[:-3]), tuple(t.shape[-2:])
    grouped = t.reshape(lead + (hk, 1) + rest).expand(*(lead + (hk, heads // hk) + rest))
    return grouped.reshape(lead + (heads,) + rest)


# ------------------------------------------------------------------ multi-head core
def head_views(x, num_heads, batch_first, part=0, parts=1):
    """The heads of projected (N, L, parts·E) or (L, N, parts·E) as an (N, h, L, d) view."""
    if batch_first:
        n, length, width = x.shape
        view = x.reshape(n, length, parts, num_heads, width // parts // num_heads)[:, :, part]
        return view.transpose(0, 2, 1, 3)
    length, n, width = x.shape
    view = x.reshape(length, n, parts, num_heads, width // parts // num_heads)[:, :, part]
    return view.transpose(1, 2, 0, 3)


class MultiHeadAttentionCore(Function):
    """Attention of every head at once on projected inputs (see the module docstring).

    Inputs: ``q`` (N, L, E) or (L, N, E) per ``batch_first``; ``k``, ``v`` likewise with S
    rows, or ``k`` = [K V] packed (…, 2E) with ``v`` None, or ``q`` = [Q K V] packed
    (…, 3E) with both None; ``mask`` an additive array broadcastable to (N, h, L, S) or
    None. Output: the heads merged, in ``q``'s layout, (…, E). With ``side`` (a dict),
    the weights applied to V, (N, h, L, S), are put in ``side["weights"]`` for a
    :class:`FinalState` node.
    """

    def forward(self, q, k=None, v=None, mask=None, num_heads=1, batch_first=True,
                scale=None, dropout_p=0.0, side=None):
        heads, bf = num_heads, batch_first
        if k is None:
            qv, kv, vv = (head_views(q, heads, bf, i, 3) for i in range(3))
            self.layout = "qkv"
        elif v is None:
            qv = head_views(q, heads, bf)
            kv, vv = head_views(k, heads, bf, 0, 2), head_views(k, heads, bf, 1, 2)
            self.layout = "q,kv"
        else:
            qv, kv, vv = (head_views(x, heads, bf) for x in (q, k, v))
            self.layout = "q,k,v"
        n, _, length, _ = qv.shape
        dv = vv.shape[-1]
        merged = np.empty((n, length, heads, dv) if bf else (length, n, heads, dv), q.dtype)
        out_view = merged.transpose(0, 2, 1, 3) if bf else merged.transpose(1, 2, 0, 3)
        scale = 1.0 / math.sqrt(qv.shape[-1]) if scale is None else scale
        needs = any(self.needs_input_grad)
        _, saved = attention_forward(qv, kv, vv, mask, scale, dropout_p, out=out_view,
                                     keep_saved=needs)
        if side is not None:
            side["weights"] = saved["weights"]
        if needs:
            self.saved, self.heads, self.batch_first = saved, heads, bf
            self.shapes = (q.shape, None if k is None else k.shape,
                           None if v is None else v.shape, None if mask is None else mask.shape)
        return merged.reshape(merged.shape[:2] + (heads * dv,))

    def backward(self, g):
        need_q, need_k, need_v, need_mask = self.needs_input_grad
        heads, bf = self.heads, self.batch_first
        side_grads = self.__dict__.pop("final_grads", {})
        self.__dict__.pop("zero_output_grad", None)
        q_shape, k_shape, v_shape, mask_shape = self.shapes
        g_heads = head_views(np.ascontiguousarray(g), heads, bf)
        dtype = g.dtype
        if self.layout == "qkv":
            packed = np.empty(q_shape, dtype)
            outs = [head_views(packed, heads, bf, i, 3) for i in range(3)]
            need = (True, True, True)
        elif self.layout == "q,kv":
            dq_full = np.empty(q_shape, dtype) if need_q else None
            dkv_full = np.empty(k_shape, dtype) if need_k else None
            outs = [None if dq_full is None else head_views(dq_full, heads, bf),
                    None if dkv_full is None else head_views(dkv_full, heads, bf, 0, 2),
                    None if dkv_full is None else head_views(dkv_full, heads, bf, 1, 2)]
            need = (need_q, need_k, need_k)
        else:
            fulls = [np.empty(s, dtype) if n else None
                     for s, n in zip((q_shape, k_shape, v_shape), (need_q, need_k, need_v))]
            outs = [None if f is None else head_views(f, heads, bf) for f in fulls]
            need = (need_q, need_k, need_v)
        *_, d_scores = attention_backward(self.saved, g_heads, side_grads.get("weights"),
                                          outs, need, need_mask)
        d_mask = None if not need_mask else unbroadcast(d_scores, mask_shape)
        if self.layout == "qkv":
            return packed, None, None, d_mask
        if self.layout == "q,kv":
            return dq_full, dkv_full, None, d_mask
        return fulls[0], fulls[1], fulls[2], d_mask


def multi_head_attention_core(q, k=None, v=None, mask=None, num_heads=1, batch_first=True,
                              scale=None, dropout_p=0.0, need_weights=False):
    """(merged heads' output, weights (N, h, L, S) or None) — tensors; see the Function."""
    side = {} if need_weights else None
    out = MultiHeadAttentionCore.apply(q, k, v, mask, num_heads=num_heads,
                                       batch_first=batch_first, scale=scale,
                                       dropout_p=float(dropout_p), side=side)
    if not need_weights:
        return out, None
    return out, FinalState.apply(out, key="weights", value=side["weights"])
