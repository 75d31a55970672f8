"""Making NumPy's BLAS single-threaded for a moment, so layerwise's own threads can share the cores.

Many small matrix products (one per image of a convolution, say) run badly on a
multi-threaded BLAS: each call splits a tiny problem over the cores and pays the
hand-off every time, while the copy that feeds it (im2col) runs on one core. It is
faster to give each core its own slice of the batch, where the copy and the product
run back to back on data still in that core's cache, with the BLAS on one thread:

    with blas_threads.limited(1):
        parallel.for_each_part(work_on_images, batch_size)

NumPy's wheels ship OpenBLAS, whose thread count can be changed at run time through
``openblas_set_num_threads`` (prefixed ``scipy_`` in NumPy 2's wheels; the same C call
threadpoolctl makes). The library is found among the shared objects this process has
loaded (``/proc/self/maps``). Where there is no OpenBLAS (MKL or Accelerate builds of
NumPy, non-Linux systems) ``available()`` is False and callers keep to one thread of
their own, letting the BLAS use all cores as before.

The setting is process-wide: a product that another thread of the program starts while
the limit holds also runs on one thread. Nested ``limited`` blocks are allowed.
"""
import contextlib
import ctypes
import threading

import numpy as np

__all__ = ["available", "get_num_threads", "limited", "set_process_threads"]

_SYMBOLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
            ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
            ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
            ("openblas_set_num_threads", "openblas_get_num_threads"))


def _loaded_openblas_paths():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:   # pragma: no cover - not Linux
        return []
    return sorted(p for p in paths if ".so" in p)


def _find_numpy_openblas():
    """(set, get) C functions of the OpenBLAS NumPy uses, or None."""
    np.ones((2, 2)) @ np.ones((2, 2))     # make sure NumPy's BLAS is loaded
    paths = _loaded_openblas_paths()
    numpy_first = sorted(paths, key=lambda p: "numpy" not in p)
    for path in numpy_first:
        try:
            library = ctypes.CDLL(path)
        except OSError:   # pragma: no cover
            continue
        for set_name, get_name in _SYMBOLS:
            setter, getter = getattr(library, set_name, None), getattr(library, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


_functions = _find_numpy_openblas()
_lock = threading.Lock()
_depth = 0
_saved = None


def available():
    """True when the BLAS thread count can be changed at run time."""
    return _functions is not None


def get_num_threads():
    """The BLAS's current thread count (None when it cannot be read)."""
    return _functions[1]() if _functions else None


def set_process_threads(threads):
    """Set the BLAS's thread count for the rest of the process (no-op if unavailable)."""
    if _functions is not None:
        _functions[0](int(threads))


@contextlib.contextmanager
def limited(threads=1):
    """Run the block with the BLAS on at most ``threads`` threads (no-op if unavailable)."""
    global _depth, _saved
    if _functions is None:
        yield
        return
    setter, getter = _functions
    with _lock:
        if _depth == 0:
            _saved = getter()
            if _saved > threads:
                setter(threads)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved > threads:
                setter(_saved)
