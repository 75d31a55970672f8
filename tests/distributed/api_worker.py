"""One rank of the API tests: ``mpiexec -n 2 python -m mpi4py api_worker.py OUT_DIR``.

Checks the collective helpers and runs every scenario of scenarios.py through
DistributedDataParallel; rank 0 saves each final state_dict as ``OUT_DIR/NAME.npz``
and every rank its observations as ``OUT_DIR/rank{r}.json``.
"""
import json
import sys
from pathlib import Path

import numpy as np

import layerwise.distributed as dist
from layerwise.data import DataLoader
from scenarios import GLOBAL_BATCH, SCENARIOS, SEED, dataset, make_model, train

out_dir = Path(sys.argv[1])
group = dist.init_process_group()
rank, world = group.rank, group.world_size
seen = {"rank": rank, "world_size": world, "local_rank": dist.get_local_rank(),
        "threads": group.threads}

# ------------------------------------------------------------------ helpers
array = np.full(3, rank + 1.0, dtype=np.float32)
dist.all_reduce(array)
seen["all_reduce_array"] = array.tolist()
seen["all_reduce_mean"] = dist.all_reduce(float(rank), op="mean")
seen["all_reduce_max"] = dist.all_reduce(rank, op="max")
seen["broadcast_number"] = dist.broadcast(10 * rank + 5, src=0)
buffer = np.arange(4, dtype=np.int64) * (rank + 1)
dist.broadcast(buffer, src=1)
seen["broadcast_array"] = buffer.tolist()
seen["all_gather"] = dist.all_gather(f"r{rank}")
dist.barrier()

# ---------------------------------------------------------------- scenarios
for name, options in SCENARIOS.items():
    net = make_model(name, init_seed=SEED + 17 * rank)  # rank 0's weights must win
    if name != "per_rank_bn":
        net = dist.SyncBatchNorm.convert_sync_batchnorm(net)
    model = dist.DistributedDataParallel(net, **options)
    sampler = dist.DistributedSampler(dataset(), seed=SEED)
    loader = DataLoader(dataset(), GLOBAL_BATCH // world, sampler=sampler)
    if name == "no_sync":
        train(model, loader, accumulate=2, no_sync=model.no_sync)
    else:
        train(model, loader)
    stats = model.stats()
    seen[name] = {"steps": stats["steps"], "buckets": stats["buckets"],
                  "state_keys": list(model.state_dict())[:2]}
    if name == "shared_weights":
        seen[name]["unused_grad_is_none"] = net.unused.weight.grad is None
    if rank == 0:
        np.savez(out_dir / f"{name}.npz", **{k: v.numpy() for k, v in net.state_dict().items()})

(out_dir / f"rank{rank}.json").write_text(json.dumps(seen))
