"""Weights on disk in the safetensors format: loading never executes code.

A safetensors file is a JSON header (names, dtypes, shapes, offsets, and a
str -> str metadata map) followed by raw little-endian tensor bytes. PyTorch reads
our files with ``safetensors.torch.load_file`` and the state_dict keys are
PyTorch's, so ``torch_model.load_state_dict(load_file(path))`` works as is.

Every write goes to a temporary file in the same directory, is flushed to disk,
then renamed over the target: a crash mid-write leaves the old file intact.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as _load_bytes
from safetensors.numpy import save as _save_bytes

from ..autograd.tensor import Tensor


class CheckpointError(ValueError):
    """A weights or checkpoint file is missing, truncated, corrupt or incompatible."""


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _as_array(value):
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    return np.asarray(array, order="C")  # (ascontiguousarray would turn 0-d into (1,))


def save_file(tensors, path, metadata=None):
    """Save a name -> array/Tensor mapping (plus str metadata) to ``path`` atomically."""
    arrays = {name: _as_array(value) for name, value in tensors.items()}
    meta = None if metadata is None else {str(k): str(v) for k, v in metadata.items()}
    return atomic_write_bytes(path, _save_bytes(arrays, metadata=meta))


def load_file(path):
    """(arrays, metadata) from a safetensors file, with a clear error if it is damaged."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        arrays = _load_bytes(data)
    except (SafetensorError, ValueError, OSError) as err:
        raise CheckpointError(f"{path}: not a valid safetensors file, truncated or corrupt "
                              f"({err})") from None
    return arrays, read_metadata(data, path)


def read_metadata(data, path="<bytes>"):
    """The ``__metadata__`` map of a safetensors file's header."""
    if len(data) < 8:
        raise CheckpointError(f"{path}: truncated ({len(data)} bytes)")
    size = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + size])
    except ValueError:
        raise CheckpointError(f"{path}: unreadable safetensors header") from None
    return header.get("__metadata__", {}) or {}


def save_state_dict(module, path, metadata=None):
    """Save a module's ``state_dict`` (PyTorch's keys) to a safetensors file."""
    return save_file(module.state_dict(), path, metadata)


def load_state_dict(path):
    """A name -> ndarray mapping from a safetensors weights file."""
    arrays, _ = load_file(path)
    return arrays
