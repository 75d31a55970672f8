"""Optional compiled kernels: numba when it is installed, the NumPy code otherwise.

A few hot spots of a training step are sequences of a dozen elementwise passes in
NumPy (an Adam update, the arg-max routing of max pooling, the copy of receptive
fields into im2col columns). Written as one loop and compiled to machine code, each
becomes a single pass over memory. The loops live in ``jit_*.py`` files beside the
NumPy code they replace, as plain Python: without numba they are ordinary (slow)
functions, which the tests still run on tiny inputs; with numba they are compiled
once (``cache=True`` keeps the machine code in ``__pycache__``) and release the GIL,
so ``parallel.for_each_chunk`` spreads them over layerwise's threads.

Every kernel keeps the NumPy implementation as its reference: the same operations in
the same order on the same dtype (no fast-math, no fused multiply-add), so both paths
give bit-identical results, and the tests check that they do.

    pip install 'layerwise[fast]'        # numba: the compiled kernels
    LAYERWISE_JIT=0 python ...           # use the NumPy code even when numba is installed
    layerwise.backend.jit.set_enabled(False)  /  with jit.disabled(): ...
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import types
from contextlib import contextmanager

import numpy as np

try:
    import numba
except ImportError:  # the default install is NumPy only
    numba = None

_OFF = ("0", "false", "no", "off")

#: the dtypes the kernels are compiled for (float16 and the rest take the NumPy code)
FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
_enabled = numba is not None and os.environ.get("LAYERWISE_JIT", "1").strip().lower() not in _OFF


def available():
    """True when numba is installed."""
    return numba is not None


def enabled():
    """True when the compiled kernels are in use."""
    return _enabled


def set_enabled(flag):
    """Use (True) or stop using (False) the compiled kernels."""
    global _enabled
    if flag and numba is None:
        raise RuntimeError("layerwise.backend.jit: numba is not installed; "
                           "pip install 'layerwise[fast]' for the compiled kernels")
    _enabled = bool(flag)


@contextmanager
def switched(setter, value, previous):
    """Run the block with ``setter(value)``, then ``setter(previous)`` (for on/off switches)."""
    setter(value)
    try:
        yield
    finally:
        setter(previous)


def disabled():
    """``with jit.disabled(): ...`` runs the block on the NumPy code paths."""
    return switched(set_enabled, False, _enabled)


def kernel(function):
    """``function`` compiled by numba (nopython, GIL released, cached), or as is without it.

    ``error_model='numpy'``: x / 0 gives inf or nan as in NumPy instead of raising, which
    also lets LLVM vectorize loops that divide. For loops to vectorize, kernels index
    arrays with loop counters that start at 0 (slice first): a computed or offset index
    may be negative as far as numba knows, and its wrap-around check blocks SIMD.
    """
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def parallel_kernel(function):
    """``function`` compiled with numba's ``parallel=True``: its ``prange`` loops run on the
    native pool (``backend.native``). Without numba, a plain function (``prange`` = range)."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)(function)


def reduction_kernel(function, parallel=False):
    """``kernel`` that may reassociate float additions (fastmath 'reassoc', 'contract'),
    so that LLVM vectorizes its sums into several partial sums; their rounding then
    differs from a left-to-right loop's (as NumPy's pairwise and BLAS sums do)."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy", parallel=parallel,
                      fastmath={"reassoc", "contract"})(function)


prange = numba.prange if numba is not None else range


def cache_dir():
    """Where generated kernel sources (and numba's machine code for them) are kept."""
    root = os.environ.get("LAYERWISE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "layerwise")
    return os.path.join(root, "kernels")


def generated_module(name, source):
    """A module made of generated Python ``source``, for kernels specialized by code.

    The source is written once to ``cache_dir()/<name>_<hash>.py`` and imported from
    there, so that numba can cache the machine code of its functions like that of any
    file (``cache=True``); where the directory cannot be written, the source is run
    in memory instead and its kernels are compiled again by each process.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), f"{name}_{digest}.py")
    try:
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle, temporary = tempfile.mkstemp(suffix=".py", dir=os.path.dirname(path))
            with os.fdopen(handle, "w") as file:
                file.write(source)
            os.replace(temporary, path)       # atomic: concurrent processes agree
        module_name = f"layerwise_generated_{name}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module     # numba's cache finds it by name when loading
        spec.loader.exec_module(module)
        module.__cached_on_disk__ = True
        return module
    except OSError:
        module = types.ModuleType(name)
        exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)
        module.__cached_on_disk__ = False
        return module


def describe():
    """One line for benchmark reports: 'numba 0.61.0 (enabled)' or 'numba not installed'."""
    if numba is None:
        return "numba not installed (NumPy kernels)"
    return f"numba {numba.__version__} ({'enabled' if _enabled else 'disabled'})"
