"""``layerwise train --distributed``: what the training run does differently on N ranks.

- every rank loads the dataset; a rank that cannot (a missing ``--data-dir``, a
  missing file) or that holds different data is named in an error on all ranks;
- ``--batch-size`` is the *global* batch ``B``: each rank takes ``B / N`` samples
  per step from its :class:`DistributedSampler` shard, so ``--distributed`` changes
  the speed, not the optimization (same batches, same learning rate, the same
  weights as one process to float32 rounding). PyTorch scripts usually give the
  per-rank batch instead; ``B = N × per-rank batch``;
- batch norm layers become :class:`SyncBatchNorm` (statistics of the global
  batch, as one process computes them);
- the model is wrapped in :class:`DistributedDataParallel`;
- validation is sharded (:class:`ShardSampler`) and the Trainer reduces sums and
  counts, so logged metrics are those of the whole validation set;
- rank 0 alone prints, shows progress, writes checkpoints (with the plain model's
  keys: they resume in a single process), the history, the report.
"""
import hashlib
from pathlib import Path

import numpy as np

from ..autograd.random import manual_seed
from ..data import DataLoader
from .ddp import DistributedDataParallel
from .process_group import RankError, check_same, init_process_group, on_every_rank
from .sampler import DistributedSampler, ShardSampler
from .sync_batchnorm import SyncBatchNorm


def start(args):
    """Join the MPI job; check that ``--data-dir`` exists on every rank."""
    group = init_process_group()

    def data_dir_exists():
        if args.data_dir is not None and not Path(args.data_dir).is_dir():
            raise FileNotFoundError(f"--data-dir {args.data_dir} does not exist on this "
                                    f"machine (every rank needs the dataset files)")
    on_every_rank(group, "find the dataset", data_dir_exists)
    return group


def rank0_printer(group, out):
    return out if group.rank == 0 else (lambda *a, **k: None)


def load(group, what, fn):
    """``fn()`` on every rank, failures reported on all ranks with the failing rank's name."""
    return on_every_rank(group, what, fn)


def check_datasets(group, train_set, test_set):
    """The same data on every rank (sizes, labels, a sample of the pixels)."""
    def digest(ds):
        images = np.ascontiguousarray(ds.images.reshape(len(ds.images), -1)[::97])
        h = hashlib.md5(np.ascontiguousarray(ds.labels).tobytes())
        h.update(images.tobytes())
        return h.hexdigest()[:12]
    check_same(group, "dataset", f"{len(train_set):,} training and {len(test_set):,} test "
                                 f"images, checksum {digest(train_set)}/{digest(test_set)}")


def per_rank_batch(group, batch_size):
    if batch_size % group.world_size:
        raise RankError(f"--batch-size {batch_size} is the global batch and must be divisible "
                        f"by the number of ranks ({group.world_size})")
    return batch_size // group.world_size


def loaders(group, fit_set, val_set, config, augment):
    """The training loader (this rank's shard, B/N per step) and the sharded validation."""
    sampler = DistributedSampler(fit_set, group.world_size, group.rank, shuffle=True,
                                 seed=config["seed"])
    train = DataLoader(fit_set, per_rank_batch(group, config["batch_size"]), sampler=sampler,
                       seed=config["seed"] + group.rank, transform=augment)
    val = None
    if val_set is not None:
        val = DataLoader(val_set, 512, sampler=ShardSampler(val_set, group.world_size,
                                                            group.rank))
    return train, val


def wrap(group, model):
    """SyncBatchNorm in place of BatchNorm, then DDP (rank 0's weights everywhere)."""
    return DistributedDataParallel(SyncBatchNorm.convert_sync_batchnorm(model), process_group=group)


def decorrelate_rng(group, seed, epoch):
    """Ranks > 0 draw dropout masks from their own stream (rank 0 keeps the run's)."""
    if group.rank > 0:
        manual_seed(int(np.random.default_rng([seed, epoch, group.rank]).integers(2 ** 31)))


def describe(group, config):
    hosts, threads, n = len(set(group.hosts)), group.threads, group.world_size
    return (f"distributed over {n} ranks ({hosts} host{'s' if hosts > 1 else ''}, "
            f"{threads or '?'} thread{'' if threads == 1 else 's'} per rank): global batch "
            f"{config['batch_size']} = {n} x {config['batch_size'] // n}")
