"""``Module``: the base of every layer and network.

A module owns parameters (learned), buffers (state such as running averages) and
child modules, all registered by plain attribute assignment::

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)          # child module -> "fc.weight", "fc.bias"
        def forward(self, x):
            return self.fc(x)

``state_dict()`` names every parameter and persistent buffer with dotted paths,
exactly as PyTorch does, so weights move between the two frameworks as is.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from .parameter import Buffer, Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for layers and networks (PyTorch's ``nn.Module`` API)."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registry
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 f"(call super().__init__() first in {type(self).__name__})")
        was_parameter = name in self._parameters
        was_buffer = name in self._buffers
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, Buffer):
            self._buffers[name] = value
            if not value.persistent:
                self._non_persistent.add(name)
        elif was_buffer and isinstance(value, Tensor):
            self._buffers[name] = Buffer(value, name not in self._non_persistent)
        elif value is None and (was_parameter or was_buffer):
            (self._parameters if was_parameter else self._buffers)[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``."""
        if param is None:
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register state that is saved in ``state_dict`` (if persistent) but not learned."""
        if tensor is None:
            self._buffers[name] = None
            return
        setattr(self, name, Buffer(tensor, persistent))
        if persistent:
            self._non_persistent.discard(name)

    def add_module(self, name, module):
        if module is None:
            self._modules[name] = None
        else:
            setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else ():
            module = module._modules[part] if part in module._modules else getattr(module, part)
        return module

    # ------------------------------------------------------------- walking
    def named_modules(self, memo=None, prefix=""):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule, then on self (for custom init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------- running
    def forward(self, *args, **kwargs):  # pragma: no cover - interface
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new = hook(self, args, out)
            if new is not None:
                out = new
        return out

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after each forward (e.g. to grab feature maps)."""
        return _HookHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        return _HookHandle(self._forward_pre_hooks, hook)

    def train(self, mode=True):
        """Training mode (dropout active, batch norm uses batch statistics) or not."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (``False``) or unfreeze every parameter of this module."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:  # a new array: the old one may be shared
                p.grad.data = np.zeros_like(p.grad.data)

    def to(self, *args, dtype=None, **kwargs):
        """Cast floating-point parameters and buffers to ``dtype`` (the CPU is the only device)."""
        for a in args:
            if isinstance(a, str):
                if a != "cpu":
                    raise RuntimeError(f"device {a!r} is not available: layerwise runs on the CPU")
            else:
                dtype = a
        if dtype is not None:
            dtype = np.dtype(dtype)
            for t in list(self.parameters()) + list(self.buffers()):
                if t.data.dtype.kind == "f":
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self

    # ---------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered mapping of dotted names to tensors (parameters, then persistent buffers)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (ndarrays or tensors, PyTorch's key names) into this module in place.

        With ``strict=True`` (the default) a missing or unexpected key is an error; a
        shape mismatch always is. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        given = {k: (v.data if isinstance(v, Tensor) else _as_array(v, k))
                 for k, v in state_dict.items()}
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        errors = []
        for key, target in own.items():
            if key not in given:
                continue
            value = given[key]
            if value.shape != target.data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(value.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target.data.shape)}.")
        if strict:
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, target in own.items():
                if key in given:
                    target.data[...] = given[key].astype(target.data.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- print
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + \
            list(self._buffers)


def _as_array(value, key):
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"state_dict entry {key!r} is not an array or tensor "
                        f"(got {type(value).__name__})")
    return array


class _HookHandle:
    _next_id = 0

    def __init__(self, registry, hook):
        self.registry, self.id = registry, _HookHandle._next_id
        _HookHandle._next_id += 1
        registry[self.id] = hook

    def remove(self):
        self.registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
