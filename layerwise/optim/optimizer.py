"""``Optimizer``: the base of every optimizer (PyTorch's ``torch.optim.Optimizer`` structure).

An optimizer holds

- ``param_groups``: a list of dicts, each with ``'params'`` (a list of tensors) and the
  group's hyperparameters (``'lr'``, ``'momentum'``...). Options missing from a group
  come from ``defaults``, so ``SGD([{'params': backbone, 'lr': 1e-4},
  {'params': head}], lr=1e-2)`` fine-tunes a pretrained backbone ten times slower
  than the new head;
- ``defaults``: the hyperparameters given to the constructor;
- ``state``: per-parameter dict (momentum buffers, moment estimates, step counts),
  keyed by the parameter tensor itself.

``step()`` updates ``p.data`` in place for every parameter whose ``.grad`` is set
and which requires grad; the others are skipped.

State dict format (PyTorch's layout, NumPy values)::

    {'state': {0: {'step': 3, 'exp_avg': ndarray, 'exp_avg_sq': ndarray}, 1: {...}},
     'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), ..., 'params': [0, 1]}]}

Parameters are numbered in the order the groups list them. Per-parameter values are
ndarrays (copies, shaped and typed like the parameter) or plain Python numbers
(``'step'`` is an ``int``); group values are Python numbers, bools, strings, tuples
and ``None``. ``flatten_state_dict`` splits this into flat ndarrays named
``'state.<index>.<key>'`` (safetensors' tensors) and a JSON-able remainder
(safetensors' metadata); ``unflatten_state_dict`` joins them back.
``load_state_dict`` also accepts PyTorch's own optimizer state dicts (its state
tensors are read through ``numpy.asarray``), the state keys being the same.
"""
from collections import defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..backend.parallel import for_each_chunk

__all__ = ["Optimizer"]


class _RequiredParameter:
    """Marks a hyperparameter that has no default (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: subclasses define ``update_group(group)`` (or override ``step``).

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts
            ``{'params': ..., <option>: value}`` (one parameter group each).
        defaults: the default value of every hyperparameter of the optimizer.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable "
                            "of Tensors or dicts, but got a single Tensor "
                            "(wrap it in a list: [tensor])")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a group (a dict with ``'params'``), e.g. layers unfrozen during fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        if params and isinstance(params[0], tuple):
            if "param_names" in group:
                raise ValueError("all optimizer params should be with/without names")
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears more than once in the same parameter group")
        group["params"] = params

        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if "lr" in group and not isinstance(group["lr"], Tensor) and group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")

        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------ updates
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``.grad = None`` (default) or a fresh array of zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:  # a new array: the old one may be shared with another tensor
                    p.grad.data = np.zeros_like(p.grad.data)

    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs
        with gradients enabled, and its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self.update_group(group)
        return loss

    def scratch(self, p):
        """A reusable work array shaped like ``p`` (not part of the state, never saved)."""
        buffers = self.__dict__.setdefault("_scratch", {})
        buffer = buffers.get(p)
        if buffer is None or buffer.shape != p.data.shape or buffer.dtype != p.data.dtype:
            buffer = buffers[p] = np.empty_like(p.data)
        return buffer

    def _count_update(self, group):
        """How many times ``group`` has been updated, this time included (not saved: the
        count only paces ``flush_near_subnormal`` for optimizers without a step state)."""
        counts = self.__dict__.setdefault("_update_counts", {})
        counts[id(group)] = counts.get(id(group), 0) + 1
        return counts[id(group)]

    def update_group(self, group):
        """Update the parameters of one group in place (defined by each optimizer)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update_group")

    # -------------------------------------------------------------- state
    def state_dict(self):
        """A snapshot of the state (copies, not references) in PyTorch's layout."""
        index_of, groups = {}, []
        for group in self.param_groups:
            saved = {k: list(v) if isinstance(v, list) else v
                     for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            saved["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(saved)
        state = {}
        for p, values in self.state.items():
            if id(p) in index_of and values:
                state[index_of[id(p)]] = {k: v.copy() if isinstance(v, np.ndarray) else v
                                          for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state saved by ``state_dict()`` (or PyTorch's) into these parameters.

        The groups must match in number and size, and every saved array the shape of
        its parameter; otherwise ``ValueError`` explains what differs and nothing changes.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups: "
                             f"{len(saved_groups)} saved, {len(self.param_groups)} in this "
                             f"optimizer")
        param_of = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} parameters saved, "
                                 f"{len(group['params'])} here")
            for index, p in zip(saved["params"], group["params"]):
                param_of[int(index)] = p
        new_state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = param_of.get(int(index))
            if p is None:
                raise ValueError(f"loaded state dict has state for parameter {index}, which "
                                 f"no saved parameter group lists")
            new_state[p] = {key: _loaded_value(value, p, index, key)
                            for key, value in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            merged = dict(group)
            merged.update({k: _as_tuple_if_pair(k, v) for k, v in saved.items() if k != "params"})
            new_groups.append(merged)
        self.state = new_state
        self.param_groups = new_groups


def _as_tuple_if_pair(key, value):
    """JSON turns ``betas`` into a list: keep the tuple PyTorch uses."""
    return tuple(value) if key == "betas" and isinstance(value, list) else value


def _loaded_value(value, param, index, key):
    """A saved per-parameter value as this optimizer keeps it (array in the param's dtype)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if key == "step":
        step = float(array)
        return int(step) if step.is_integer() else step
    if array.shape != param.data.shape:
        raise ValueError(f"loaded state dict has state '{key}' of shape {array.shape} for "
                         f"parameter {index}, whose shape is {param.data.shape}")
    if array.dtype.kind == "f":
        return np.array(array, dtype=param.data.dtype, copy=True)
    return np.array(array, copy=True)


def flatten_state_dict(state_dict, prefix="state."):
    """``(arrays, metadata)``: ndarrays named ``'state.<index>.<key>'`` and a JSON-able rest.

    ``arrays`` suits ``safetensors.numpy.save_file``; ``metadata`` (the scalars of
    each parameter's state and the param groups) suits ``json.dumps``.
    """
    arrays, scalars = {}, {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if isinstance(value, Tensor):
                value = value.data
            if isinstance(value, np.ndarray):
                arrays[f"{prefix}{index}.{key}"] = np.ascontiguousarray(value)
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
              for g in state_dict["param_groups"]]
    return arrays, {"state": scalars, "param_groups": groups}


def unflatten_state_dict(arrays, metadata, prefix="state."):
    """The inverse of ``flatten_state_dict``: a state dict for ``load_state_dict``."""
    state = defaultdict(dict)
    for name, array in arrays.items():
        if not name.startswith(prefix):
            continue
        index, key = name[len(prefix):].split(".", 1)
        state[int(index)][key] = array
    for index, values in metadata.get("state", {}).items():
        state[int(index)].update(values)
    groups = [{k: _as_tuple_if_pair(k, v) for k, v in g.items()}
              for g in metadata["param_groups"]]
    return {"state": dict(state), "param_groups": groups}


# ------------------------------------------------------------------ helpers
CACHE_BLOCK = 1 << 17   # elements per block: a block's arrays stay in cache (measured best)


def update_in_chunks(update, arrays, **hyper):
    """Run ``update(*arrays, **hyper)`` on matching slices of the flattened arrays.

    The slices are split across threads, and each thread walks its range in blocks
    of ``CACHE_BLOCK`` elements, so the dozen elementwise passes of an update read
    and write cache instead of main memory (what a fused kernel achieves).
    Arrays that are not contiguous are updated in one piece.
    """
    if not all(a.flags.c_contiguous for a in arrays):
        update(*arrays, **hyper)
        return
    flat = [a.reshape(-1) for a in arrays]

    def work(start, stop):
        for a in range(start, stop, CACHE_BLOCK):
            b = min(a + CACHE_BLOCK, stop)
            update(*[f[a:b] for f in flat], **hyper)

    # an update is ~10-15 passes over the arrays: threads pay off on smaller sizes
    for_each_chunk(work, flat[0].size, min_size=1 << 14)


def check_hyperparameter(value, message, low=0.0, high=None, high_inclusive=False):
    """Raise ``ValueError('Invalid <message>: value')`` unless ``low <= value (< high)``."""
    if isinstance(value, Tensor):
        value = value.item()
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if not value >= low or too_high:  # `not >=` also rejects NaN
        raise ValueError(f"Invalid {message}: {value}")


def params_with_grad(group):
    """``(param, grad array)`` for the params of ``group`` that will be updated."""
    for p in group["params"]:
        grad = p.grad
        if grad is not None and p.requires_grad:
            yield p, grad.data


def effective_gradient(p, grad, maximize, weight_decay):
    """``-grad`` if maximizing, plus ``weight_decay * p`` (L2): a new array if changed.

    The gradient array itself is never modified (it may be shared).
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        decayed = p.data * weight_decay
        decayed += grad
        grad = decayed
    return grad


#: how often (in steps) the moments are cleared of values on their way to subnormal
FLUSH_EVERY = 64


def flush_near_subnormal(moment):
    """Set to 0 the entries of a moment estimate below 2²⁴ × the dtype's smallest normal.

    A coordinate whose gradient is exactly 0 (the weights of a dead ReLU unit, say) has
    m ← β₁ m every step (Adam; any decaying optimizer buffer alike), so m becomes subnormal (below 1.2e-38 in float32) after about
    800 steps; arithmetic on subnormals is 10-100x slower on x86, and seed003-cnn's whole
    training step went from 77 to 110 ms within its first epoch on Fashion-MNIST. Run every
    FLUSH_EVERY = 64 steps, a value above the threshold decays at most by β₁⁶⁴ ≈ 1e-3 before
    the next flush, so it never reaches the subnormal range. A flushed m would move its
    weight by at most lr · 2²⁴ · tiny / ε ≈ 2e-26 · lr: far below float32's resolution, so
    trajectories still match PyTorch's (which keeps the subnormals, at their cost).
    """
    limit = np.finfo(moment.dtype).tiny * 2.0 ** 24
    np.copyto(moment, 0, where=np.abs(moment) < limit)
