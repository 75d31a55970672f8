"""DistributedSampler and ShardSampler (no MPI needed: num_replicas and rank are given)."""
import numpy as np
import pytest
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from layerwise.data import ArrayDataset, DataLoader
from layerwise.distributed import DistributedSampler, ShardSampler


def data(n):
    return ArrayDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True),
                                                    (12, 4, False), (2, 3, False)])
def test_shards_are_disjoint_padded_or_cut_like_pytorch(n, replicas, drop_last):
    shards = [list(DistributedSampler(data(n), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    torch_shards = [list(TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
                    for r in range(replicas)]
    assert shards == torch_shards
    assert len({len(s) for s in shards}) == 1          # every rank takes as many steps
    assert len(DistributedSampler(data(n), replicas, 0, drop_last=drop_last)) == len(shards[0])
    everything = sorted(i for s in shards for i in s)
    if drop_last:
        assert len(set(everything)) == len(everything)  # disjoint, the remainder cut
    else:
        assert set(everything) == set(range(n))         # all covered, padding repeats the start


def test_reshuffled_per_epoch_from_the_shared_seed():
    ds = data(40)
    a, b = (DistributedSampler(ds, 2, r, shuffle=True, seed=7) for r in range(2))
    epoch0 = list(a), list(b)
    assert not set(epoch0[0]) & set(epoch0[1])
    a.set_epoch(1), b.set_epoch(1)
    epoch1 = list(a), list(b)
    assert epoch1 != epoch0 and sorted(epoch1[0] + epoch1[1]) == list(range(40))
    assert list(DistributedSampler(ds, 2, 0, seed=8)) != epoch0[0]


def test_local_batches_together_are_the_single_process_batches():
    """Rank r's batch k (size B/R), over all ranks, is batch k of DataLoader(shuffle, seed)."""
    ds, replicas, batch = data(48), 4, 12
    single = DataLoader(ds, batch, shuffle=True, seed=3)
    loaders = [DataLoader(ds, batch // replicas, sampler=DistributedSampler(ds, replicas, r,
                                                                           seed=3))
               for r in range(replicas)]
    for epoch in range(2):
        single.set_epoch(epoch)
        for loader in loaders:
            loader.set_epoch(epoch)
        for whole, *parts in zip(single, *loaders):
            together = np.concatenate([p[1].numpy() for p in parts])
            assert sorted(together) == sorted(whole[1].numpy())


def test_shard_sampler_covers_once_without_padding():
    shards = [list(ShardSampler(data(10), 3, r)) for r in range(3)]
    assert shards == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]


def test_bad_rank_and_missing_group_are_clear():
    with pytest.raises(ValueError, match=r"invalid rank 2.*\[0, 1\]"):
        DistributedSampler(data(4), 2, 2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(data(4))
