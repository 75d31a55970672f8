"""Data-parallel training over MPI (mpi4py), with PyTorch's names.

    import layerwise.distributed as dist
    group = dist.init_process_group()                 # rank, world size, local rank
    model = dist.DistributedDataParallel(dist.SyncBatchNorm.convert_sync_batchnorm(net))
    sampler = dist.DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=64, sampler=sampler)   # 64 per rank
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()

Run it with ``mpiexec -n 4 python -m mpi4py train.py`` (``-m mpi4py`` turns an
exception on one rank into ``MPI_Abort`` of all ranks). ``pip install
'layerwise[mpi]'`` installs mpi4py and the MPICH wheel; nothing here imports
mpi4py before a process group or a DDP model is created.
"""
from .ddp import DistributedDataParallel
from .process_group import (ProcessGroup, RankError, ReduceOp, abort_on_error, all_gather,
                            all_reduce, barrier, broadcast, check_same, destroy_process_group,
                            get_default_group, get_local_rank, get_rank, get_world_size,
                            init_process_group, is_initialized, is_main_process, on_every_rank)
from .sampler import DistributedSampler, ShardSampler
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "DistributedSampler", "ShardSampler", "SyncBatchNorm",
           "ProcessGroup", "RankError", "ReduceOp", "abort_on_error", "all_gather",
           "all_reduce", "barrier", "broadcast", "check_same", "destroy_process_group",
           "get_default_group", "get_local_rank", "get_rank", "get_world_size",
           "init_process_group", "is_initialized", "is_main_process", "on_every_rank"]
