"""Samplers that give each rank its own part of a dataset.

``DistributedSampler`` (PyTorch's, same arguments) deals every epoch's order out
to the ranks like cards: rank ``r`` of ``R`` takes positions ``r, r + R, r + 2R, ...``
of the permutation. Its local batch ``k`` (size ``b``) is then positions
``kbR .. (k+1)bR - 1`` taken together over the ranks: the global batch ``k`` of a
single process with batch ``B = bR`` walking the same permutation. The permutation
is the one ``DataLoader(shuffle=True, seed=seed)`` draws, ``default_rng([seed,
epoch]).permutation(n)``, so a distributed run sees the batches of a single-process
run with the same seed and global batch.

Every rank must take the same number of steps (each step ends in a collective),
so the order is made divisible by ``R``: padded with its own first indices
(``drop_last=False``, PyTorch's default; at most ``R - 1`` samples seen twice per
epoch) or cut (``drop_last=True``).

``ShardSampler`` is for evaluation: contiguous shards, no padding, unequal sizes
allowed, so metrics reduced as sums and counts are exact.
"""
import numpy as np

from .process_group import get_rank, get_world_size, is_initialized


def _replicas_and_rank(num_replicas, rank, who):
    if num_replicas is None or rank is None:
        if not is_initialized():
            raise RuntimeError(f"{who}: give num_replicas and rank, or call "
                               f"layerwise.distributed.init_process_group() first")
        num_replicas = get_world_size() if num_replicas is None else num_replicas
        rank = get_rank() if rank is None else rank
    num_replicas, rank = int(num_replicas), int(rank)
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(f"{who}: invalid rank {rank}, rank should be in the interval "
                         f"[0, {num_replicas - 1}]")
    return num_replicas, rank


class DistributedSampler:
    """This rank's indices of ``dataset``, reshuffled per epoch from a shared seed."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        self.num_replicas, self.rank = _replicas_and_rank(num_replicas, rank,
                                                          "DistributedSampler")
        self.dataset, self.shuffle, self.seed = dataset, shuffle, int(seed)
        self.drop_last, self.epoch = drop_last, 0
        n, r = len(dataset), self.num_replicas
        if drop_last and n % r:
            self.num_samples = -(-(n - r) // r)  # ceil((n - R) / R), as PyTorch
        else:
            self.num_samples = -(-n // r)
        self.total_size = self.num_samples * r

    def set_epoch(self, epoch):
        """Select the epoch's permutation (call it before each epoch, on every rank)."""
        self.epoch = int(epoch)

    def order(self):
        """The whole epoch's order, padded or cut to ``total_size`` (the same on all ranks)."""
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            indices = np.arange(n)
        if self.total_size > n:
            indices = np.resize(indices, self.total_size)  # repeats from the start
        return indices[:self.total_size]

    def __iter__(self):
        return iter(self.order()[self.rank::self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples


class ShardSampler:
    """Rank ``r``'s contiguous shard ``[r n / R, (r+1) n / R)``, in order, unpadded."""

    def __init__(self, dataset, num_replicas=None, rank=None):
        self.num_replicas, self.rank = _replicas_and_rank(num_replicas, rank, "ShardSampler")
        n = len(dataset)
        self.start = self.rank * n // self.num_replicas
        self.stop = (self.rank + 1) * n // self.num_replicas

    def set_epoch(self, epoch):
        pass

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start
