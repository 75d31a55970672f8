"""Checkpoints: everything needed to continue a run, in one safetensors file.

- the model's ``state_dict`` under its own (PyTorch) keys, so the file also loads
  as plain weights, in layerwise or in PyTorch;
- the optimizer's and scheduler's states: their arrays as tensors under keys that
  start with ``optimizer/`` or ``scheduler/``, their other fields as JSON;
- in the metadata: the epoch reached, the global RNG state, the history and the run
  configuration, as JSON.

Nothing is pickled: loading reads arrays and JSON, never code. Files are written
atomically (``io.atomic_write_bytes``), so a crash mid-save keeps the previous one.
"""
import json

import numpy as np

from ..autograd.tensor import Tensor
from ..io.safetensors_io import CheckpointError, load_file, save_file

FORMAT = "layerwise-checkpoint/1"
PREFIXES = ("optimizer/", "scheduler/")


def flatten_state(obj, prefix, tensors):
    """A JSON-able copy of ``obj`` with each array replaced by ``{"__tensor__": key}``."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"__dict__": [[flatten_state(k, f"{prefix}/k{i}", tensors),
                              flatten_state(v, f"{prefix}/{i}", tensors)]
                             for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, (list, tuple)):
        items = [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint ({prefix})")


def unflatten_state(obj, tensors):
    """Inverse of :func:`flatten_state`."""
    if isinstance(obj, list):
        return [unflatten_state(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]].copy()
        if "__tuple__" in obj:
            return tuple(unflatten_state(v, tensors) for v in obj["__tuple__"])
        return {unflatten_state(k, tensors): unflatten_state(v, tensors)
                for k, v in obj["__dict__"]}
    return obj


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, rng_state=None,
                    history=None, config=None):
    tensors = dict(model.state_dict())
    meta = {"format": FORMAT, "epoch": json.dumps(int(epoch))}
    if optimizer is not None:
        meta["optimizer"] = json.dumps({"class": type(optimizer).__name__, "state": flatten_state(
            optimizer.state_dict(), "optimizer", tensors)})
    if scheduler is not None:
        state = {k: v for k, v in scheduler.state_dict().items() if not callable(v)}
        meta["scheduler"] = json.dumps({"class": type(scheduler).__name__,
                                        "state": flatten_state(state, "scheduler", tensors)})
    for key, value in (("rng", rng_state), ("history", history), ("config", config)):
        if value is not None:
            meta[key] = json.dumps(value)
    return save_file(tensors, path, meta)


class Checkpoint:
    """A loaded checkpoint: ``model_state``, ``epoch``, ``config``... and restore helpers."""

    def __init__(self, path):
        self.path = path
        tensors, meta = load_file(path)
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a layerwise checkpoint (format "
                                  f"{meta.get('format')!r}, expected {FORMAT!r}); for plain "
                                  f"weights use layerwise.io.load_state_dict")
        self.tensors, self.meta = tensors, meta
        self.model_state = {k: v for k, v in tensors.items() if not k.startswith(PREFIXES)}
        self.epoch = json.loads(meta["epoch"])
        self.config = json.loads(meta.get("config", "{}"))
        self.history = json.loads(meta["history"]) if "history" in meta else None
        self.rng_state = json.loads(meta["rng"]) if "rng" in meta else None

    def _state(self, key, target):
        record = json.loads(self.meta[key])
        if record["class"] != type(target).__name__:
            raise CheckpointError(f"{self.path}: the checkpoint's {key} is a {record['class']}, "
                                  f"not a {type(target).__name__}")
        return unflatten_state(record["state"], self.tensors)

    def restore(self, model, optimizer=None, scheduler=None):
        model.load_state_dict(self.model_state)
        if optimizer is not None and "optimizer" in self.meta:
            optimizer.load_state_dict(self._state("optimizer", optimizer))
        if scheduler is not None and "scheduler" in self.meta:
            scheduler.load_state_dict(self._state("scheduler", scheduler))


def load_checkpoint(path):
    return Checkpoint(path)
