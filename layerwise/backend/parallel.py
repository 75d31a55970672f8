"""Running big elementwise work on several cores.

NumPy's ufuncs run on one core, but they release the GIL on large arrays, so
splitting an array into one slice per core and running the same ufunc sequence on
each slice from a small thread pool uses every core (PyTorch's elementwise kernels
do the same with OpenMP). Below ``min_size`` elements the thread hand-off costs
more than it saves, and the work runs inline.

**What a hand-off costs depends on the machine.** Waking a pool thread that waits on
a lock takes a few microseconds on bare metal but about 45 µs on the 2-core virtual
machines of this project's benchmarks (a sleeping virtual CPU is woken through the
hypervisor), so a round trip there costs ~95 µs. The ``min_size`` thresholds of the
callers are tuned for a round trip of ``REFERENCE_HANDOFF``; the first time work could
be split, the pool measures its own round trip and scales every threshold by the
ratio (``split_scale()``, a power of two from 1 to 16). On the 95-µs machine the
scale is 16, and LeNet-5 and seed004-cnn training steps got 10% faster than with
unscaled thresholds. ``for_each_part`` is for coarse work (a convolution's chunks of
images) that is always worth splitting.

The number of threads is ``LAYERWISE_NUM_THREADS`` if set, else the number of CPUs
this process may use; ``set_num_threads`` changes it. ``LAYERWISE_SPLIT_SCALE=k`` or
``set_split_scale(k)`` fixes the scale instead of measuring it.
"""
import math
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

MIN_SIZE = 1 << 17   # elements: below this a second thread does not pay for itself
REFERENCE_HANDOFF = 6e-6   # seconds per round trip the callers' thresholds are tuned for
MAX_SPLIT_SCALE = 16


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
_scale = int(os.environ["LAYERWISE_SPLIT_SCALE"]) if os.environ.get("LAYERWISE_SPLIT_SCALE") \
    else None


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


def handoff_seconds(repeats=15):
    """Median round trip of an empty task through the pool (submit, run, result)."""
    pool = _get_pool()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pool.submit(int).result()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def split_scale():
    """Factor applied to every ``min_size``: hand-off / REFERENCE_HANDOFF as a power of 2."""
    global _scale
    if _scale is None:
        ratio = handoff_seconds() / REFERENCE_HANDOFF if _threads > 1 else 1.0
        _scale = int(min(MAX_SPLIT_SCALE, 2 ** max(0, round(math.log2(max(ratio, 1.0))))))
    return _scale


def set_split_scale(scale):
    """Fix the threshold scale (``None``: measure it again on next use)."""
    global _scale
    _scale = None if scale is None else max(1, int(scale))


def pays_off(seconds):
    """Whether work of about ``seconds`` on one thread is worth splitting over the pool."""
    return _threads > 1 and not _native_active() and \
        seconds > 4 * REFERENCE_HANDOFF * split_scale()


def bounds(size, parts):
    """``parts`` contiguous [start, stop) ranges covering range(size)."""
    step = -(-size // parts)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def for_each_chunk(work, size, min_size=MIN_SIZE):
    """Call ``work(start, stop)`` on disjoint ranges covering ``range(size)``, in parallel.

    Ranges hold at least ``min_size`` · ``split_scale()`` items. ``work`` must only
    touch its own range (e.g. of flattened arrays) and must use NumPy operations that
    release the GIL. The caller's thread takes the first range.
    """
    if _threads == 1 or size < 2 * min_size or _native_active():
        work(0, size)
        return
    for_each_part(work, size, size // (min_size * split_scale()))


def for_each_part(work, size, parts=None):
    """Call ``work(start, stop)`` on ``parts`` (default: one per thread) ranges of range(size).

    For coarse work known to pay for a hand-off; the caller's thread takes the first range.
    With the native pool on (``backend.native``) the work runs inline: the compiled
    kernels and products it calls use the cores, and a second pool would only compete.
    """
    parts = min(_threads, size, _threads if parts is None else parts)
    if parts > 1 and _native_active():
        parts = 1
    if parts <= 1:
        work(0, size)
        return
    ranges = bounds(size, parts)
    pool = _get_pool()
    futures = [pool.submit(work, a, b) for a, b in ranges[1:]]
    work(*ranges[0])
    for future in futures:
        future.result()


def _native_active():
    from . import native     # imported here: native imports this module
    return native.active()


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
