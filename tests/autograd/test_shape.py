"""reshape, view, permute, transpose, flatten, indexing, cat, stack, expand, repeat, flip, split."""
import numpy as np
import pytest
import torch

import layerwise as lw
from tests.helpers import assert_gradcheck, assert_matches_torch, random

CASES = {
    "reshape": lambda t: t.reshape(4, 6),
    "view_minus_one": lambda t: t.view(-1, 3),
    "view_tuple": lambda t: t.view((2, 12)),
    "transpose": lambda t: t.transpose(0, 2),
    "permute": lambda t: t.permute(2, 0, 1),
    "T_of_2d": lambda t: t.reshape(6, 4).T,
    "flatten": lambda t: t.flatten(),
    "flatten_from_1": lambda t: t.flatten(1),
    "squeeze_unsqueeze": lambda t: t.unsqueeze(1).unsqueeze(-1).squeeze(),
    "squeeze_dim": lambda t: t.reshape(2, 1, 12).squeeze(1),
    "expand": lambda t: t[:, :1, :].expand(2, 3, 4),
    "expand_new_dims": lambda t: t[0, 0].expand(5, 4),
    "repeat": lambda t: t.repeat(2, 1, 3),
    "repeat_more_dims": lambda t: t[0].repeat(2, 2, 1),
    "flip": lambda t: t.flip((0, 2)),
    "basic_index": lambda t: t[1, :, 1:3],
    "negative_step_free_slice": lambda t: t[:, ::2],
    "ellipsis_none": lambda t: t[..., None, 2],
    "int_array_with_repeats": lambda t: t[[0, 1, 0, 0]],
    "int_arrays_pairs": lambda t: t[[0, 1, 1], [2, 0, 2]],
    "bool_mask": lambda t: t[t > 0],
}


@pytest.mark.parametrize("name", CASES)
def test_shape_op_matches_torch(name):
    fn = CASES[name]
    x = random(2, 3, 4)
    assert_matches_torch(fn, fn, x)
    assert_gradcheck(fn, x)


def test_index_with_a_tensor():
    x = random(5, 3)
    idx = np.array([4, 0, 4])
    assert_matches_torch(lambda t, i: t[i], lambda t, i: t[i], x, idx)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    a, b, c = random(2, 3, seed=1), random(2, 3, seed=2), random(2, 3, seed=3)
    assert_matches_torch(lambda *ts: lw.stack(ts, dim), lambda *ts: torch.stack(ts, dim), a, b, c)
    b2 = random(2, 3, seed=4) if dim == 0 else b
    assert_matches_torch(lambda *ts: lw.cat(ts, dim), lambda *ts: torch.cat(ts, dim), a, b2, c)
    assert_gradcheck(lambda *ts: lw.cat(ts, dim), a, b2, c)
    assert_gradcheck(lambda *ts: lw.stack(ts, dim), a, b, c)


def test_cat_of_different_sizes_along_dim():
    a, b = random(2, 3, seed=1), random(2, 5, seed=2)
    assert_matches_torch(lambda x, y: lw.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1), a, b)


def test_cat_mismatch_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"tensor 0 has shape \(2, 3\), tensor 1 has shape \(3, 4\)"):
        lw.cat([lw.zeros(2, 3), lw.zeros(3, 4)], dim=1)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        lw.stack([lw.zeros(2, 3), lw.zeros(2, 4)])


@pytest.mark.parametrize("how", ["split_int", "split_list", "chunk", "unbind"])
def test_split_chunk_unbind(how):
    x = random(7, 3)
    fns = {
        "split_int": (lambda t: lw.split(t, 3), lambda t: torch.split(t, 3)),
        "split_list": (lambda t: t.split([2, 5]), lambda t: t.split([2, 5])),
        "chunk": (lambda t: t.chunk(3), lambda t: t.chunk(3)),
        "unbind": (lambda t: lw.unbind(t, 1), lambda t: torch.unbind(t, 1)),
    }
    assert_matches_torch(*fns[how], x)


def test_invalid_reshape_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"shape \[5, -1\] is invalid for input of size 24"):
        lw.zeros(2, 3, 4).reshape(5, -1)


def test_view_shares_memory_like_torch():
    x = lw.zeros(2, 3)
    v = x.view(6)
    v[0] = 5.0
    assert x[0, 0].item() == 5.0
