"""Running big elementwise work on several cores.

NumPy's ufuncs run on one core, but they release the GIL on large arrays, so
splitting an array into one slice per core and running the same ufunc sequence on
each slice from a small thread pool uses every core (PyTorch's elementwise kernels
do the same with OpenMP). Below ``min_size`` elements the thread hand-off costs
more than it saves, and the work runs inline.

The number of threads is ``LAYERWISE_NUM_THREADS`` if set, else the number of CPUs
this process may use; ``set_num_threads`` changes it.
"""
import os
from concurrent.futures import ThreadPoolExecutor

MIN_SIZE = 1 << 17   # elements: below this a second thread does not pay for itself


def _default_threads():
    env = os.environ.get("LAYERWISE_NUM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


_threads = _default_threads()
_pool = None


def get_num_threads():
    return _threads


def set_num_threads(n):
    """Use ``n`` threads for layerwise's own elementwise work (BLAS is set separately)."""
    global _threads, _pool
    _threads = max(1, int(n))
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def _get_pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="layerwise")
    return _pool


def bounds(size, parts):
    """``parts`` contiguous [start, stop) ranges covering range(size)."""
    step = -(-size // parts)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def for_each_chunk(work, size, min_size=MIN_SIZE):
    """Call ``work(start, stop)`` on disjoint ranges covering ``range(size)``, in parallel.

    ``work`` must only touch its own range (e.g. of flattened arrays) and must use
    NumPy operations that release the GIL. The caller's thread takes the first range.
    """
    parts = min(_threads, max(1, size // min_size))
    if parts == 1:
        work(0, size)
        return
    ranges = bounds(size, parts)
    pool = _get_pool()
    futures = [pool.submit(work, a, b) for a, b in ranges[1:]]
    work(*ranges[0])
    for future in futures:
        future.result()


def elementwise(kernel, out, *inputs, min_size=MIN_SIZE):
    """``kernel(out_slice, *input_slices)`` over matching slices of same-shaped arrays.

    For large contiguous arrays the slices run on all threads; otherwise the kernel
    runs once on the whole arrays. Returns ``out``.
    """
    arrays = (out,) + inputs
    if out.size < 2 * min_size or not all(a.flags.c_contiguous and a.shape == out.shape
                                          for a in arrays):
        kernel(*arrays)
        return out
    flat = [a.reshape(-1) for a in arrays]
    for_each_chunk(lambda a, b: kernel(*[f[a:b] for f in flat]), out.size, min_size)
    return out
