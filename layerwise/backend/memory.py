"""Keeping freed memory for reuse: glibc's malloc tuned for array workloads.

A training step allocates and frees the same large temporaries (activations,
gradients, transform buffers) over and over. By default glibc serves every
allocation above a few hundred KB with a fresh ``mmap`` and returns it to the
kernel on ``free``; the next step's array then page-faults on every 4 KiB page
it touches — for a NumPy framework, a cost comparable to the arithmetic. Raising
the mmap threshold (to glibc's maximum, 32 MiB) and the trim threshold makes those
arrays come from, and go back to, the process heap, where the pages stay mapped.
The price is that the process keeps its peak memory instead of shrinking after it.

Applied once when layerwise is imported, on glibc systems only; set
``LAYERWISE_MALLOC_TUNING=0`` to leave malloc alone.
"""
import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024       # glibc's upper bound on 64-bit systems
TRIM_THRESHOLD = 1024 * 1024 * 1024
TOP_PAD = 64 * 1024 * 1024

_applied = None


def tune_malloc():
    """Apply the settings; True if glibc accepted them (idempotent)."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("LAYERWISE_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
                    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) and
                    mallopt(M_TOP_PAD, TOP_PAD))
    return _applied
