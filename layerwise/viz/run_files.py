"""The files of a training run, as the pictures need them: the model from a checkpoint,
the normalized test set of its dataset, its training history."""
from pathlib import Path

from ..data import CorruptFileError, DatasetNotFoundError, get_dataset
from ..io import CheckpointError
from ..train.checkpoint import load_checkpoint
from ..train.run import Normalizer, build_model

__all__ = ["LoadedRun", "load_run", "find_checkpoint", "load_test_set", "input_size"]

CHECKPOINT_NAMES = ("last.safetensors", "best.safetensors")


class LoadedRun:
    """A checkpoint's model (in eval mode), config, history and path."""

    def __init__(self, path, model, config, history):
        self.path, self.model, self.config, self.history = Path(path), model, config, history

    @property
    def classes(self):
        return self.config.get("classes")

    @property
    def normalizer(self):
        return Normalizer(**self.config.get("normalization", {}))


def find_checkpoint(run_dir):
    """The run's checkpoint: ``last.safetensors`` (the model the run's test results
    describe), else ``best.safetensors``; a ValueError if neither exists."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"no such run directory: {str(run_dir)!r}")
    for name in CHECKPOINT_NAMES:
        if (run_dir / name).is_file():
            return run_dir / name
    raise ValueError(f"{run_dir}: no checkpoint ({' or '.join(CHECKPOINT_NAMES)}); is it the "
                     f"directory of a `layerwise train` run?")


def load_run(checkpoint):
    """A :class:`LoadedRun` from a checkpoint file or a run directory."""
    path = Path(checkpoint)
    if path.is_dir():
        path = find_checkpoint(path)
    if not path.is_file():
        raise ValueError(f"no such checkpoint: {str(path)!r}")
    ckpt = load_checkpoint(path)
    if not ckpt.config.get("model"):
        raise CheckpointError(f"{path}: the checkpoint has no run configuration (model name), "
                              f"so the model cannot be rebuilt; was it written by "
                              f"`layerwise train`?")
    model = build_model(ckpt.config)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    history = (ckpt.history or {}).get("history", {})
    return LoadedRun(path, model, ckpt.config, history)


def load_test_set(config, data_dir=None, required=True):
    """The run's test set, normalized like its training data; with ``required=False``,
    None when the dataset files cannot be found."""
    try:
        test_set = get_dataset(config["dataset"], train=False, root=data_dir)
    except (DatasetNotFoundError, CorruptFileError, OSError, KeyError):  # KeyError: unknown name
        if required:
            raise
        return None
    normalizer = Normalizer(**config.get("normalization", {}))
    test_set.arrays = (normalizer(test_set.images), test_set.labels)
    return test_set


def input_size(config):
    """(C, H, W) of the run's inputs."""
    return (config["in_channels"], config["image_size"], config["image_size"])
