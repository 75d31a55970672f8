"""Batching: sizes, drop_last, seeded shuffling, no whole-dataset copies, transforms."""
import numpy as np
import pytest

from layerwise.data import ArrayDataset, DataLoader, Subset, random_split


def _dataset(n=10):
    return ArrayDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


def test_batches_cover_the_dataset_in_order_without_shuffle():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = [y.numpy().tolist() for _, y in loader]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(loader) == 3


def test_drop_last():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert [len(y) for _, y in loader] == [4, 4] and len(loader) == 2


def test_shuffle_is_a_permutation_reproducible_from_the_seed_and_changes_per_epoch():
    a = DataLoader(_dataset(50), batch_size=7, shuffle=True, seed=3)
    b = DataLoader(_dataset(50), batch_size=7, shuffle=True, seed=3)
    epoch0 = np.concatenate([y.numpy() for _, y in a])
    assert sorted(epoch0.tolist()) == list(range(50))
    np.testing.assert_array_equal(epoch0, np.concatenate([y.numpy() for _, y in b]))
    epoch1 = np.concatenate([y.numpy() for _, y in a])
    assert not np.array_equal(epoch0, epoch1)
    b.set_epoch(1)  # a resumed run jumps straight to epoch 1 and sees the same order
    np.testing.assert_array_equal(epoch1, np.concatenate([y.numpy() for _, y in b]))


def test_batches_are_fetched_with_one_indexing_call_per_array():
    calls = []

    class Counting(ArrayDataset):
        def __getitems__(self, indices):
            calls.append(len(indices))
            return super().__getitems__(indices)

        def __getitem__(self, index):
            raise AssertionError("per-sample access: the loader should fetch whole batches")

    list(DataLoader(Counting(np.zeros((9, 2)), np.zeros(9)), batch_size=4))
    assert calls == [4, 4, 1]


def test_samples_are_not_copied_beyond_their_batch():
    data = np.zeros((1000, 3), np.float32)
    ds = ArrayDataset(data, np.zeros(1000))
    assert ds.arrays[0] is data or np.shares_memory(ds.arrays[0], data)


def test_plain_datasets_are_collated():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], np.float32), i

    (x, y), = list(DataLoader(Squares(), batch_size=5))
    assert x.shape == (5, 2) and y.numpy().tolist() == [0, 1, 2, 3, 4]


def test_transform_sees_whole_batches_and_the_loader_rng():
    seen = []

    def t(x, rng):
        seen.append(x.shape)
        return x + rng.random()

    a = [x.numpy().copy() for x, _ in DataLoader(_dataset(8), 4, transform=t, seed=1)]
    b = [x.numpy().copy() for x, _ in DataLoader(_dataset(8), 4, transform=t, seed=1)]
    assert seen[:2] == [(4, 1), (4, 1)]
    np.testing.assert_array_equal(a[0], b[0])


def test_random_split_and_subset():
    train, val = random_split(_dataset(10), [0.8, 0.2], seed=0)
    assert len(train) == 8 and len(val) == 2
    all_y = sorted(np.concatenate([train[:][1], val[:][1]]).tolist())
    assert all_y == list(range(10))
    sub = Subset(_dataset(10), [9, 3])
    assert [y.item() for _, y in DataLoader(sub, 1)] == [9, 3]
    with pytest.raises(ValueError, match="do not sum"):
        random_split(_dataset(10), [3, 3])


def test_mismatched_array_lengths_are_rejected():
    with pytest.raises(ValueError, match="array 1 has 3 rows, array 0 has 4"):
        ArrayDataset(np.zeros(4), np.zeros(3))
