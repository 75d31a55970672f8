"""``layerwise`` on the tests' tiny dataset, for runs under ``mpiexec`` (a script per rank).

    mpiexec -n 2 python -m mpi4py tests/distributed/tiny_cli.py train --dataset tiny ...

The dataset 'tiny' (tests/tiny_data.py) is registered from the files in ``$TINY_DIR``
(checksums taken from the files themselves), then the command line runs. Test hooks:
``TEST_FAIL_RANK=r`` makes rank r raise at its third training step.
"""
import hashlib
import gzip
import os
import sys
from pathlib import Path

from layerwise.cli import main
from layerwise.data import DatasetSpec, FileSpec, register_dataset

NAMES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def register_tiny(directory):
    md5 = {role: hashlib.md5(gzip.decompress((directory / name).read_bytes())).hexdigest()
           for role, name in NAMES.items()}
    register_dataset(DatasetSpec(
        name="tiny", mirrors=("http://example.invalid/tiny/",),
        files={role: FileSpec(NAMES[role], None, md5[role]) for role in NAMES},
        classes=("dark", "medium", "bright")))


def fail_on_rank(rank):
    """Make ``rank`` raise at its third training step (the others are mid-allreduce)."""
    from layerwise.train.trainer import Trainer
    step = Trainer.train_step
    calls = []

    def failing(self, x, y):
        from layerwise.distributed import get_rank
        calls.append(1)
        if get_rank() == rank and len(calls) == 3:
            raise RuntimeError(f"injected failure on rank {rank}")
        return step(self, x, y)
    Trainer.train_step = failing


if __name__ == "__main__":
    register_tiny(Path(os.environ["TINY_DIR"]))
    if os.environ.get("TEST_FAIL_RANK"):
        fail_on_rank(int(os.environ["TEST_FAIL_RANK"]))
    sys.exit(main(sys.argv[1:]))
