"""Datasets: anything with ``len(ds)`` and ``ds[i]``; array datasets also index whole batches.

``ArrayDataset(X, y)`` keeps the arrays once in memory; ``ds[indices]`` (or
``ds.__getitems__(indices)``, PyTorch's batched-fetch hook) returns a batch with
one fancy-indexing copy per array, so an epoch copies each sample once, never the
whole dataset.
"""
import numpy as np


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self):  # pragma: no cover - interface
        raise NotImplementedError

    def __getitem__(self, index):  # pragma: no cover - interface
        raise NotImplementedError


class ArrayDataset(Dataset):
    """Samples are the rows of equal-length arrays: ``ds[i] = (X[i], y[i], ...)``."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array")
        arrays = tuple(a.data if hasattr(a, "grad") else np.asarray(a) for a in arrays)
        n = len(arrays[0])
        for k, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"ArrayDataset: array {k} has {len(a)} rows, array 0 has {n}")
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        items = tuple(a[index] for a in self.arrays)
        return items if len(items) > 1 else items[0]

    def __getitems__(self, indices):
        indices = np.asarray(indices)
        items = tuple(a[indices] for a in self.arrays)
        return items if len(items) > 1 else items[0]


TensorDataset = ArrayDataset


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        return fetch(self.dataset, self.indices[np.asarray(indices)])


def fetch(dataset, indices):
    """A batch from ``dataset``: batched when it can, else sample by sample, collated."""
    if hasattr(dataset, "__getitems__"):
        return dataset.__getitems__(indices)
    return default_collate([dataset[int(i)] for i in indices])


def default_collate(samples):
    """Stack a list of samples (arrays, numbers or tuples of them) into batch arrays."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([s[k] for s in samples]) for k in range(len(first)))
    return np.stack([np.asarray(s.data if hasattr(s, "grad") else s) for s in samples])


def random_split(dataset, lengths, seed=0):
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not sum to the dataset "
                         f"size {n}")
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + list(lengths))
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
