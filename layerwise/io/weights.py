"""Weights files in two formats, chosen by the file's extension:

- ``.safetensors`` (the default): JSON header + raw bytes, PyTorch's ``safetensors`` reads it;
- ``.npz``: NumPy's zip of ``.npy`` arrays, read with ``allow_pickle=False`` (no code
  runs on loading), what ``np.savez(path, **{k: v.numpy() for k, v in sd.items()})``
  writes from a PyTorch ``state_dict``.

Keys are PyTorch's state_dict names either way, so weights move between the two
frameworks (``model.load_state_dict(load_state_dict("resnet18.npz"))``). A training
checkpoint of ``layerwise train`` also loads as weights: its optimizer and scheduler
entries are left out.
"""
import io
import zipfile
from pathlib import Path

import numpy as np

from ..autograd.tensor import Tensor
from .safetensors_io import CheckpointError, atomic_write_bytes, load_file, save_file

__all__ = ["save_npz", "load_npz", "save_state_dict", "load_state_dict", "weights_format"]

FORMATS = ("safetensors", "npz")
# the non-model entries of a layerwise training checkpoint (layerwise.train.checkpoint)
_CHECKPOINT_PREFIXES = ("optimizer/", "scheduler/")


def weights_format(path, format=None):
    """'npz' for ``*.npz`` files, else 'safetensors' (or the ``format`` given)."""
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"unknown weights format {format!r}; choose from "
                             f"{', '.join(FORMATS)}")
        return format
    return "npz" if Path(path).suffix.lower() == ".npz" else "safetensors"


def _arrays(tensors):
    if hasattr(tensors, "state_dict"):
        tensors = tensors.state_dict()
    out = {}
    for name, value in tensors.items():
        array = value.data if isinstance(value, Tensor) else value
        if hasattr(array, "detach"):  # a torch tensor
            array = array.detach().cpu().numpy()
        out[str(name)] = np.asarray(array, order="C")  # 0-d stays 0-d (num_batches_tracked)
    return out


def save_npz(tensors, path):
    """Save a name -> array/Tensor mapping (or a module's state_dict) as ``.npz``, atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **_arrays(tensors))
    return atomic_write_bytes(path, buffer.getvalue())


def load_npz(path):
    """A name -> ndarray mapping from a ``.npz`` file (pickled objects are refused)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as err:  # object arrays need pickle
        raise CheckpointError(f"{path}: holds pickled objects, which are not loaded (only "
                              f"plain numeric arrays are) ({err})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"{path}: not a valid .npz file, truncated or corrupt "
                              f"({err})") from None


def save_state_dict(module, path, metadata=None, format=None):
    """Save a module's ``state_dict`` (or a name -> array mapping) to ``path``, as
    safetensors or ``.npz`` by its extension. ``metadata`` (str -> str) is safetensors only."""
    if weights_format(path, format) == "npz":
        if metadata:
            raise ValueError("save_state_dict: .npz files carry no metadata; use .safetensors")
        return save_npz(module, path)
    return save_file(_arrays(module), path, metadata)


def load_state_dict(path, format=None):
    """A name -> ndarray mapping from a weights file (``.safetensors`` or ``.npz``), ready
    for ``model.load_state_dict``; from a training checkpoint, only the model's entries."""
    if weights_format(path, format) == "npz":
        return load_npz(path)
    arrays, metadata = load_file(path)
    if str(metadata.get("format", "")).startswith("layerwise-checkpoint"):
        arrays = {k: v for k, v in arrays.items() if not k.startswith(_CHECKPOINT_PREFIXES)}
    return arrays
