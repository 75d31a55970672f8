"""One pool of spinning threads for layerwise's compiled kernels and its matrix products.

Two thread pools on the same cores get in each other's way. NumPy's OpenBLAS keeps
its own workers, which spin for ~0.1 s after every product; layerwise's Python pool
(``parallel``) sleeps between tasks, and on the 2-core virtual machines of the
benchmarks waking a sleeping thread costs ~45 µs (a sleeping virtual CPU is woken
through the hypervisor). Measured there: an empty task's round trip through the Python
pool takes 95 µs, and a 2M-element compiled tanh split over both cores took 0.69 ms
alone but 1.23 ms right after a product, slower than on one core (1.14 ms), because the
BLAS's spinning thread held the second core.

So, when numba is installed and its threading layer is one whose workers spin between
parallel regions (OpenMP, as PyTorch's pool does; or TBB), layerwise runs everything
parallel on that single pool:

- the compiled kernels have ``*_parallel`` twins (``jit.parallel_kernel``) whose
  ``prange`` loop hands each thread its own range (a region costs ~2 µs, not 95);
- matrix products go through ``backend.blas.matmul``, which splits them over the same
  threads, each calling the BLAS on its block;
- NumPy's OpenBLAS is set to one thread for the whole process (so nothing else spins),
  and the Python pool runs its work inline (``parallel.for_each_part``).

LeNet-5 inference at batch 64 went from 1.89 to 1.13 ms this way (PyTorch: 1.28 ms).
``LAYERWISE_POOL=python`` (or no numba, or ``LAYERWISE_NUM_THREADS=1``) keeps the Python
pool and the BLAS's own threads. The OpenMP runtime is not fork-safe: a process forked
from one that used the pool runs its kernels on one thread (``active`` is then False).
"""
import os

from . import blas_threads, jit, parallel

#: the threading layers whose workers spin between regions (fast hand-offs)
SPINNING_LAYERS = ("omp", "tbb")

_state = None          # None: not tried yet; False: unavailable; True: on
_threads = None
_forked = False        # set in a child process forked after the pool was started


def _warm_up(parts):
    """A trivial parallel region, which makes numba pick (and start) its threading layer."""
    values = jit.np.zeros(parts)
    _fill(values, parts)
    return values


@jit.parallel_kernel
def _fill(values, parts):
    for p in jit.prange(parts):
        values[p] = p + 1


def _activate():
    if os.environ.get("LAYERWISE_POOL", "native").strip().lower() == "python":
        return False
    if jit.numba is None or not jit.enabled() or parallel.get_num_threads() < 2:
        return False
    try:
        _warm_up(2)
        layer = jit.numba.threading_layer()
    except (ValueError, RuntimeError):   # pragma: no cover - no parallel backend at all
        return False
    if layer not in SPINNING_LAYERS:
        return False
    blas_threads.set_process_threads(1)
    return True


def active():
    """True when the compiled kernels and products run on the native pool (see above)."""
    global _state
    if _state is None:
        _state = _activate()
    if not _state or _forked or not jit.enabled():
        return False
    if parallel.get_num_threads() != _threads:
        _sync_threads()
    return True


def _sync_threads():
    global _threads
    _threads = parallel.get_num_threads()
    jit.numba.set_num_threads(min(_threads, jit.numba.config.NUMBA_NUM_THREADS))


def _after_fork_in_child():
    global _forked
    _forked = _state is True


os.register_at_fork(after_in_child=_after_fork_in_child)


def parts(size, min_size):
    """How many ranges of at least ``min_size`` items to cut ``size`` items into (>= 1)."""
    if size < 2 * min_size:
        return 1
    return max(1, min(jit.numba.get_num_threads() if _threads is None else _threads,
                      size // min_size))


def describe():
    """One line for benchmark reports."""
    if active():
        return f"native pool ({jit.numba.threading_layer()}, {_threads} threads, BLAS on 1)"
    return "Python thread pool + the BLAS's own threads"
