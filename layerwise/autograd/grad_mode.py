"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``.

While recording is off, operations on tensors build no graph: their results have
``requires_grad=False`` and keep nothing alive for a backward pass. Inference,
optimizer updates and metric computations run that way.
"""
import functools
import threading

class _State(threading.local):
    enabled = True   # every thread starts with recording on, like PyTorch


_state = _State()


def is_grad_enabled():
    """True when operations record the graph for backpropagation."""
    return _state.enabled


def _set_enabled(flag):
    _state.enabled = bool(flag)


class _GradMode:
    """Context manager and decorator that sets the recording flag, restoring it on exit."""

    _target = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self._target)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._previous)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: ``with lw.no_grad(): y = model(x)``."""

    _target = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradMode):
    """Set recording on or off: ``with lw.set_grad_enabled(training): ...``."""

    def __init__(self, mode):
        self._target = bool(mode)

    def __call__(self, func):
        mode = self._target

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):
    """Alias of :class:`no_grad` (PyTorch's faster variant; here they are the same)."""
