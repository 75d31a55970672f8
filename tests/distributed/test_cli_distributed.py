"""``layerwise train --distributed`` under ``mpiexec -n 2`` on the tiny dataset.

- the same weights and logged metrics as one process with the same global batch;
- a distributed run's checkpoint resumes in one process and vice versa;
- rank 0 alone prints and writes;
- a rank whose --data-dir is missing, or that raises mid-training, ends every rank
  with a non-zero status within seconds, the failing rank named.
"""
import shutil

import numpy as np
import pytest

from layerwise.cli import main
from layerwise.io.safetensors_io import load_file
from tests.distributed.launch import HERE, run_mpi

TRAIN = ["train", "--model", "seed004-cnn", "--dataset", "tiny", "--batch-size", "20",
         "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--no-progress"]


@pytest.fixture
def tiny(tiny_dataset, offline):
    """(data directory, environment for the ranks) of the tests' tiny dataset."""
    directory = offline / "data" / "tiny"
    return directory, {"TINY_DIR": str(directory), "XDG_CACHE_HOME": str(offline / "cache"),
                       "LAYERWISE_DATA": ""}


def distributed(args, env, n=2, launcher=("-m", "mpi4py")):
    return run_mpi((n, [*launcher, HERE / "tiny_cli.py", *args, "--distributed"]), env=env)


def weights(path):
    tensors, _ = load_file(path)
    return tensors


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-6, err_msg=key)


def history(run_dir):
    rows = (run_dir / "history.csv").read_text().strip().splitlines()
    keys = rows[0].split(",")
    return [{k: float(v) for k, v in zip(keys, row.split(",")) if k != "images_per_s"}
            for row in rows[1:]]


def test_two_ranks_train_like_one_process_and_checkpoints_move_both_ways(tiny, offline,
                                                                           capsys):
    data, env = tiny
    common = TRAIN + ["--data-dir", str(data)]
    single = offline / "single"
    assert main(common + ["--epochs", "2", "--out", str(single)]) == 0

    code, out, err, _ = distributed(common + ["--epochs", "2", "--out", offline / "dist"], env)
    assert code == 0, out + err
    assert out.count("Test accuracy:") == 1 and "global batch 20 = 2 x 10" in out
    assert_same_weights(single / "last.safetensors", offline / "dist" / "last.safetensors")
    for mine, theirs in zip(history(offline / "dist"), history(single)):
        assert mine == pytest.approx(theirs, rel=1e-5)           # metrics of all ranks

    # single process -> distributed: epoch 1 alone, epoch 2 on two ranks
    one = offline / "one"
    assert main(common + ["--epochs", "1", "--out", str(one)]) == 0
    code, out, err, _ = distributed(["train", "--resume", one / "last.safetensors", "--epochs",
                                     "2", "--data-dir", data, "--no-progress"], env)
    assert code == 0, out + err
    assert_same_weights(single / "last.safetensors", one / "last.safetensors")

    # distributed -> single process: a third epoch alone, from either run's checkpoint
    for run in ("single", "dist"):
        copy = offline / f"{run}-3"
        shutil.copytree(offline / run, copy)
        assert main(["train", "--resume", str(copy / "last.safetensors"), "--epochs", "3",
                     "--data-dir", str(data), "--no-progress"]) == 0
    assert_same_weights(offline / "single-3" / "last.safetensors",
                        offline / "dist-3" / "last.safetensors")


def test_a_missing_data_dir_on_one_rank_is_named(tiny, offline):
    data, env = tiny
    args = TRAIN + ["--epochs", "1", "--out", offline / "run", "--distributed"]
    rank0 = ["-m", "mpi4py", HERE / "tiny_cli.py", *args, "--data-dir", data]
    rank1 = ["-m", "mpi4py", HERE / "tiny_cli.py", *args, "--data-dir", offline / "nowhere"]
    code, out, err, seconds = run_mpi([(1, rank0), (1, rank1)], env=env, timeout=60)
    assert code != 0 and seconds < 30
    assert "rank 1 of 2" in err and "could not find the dataset" in err
    assert f"--data-dir {offline / 'nowhere'} does not exist" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("launcher", [("-m", "mpi4py"), ()], ids=["mpi4py-runner", "plain"])
def test_a_rank_that_raises_mid_training_stops_all_ranks(tiny, offline, launcher):
    data, env = tiny
    code, out, err, seconds = distributed(
        TRAIN + ["--epochs", "3", "--data-dir", data, "--out", offline / "run"],
        dict(env, TEST_FAIL_RANK="1"), launcher=launcher)
    assert code != 0 and seconds < 30, out + err
    assert "injected failure on rank 1" in err and "rank 1 of 2" in err
