"""DistributedDataParallel on 2 ranks equals one process with the global batch.

api_worker.py runs every scenario of scenarios.py under ``mpiexec -n 2`` (each rank
starting from different weights: DDP must broadcast rank 0's); the reference runs
here in one process with plain BatchNorm and batch B. Also: the collective helpers,
and that importing layerwise.distributed needs no MPI.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.distributed.launch import HERE, run_mpi
from tests.distributed.scenarios import SCENARIOS, reference


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    code, stdout, stderr, _ = run_mpi((2, ["-m", "mpi4py", HERE / "api_worker.py", out]),
                                      cwd=HERE)
    assert code == 0, stdout + stderr
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_helpers_rank_world_local_rank(two_ranks):
    _, ranks = two_ranks
    for r, seen in enumerate(ranks):
        assert (seen["rank"], seen["world_size"], seen["local_rank"]) == (r, 2, r)
        assert seen["threads"] == max(1, len(os.sched_getaffinity(0)) // 2)  # cores / ranks
        assert seen["all_reduce_array"] == [3.0, 3.0, 3.0]       # 1 + 2
        assert seen["all_reduce_mean"] == 0.5 and seen["all_reduce_max"] == 1
        assert seen["broadcast_number"] == 5                     # rank 0's 10*0 + 5
        assert seen["broadcast_array"] == [0, 2, 4, 6]           # rank 1's arange * 2
        assert seen["all_gather"] == ["r0", "r1"]


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n != "per_rank_bn"])
def test_two_ranks_reach_the_single_process_weights(two_ranks, name):
    out, ranks = two_ranks
    got, expected = np.load(out / f"{name}.npz"), reference(name)
    assert sorted(got.files) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert ranks[0][name]["steps"] == 6                         # 2 epochs x 3 steps


def test_buckets_prefix_and_unused_parameters(two_ranks):
    _, ranks = two_ranks
    assert ranks[0]["syncbn"]["buckets"] == 2                   # small caps: several buckets
    assert ranks[0]["syncbn"]["state_keys"][0] == "module.0.weight"   # PyTorch's DDP keys
    assert ranks[0]["shared_weights"]["unused_grad_is_none"]


def test_per_rank_batch_norm_is_not_the_single_process_result(two_ranks):
    """Why SyncBatchNorm: each rank normalizing with its own half-batch statistics
    trains a different model."""
    out, _ = two_ranks
    got, expected = np.load(out / "per_rank_bn.npz"), reference("per_rank_bn")
    assert max(np.abs(got[k] - v).max() for k, v in expected.items()) > 1e-3


def test_import_needs_no_mpi_and_a_missing_mpi4py_names_the_extra():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import layerwise, layerwise.distributed as dist\n"
            "try:\n    dist.init_process_group()\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'layerwise[mpi]'" in out.stdout


def test_a_rank_that_raises_ends_every_rank_quickly():
    """Rank 1 raises mid-training while rank 0 waits in the gradient allreduce:
    ``python -m mpi4py`` turns it into MPI_Abort; nothing hangs."""
    script = ("import layerwise as lw, layerwise.distributed as dist\n"
              "from layerwise import nn\n"
              "import layerwise.nn.functional as F\n"
              "g = dist.init_process_group()\n"
              "model = dist.DistributedDataParallel(nn.Linear(4, 2))\n"
              "for step in range(100):\n"
              "    if g.rank == 1 and step == 3:\n"
              "        raise RuntimeError('deliberate failure on rank 1')\n"
              "    F.cross_entropy(model(lw.randn(8, 4)), lw.randint(0, 2, (8,))).backward()\n")
    code, stdout, stderr, seconds = run_mpi((2, ["-m", "mpi4py", "-c", script]), timeout=60)
    assert code != 0 and seconds < 30
    assert "deliberate failure on rank 1" in stderr
