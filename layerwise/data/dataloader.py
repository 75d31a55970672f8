"""``DataLoader``: mini-batches of a dataset, shuffled per epoch, reproducibly.

Each epoch draws its order from a generator seeded by ``(seed, epoch)``, so a run
restarted at epoch k sees exactly the batches an uninterrupted run would (the
basis of ``--resume``). A batch is fetched with one indexing operation when the
dataset supports it (``__getitems__``), then the optional ``transform`` (e.g.
augmentation) is applied to the inputs of the whole batch at once.
"""
import numpy as np

from ..autograd.random import get_rng
from ..autograd.tensor import Tensor
from .dataset import fetch


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (PyTorch's argument names).

    ``transform(inputs, rng)`` runs on the first element of each batch (the inputs)
    when given; ``sampler`` (an iterable of indices with ``set_epoch``), if given,
    replaces the built-in shuffling (used for distributed training).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 transform=None, sampler=None, collate_fn=None, as_tensors=True):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        if seed is None:  # only random loaders draw a seed (from lw.manual_seed's generator)
            seed = get_rng().integers(2 ** 31) if (shuffle or transform is not None) else 0
        self.seed = int(seed)
        self.transform, self.sampler, self.collate_fn = transform, sampler, collate_fn
        self.as_tensors = as_tensors
        self.epoch = 0
        self._epoch_set = False

    def set_epoch(self, epoch):
        """Fix the epoch number (which selects the shuffling order) of the next iteration."""
        self.epoch, self._epoch_set = int(epoch), True
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def _indices(self, rng):
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if not self._epoch_set and getattr(self, "_started", False):
            self.epoch += 1
        self._started, self._epoch_set = True, False
        rng = np.random.default_rng([self.seed, self.epoch])
        order = self._indices(rng)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            index = order[start:start + self.batch_size]
            if self.collate_fn is not None:
                batch = self.collate_fn([self.dataset[int(i)] for i in index])
            else:
                batch = fetch(self.dataset, index)
            single = not isinstance(batch, tuple)
            batch = (batch,) if single else batch
            if self.transform is not None:
                batch = (self.transform(batch[0], rng),) + tuple(batch[1:])
            if self.as_tensors:
                batch = tuple(b if isinstance(b, Tensor) else Tensor(np.asarray(b)) for b in batch)
            yield batch[0] if single else batch
