"""Scaled dot-product attention and MultiheadAttention against PyTorch 2.13 (outputs,
attention weights, gradients of inputs and every parameter, masks of every kind,
batch_first both ways) and against float64 finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from layerwise.nn.functional.feed_forward import keep_mask
from tests.helpers import assert_close, assert_gradcheck, assert_matches_torch, random

rng = np.random.default_rng(0)


# ------------------------------------------------------------------ scaled_dot_product_attention
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_sdpa_matches_torch_for_any_batch_dims(batch):
    q, k = random(*batch, 4, 8, seed=1), random(*batch, 6, 8, seed=2)
    v = random(*batch, 6, 5, seed=3)
    assert_matches_torch(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v)


@pytest.mark.parametrize("mask_kind", ["bool", "float", "bool-broadcast", "causal", "scale"])
def test_sdpa_masks_match_torch(mask_kind):
    q, k, v = random(2, 3, 5, 8, seed=1), random(2, 3, 7, 8, seed=2), random(2, 3, 7, 4, seed=3)
    if mask_kind == "causal":
        assert_matches_torch(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                             lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, is_causal=True),
                             q, k, v)
        return
    if mask_kind == "scale":
        assert_matches_torch(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.3),
                             lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, scale=0.3),
                             q, k, v)
        return
    shape = (5, 7) if mask_kind == "bool-broadcast" else (2, 3, 5, 7)
    mask = rng.random(shape) > 0.3
    mask[..., 0] = True                                   # every query sees something
    if mask_kind == "float":
        mask = rng.standard_normal(shape).astype(np.float32)
    lw_fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=lw.tensor(mask))  # noqa: E731
    torch_fn = lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask))  # noqa: E731
    assert_matches_torch(lw_fn, torch_fn, q, k, v)


def test_sdpa_float_mask_gets_its_gradient():
    q, k, v = random(2, 4, 8, seed=1), random(2, 6, 8, seed=2), random(2, 6, 8, seed=3)
    mask = random(4, 6, seed=4)
    assert_matches_torch(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
                         lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, attn_mask=m),
                         q, k, v, mask)


def test_sdpa_fully_masked_query_gets_zeros_like_torch():
    q, k, v = random(1, 3, 4, seed=1), random(1, 5, 4, seed=2), random(1, 5, 4, seed=3)
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out, _ = assert_matches_torch(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=lw.tensor(mask)),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask)),
        q, k, v)
    assert not out[0].data[0, 1].any()


def test_sdpa_grouped_query_heads_match_torch():
    q, k, v = random(2, 4, 5, 8, seed=1), random(2, 2, 6, 8, seed=2), random(2, 2, 6, 8, seed=3)
    assert_matches_torch(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, enable_gqa=True), q, k, v)


def test_sdpa_gradcheck_with_mask():
    mask = np.zeros((3, 4))
    mask[0, 2:] = -np.inf
    assert_gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
                     random(2, 3, 5, seed=1), random(2, 4, 5, seed=2), random(2, 4, 3, seed=3),
                     mask, grad_mask=[True, True, True, False])


def test_sdpa_dropout_is_seeded_scaled_and_differentiable():
    q, k, v = random(2, 6, 4, seed=1), random(2, 6, 4, seed=2), random(2, 6, 4, seed=3)
    p = 0.4
    lw.manual_seed(5)
    out = F.scaled_dot_product_attention(lw.tensor(q), lw.tensor(k), lw.tensor(v), dropout_p=p)
    lw.manual_seed(5)
    keep = keep_mask((2, 6, 6), p)
    weights = torch.softmax(torch.tensor(q) @ torch.tensor(k).transpose(1, 2) / 2.0, dim=-1)
    expected = (weights * torch.tensor(keep) / (1 - p)) @ torch.tensor(v)
    assert_close(out, expected, atol=1e-5)

    def seeded(a, b, c):
        lw.manual_seed(5)
        return F.scaled_dot_product_attention(a, b, c, dropout_p=p)
    assert_gradcheck(seeded, q, k, v)


def test_keep_mask_rate_and_independence_of_threads():
    from layerwise.backend import parallel
    lw.manual_seed(0)
    a = keep_mask((600, 1000), 0.25)
    threads = parallel.get_num_threads()
    parallel.set_num_threads(1)
    try:
        lw.manual_seed(0)
        b = keep_mask((600, 1000), 0.25)
    finally:
        parallel.set_num_threads(threads)
    assert (a == b).all() and abs(a.mean() - 0.75) < 0.005


@pytest.mark.parametrize("call, message", [
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[..., :3], v), "same embedding size E"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v[:, :2]), "same length S"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=lw.tensor(np.ones((3, 3), bool))),
     "does not broadcast"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=lw.tensor(np.ones((4, 5), np.int64))),
     "boolean or floating point"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=lw.tensor(np.ones((4, 5))),
                                                    is_causal=True), "not both"),
])
def test_sdpa_bad_input_names_the_problem(call, message):
    q, k, v = (lw.tensor(random(2, n, 4, seed=i)) for i, n in enumerate((4, 5, 5)))
    with pytest.raises((RuntimeError, TypeError), match=message):
        call(q, k, v)


# ------------------------------------------------------------------ MultiheadAttention
def _pair(embed=8, heads=2, **options):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(embed, heads, **options)
    m = nn.MultiheadAttention(embed, heads, **options)
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()},
                      strict=True)
    return m, t


def _check_params(m, t):
    for name, tp in t.named_parameters():
        assert_close(dict(m.named_parameters())[name].grad, tp.grad, 1e-5, 1e-4, what=name)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("kind", ["self", "key-is-value", "separate", "unbatched"])
@pytest.mark.parametrize("average", [True, False])
def test_mha_matches_torch(batch_first, kind, average):
    m, t = _pair(batch_first=batch_first)
    shape = lambda length: (length, 8) if kind == "unbatched" else \
        ((3, length, 8) if batch_first else (length, 3, 8))  # noqa: E731
    x, mem, other = random(*shape(5), seed=1), random(*shape(7), seed=2), random(*shape(7), seed=3)
    if kind == "self":
        fns = (lambda a: m(a, a, a, average_attn_weights=average),
               lambda a: t(a, a, a, average_attn_weights=average))
        arrays = (x,)
    elif kind in ("key-is-value", "unbatched"):
        fns = (lambda a, b: m(a, b, b, average_attn_weights=average),
               lambda a, b: t(a, b, b, average_attn_weights=average))
        arrays = (x, mem)
    else:
        fns = (lambda a, b, c: m(a, b, c, average_attn_weights=average),
               lambda a, b, c: t(a, b, c, average_attn_weights=average))
        arrays = (x, mem, other)
    assert_matches_torch(*fns, *arrays)
    _check_params(m, t)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("masks", ["attn-bool", "attn-float", "attn-3d", "padding-bool",
                                   "padding-float", "both", "causal-hint"])
def test_mha_masks_match_torch(batch_first, masks):
    m, t = _pair(batch_first=batch_first)
    n, length = 3, 5
    x = random(*((n, length, 8) if batch_first else (length, n, 8)), seed=1)
    attn, padding, causal = None, None, False
    if masks in ("attn-bool", "both"):
        attn = np.triu(np.ones((length, length), bool), 1)
    if masks == "attn-float":
        attn = random(length, length, seed=4)
    if masks == "attn-3d":
        attn = rng.random((n * 2, length, length)) > 0.7
        attn[..., 0] = False
    if masks == "causal-hint":
        attn, causal = torch.nn.Transformer.generate_square_subsequent_mask(length).numpy(), True
    if masks.startswith("padding") or masks == "both":
        padding = np.zeros((n, length), bool)
        padding[1, 3:] = True
        padding[2, 4] = True
        if masks == "padding-float":
            padding = np.where(padding, -np.inf, 0).astype(np.float32)

    def wrap(lib, tensor):
        def fn(a):
            return (m if lib is lw else t)(
                a, a, a, key_padding_mask=None if padding is None else tensor(padding),
                attn_mask=None if attn is None else tensor(attn), is_causal=causal)
        return fn
    assert_matches_torch(wrap(lw, lw.tensor), wrap(torch, torch.tensor), x)
    _check_params(m, t)


@pytest.mark.parametrize("options", [dict(bias=False), dict(add_bias_kv=True),
                                     dict(add_zero_attn=True), dict(kdim=6, vdim=5),
                                     dict(add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=6)])
def test_mha_options_match_torch(options):
    m, t = _pair(batch_first=True, **options)
    assert list(m.state_dict()) == list(t.state_dict())
    x = random(2, 4, 8, seed=1)
    mem = random(2, 6, options.get("kdim", 8), seed=2)
    val = random(2, 6, options.get("vdim", 8), seed=3)
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    assert_matches_torch(lambda a, b, c: m(a, b, c, key_padding_mask=lw.tensor(padding)),
                         lambda a, b, c: t(a, b, c, key_padding_mask=torch.tensor(padding)),
                         x, mem, val)
    _check_params(m, t)


def test_mha_need_weights_false_and_eval_mode():
    m, t = _pair(batch_first=True, dropout=0.5)
    m.eval(), t.eval()
    x = random(2, 4, 8, seed=1)
    out, weights = m(lw.tensor(x), lw.tensor(x), lw.tensor(x), need_weights=False)
    assert weights is None
    assert_close(out, t(*(torch.tensor(x),) * 3, need_weights=False)[0], 1e-5, 1e-4)


def test_mha_dropout_in_training_drops_weights_and_keeps_their_mean():
    m, _ = _pair(embed=8, heads=1, batch_first=True, dropout=0.5)
    x = lw.tensor(random(4, 50, 8, seed=1))
    lw.manual_seed(0)
    _, weights = m(x, x, x)
    dropped = (weights.data == 0).mean()
    assert 0.45 < dropped < 0.55
    assert abs(weights.data.sum(-1).mean() - 1.0) < 0.05


def test_mha_gradcheck_float64():
    m = nn.MultiheadAttention(6, 3, batch_first=True, kdim=4, vdim=5).double()
    padding = np.zeros((2, 3), bool)
    padding[1, 2] = True

    def fn(q, k, v):
        out, weights = m(q, k, v, key_padding_mask=lw.tensor(padding), average_attn_weights=False)
        return out.sum() * 0.5 + (weights * weights).sum()
    assert_gradcheck(fn, random(2, 4, 6, seed=1), random(2, 3, 4, seed=2), random(2, 3, 5, seed=3))


@pytest.mark.parametrize("call, message", [
    (lambda: nn.MultiheadAttention(10, 3), r"embed_dim must be divisible by num_heads.*10.*3"),
    (lambda: _mha()(_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8), attn_mask=lw.tensor(np.zeros((4, 4)))),
     r"MultiheadAttention: attn_mask has shape \(4, 4\), expected \(L, S\) = \(5, 5\)"),
    (lambda: _mha()(_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8),
                    key_padding_mask=lw.tensor(np.zeros((5, 2), bool))),
     r"key_padding_mask has shape \(5, 2\), expected \(N, S\) = \(2, 5\)"),
    (lambda: _mha()(_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8),
                    attn_mask=lw.tensor(np.zeros((5, 5), np.int64))), r"boolean or floating"),
    (lambda: _mha()(_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8),
                    attn_mask=lw.tensor(np.zeros((5, 5), np.float64))), r"dtype of the query"),
    (lambda: _mha()(_x(2, 5, 6), _x(2, 5, 6), _x(2, 5, 6)), r"embed_dim 8"),
    (lambda: _mha()(_x(2, 5, 8), _x(2, 5, 8), _x(2, 5, 8), is_causal=True), r"is_causal"),
])
def test_mha_bad_input_names_layer_expected_and_actual(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=message):
        call()


def _mha():
    return nn.MultiheadAttention(8, 2, batch_first=True)


def _x(*shape):
    return lw.tensor(random(*shape))
