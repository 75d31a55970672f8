"""nn.utils.rnn against PyTorch: pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpad/unpack, their gradients, and clear errors for lengths that do not fit."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise.nn.utils import rnn
from tests.helpers import assert_close, assert_gradcheck, random

T_RNN = torch.nn.utils.rnn


def sequences(lengths, features=(3,), seed=0):
    return [random(n, *features, seed=seed + i) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    arrays = sequences([2, 5, 1, 3], features=(2, 2))
    ours = rnn.pad_sequence([lw.tensor(a, requires_grad=True) for a in arrays], batch_first,
                            padding_value=-1.5, padding_side=padding_side)
    theirs = T_RNN.pad_sequence([torch.tensor(a) for a in arrays], batch_first,
                                padding_value=-1.5, padding_side=padding_side)
    assert_close(ours, theirs)


def test_pad_sequence_gradient_goes_back_to_each_sequence():
    def padded_sum(a, b, c):
        return rnn.pad_sequence([a, b, c], batch_first=True) * 2
    assert_gradcheck(padded_sum, *sequences([2, 4, 1]))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]),
                                                    (False, [2, 5, 1, 4, 5])])
def test_pack_and_pad_packed_match_torch(batch_first, enforce_sorted, lengths):
    batch, length = len(lengths), 6          # longer than the longest sequence
    x = random(*((batch, length, 3) if batch_first else (length, batch, 3)), seed=2)
    xl, xt = lw.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = rnn.pack_padded_sequence(xl, lengths, batch_first, enforce_sorted)
    theirs = T_RNN.pack_padded_sequence(xt, torch.tensor(lengths), batch_first, enforce_sorted)
    assert_close(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    if enforce_sorted:
        assert ours.sorted_indices is None and theirs.sorted_indices is None
    else:
        np.testing.assert_array_equal(ours.sorted_indices.numpy(), theirs.sorted_indices.numpy())
        np.testing.assert_array_equal(ours.unsorted_indices.numpy(),
                                      theirs.unsorted_indices.numpy())
    padded, out_lengths = rnn.pad_packed_sequence(ours, batch_first, padding_value=0.5,
                                                  total_length=7)
    t_padded, t_lengths = T_RNN.pad_packed_sequence(theirs, batch_first, padding_value=0.5,
                                                    total_length=7)
    assert_close(padded, t_padded)
    np.testing.assert_array_equal(out_lengths.numpy(), t_lengths.numpy())
    assert out_lengths.dtype == np.int64
    projection = random(*padded.shape, seed=9)
    (padded * lw.tensor(projection)).sum().backward()
    (t_padded * torch.from_numpy(projection)).sum().backward()
    assert_close(xl.grad, xt.grad)


def test_pack_sequence_unpack_sequence_and_unpad_round_trip():
    arrays = sequences([4, 2, 3])
    packed = rnn.pack_sequence([lw.tensor(a) for a in arrays], enforce_sorted=False)
    theirs = T_RNN.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    assert_close(packed.data, theirs.data)
    for ours, original in zip(rnn.unpack_sequence(packed), arrays):
        np.testing.assert_array_equal(ours.numpy(), original)
    padded = rnn.pad_sequence([lw.tensor(a) for a in arrays])
    for ours, original in zip(rnn.unpad_sequence(padded, [4, 2, 3]), arrays):
        np.testing.assert_array_equal(ours.numpy(), original)


def test_packed_sequence_is_a_named_tuple_with_pytorchs_fields():
    packed = rnn.pack_sequence([lw.tensor(random(3, 2)), lw.tensor(random(1, 2))])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert batch_sizes.tolist() == [2, 1, 1] and sorted_indices is None
    assert packed.double().data.dtype == np.float64
    rebuilt = rnn.PackedSequence(data, batch_sizes, lw.tensor([1, 0]))
    assert rebuilt.unsorted_indices.tolist() == [1, 0]


def test_lengths_that_do_not_fit_the_batch_are_clear_errors():
    x = lw.zeros(5, 3, 2)
    with pytest.raises(ValueError, match="got 2 lengths for a batch of 3 sequences"):
        rnn.pack_padded_sequence(x, [5, 4])
    with pytest.raises(ValueError, match="a length of 6 does not fit the padded input of 5"):
        rnn.pack_padded_sequence(x, [6, 4, 1])
    with pytest.raises(ValueError, match="every length must be at least 1"):
        rnn.pack_padded_sequence(x, [5, 0, 1])
    with pytest.raises(ValueError, match="must be sorted in decreasing order when "
                                         "enforce_sorted is True"):
        rnn.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(ValueError, match="lengths must be integers"):
        rnn.pack_padded_sequence(x, [2.5, 2, 1])
    packed = rnn.pack_padded_sequence(x, [5, 4, 1])
    with pytest.raises(ValueError, match="total_length to be at least 5"):
        rnn.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError, match="sequence 1 has shape"):
        rnn.pad_sequence([lw.zeros(3, 2), lw.zeros(3, 4)])
    with pytest.raises(ValueError, match="empty list"):
        rnn.pad_sequence([])
