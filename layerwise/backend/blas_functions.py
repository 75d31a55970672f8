"""NumPy's own OpenBLAS as C functions for the compiled loops of ``blas``.

``find_functions`` looks up ``cblas_?gemm``, ``cblas_?gemv`` and ``?omatcopy`` among the
loaded libraries (as ``blas_threads`` finds its thread setter) and returns their addresses:
the loops call them by address through ``c_call`` (a ctypes object as an argument would
cost numba's dispatcher a Python typing on every call). ``gemm_at`` and ``transpose_at``
are one call each, on addresses, with the library's integer width.
"""
import ctypes

import numpy as np

from . import blas_threads, jit
from .c_call import call, like, pointer, scalar

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
_TYPES = (("s", np.float32), ("d", np.float64), ("c", np.complex64), ("z", np.complex128))


def find_functions():
    """({dtype: ?gemm}, {dtype: ?gemv}, {dtype: ?omatcopy}, integer) of NumPy's OpenBLAS
    as C addresses, ``integer`` a zero of the library's integer type (np.int32 or
    np.int64); or ({}, {}, {}, None). ``?omatcopy`` (B = α Aᵀ, OpenBLAS's vectorized
    transpose) only for the real types."""
    for path in blas_threads._loaded_openblas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:   # pragma: no cover
            continue
        for prefix, suffix, integer in (("scipy_cblas_", "64_", np.int64),
                                        ("cblas_", "64_", np.int64),
                                        ("scipy_cblas_", "", np.int32),
                                        ("cblas_", "", np.int32)):
            found = ({}, {}, {})
            for letter, dtype in _TYPES:
                names = ("gemm", "gemv") + (("omatcopy",) if letter in "sd" else ())
                functions = [getattr(library, f"{prefix}{letter}{name}{suffix}", None)
                             for name in names]
                if None in functions:
                    break
                for table, function in zip(found, functions):
                    table[np.dtype(dtype)] = ctypes.cast(function, ctypes.c_void_p).value
            if len(found[0]) == len(_TYPES):
                return found + (integer(0),)
    return {}, {}, {}, None


@jit.kernel
def gemm_at(gemm, integer, trans_a, trans_b, rows, cols, k, alpha, a, lda, b, ldb, beta, c,
            ldc):
    """One row-major ``cblas_?gemm`` call on the addresses a, b, c."""
    call(gemm, np.int32(ROW_MAJOR), np.int32(trans_a), np.int32(trans_b), like(rows, integer),
         like(cols, integer), like(k, integer), scalar(alpha), pointer(a), like(lda, integer),
         pointer(b), like(ldb, integer), scalar(beta), pointer(c), like(ldc, integer))


@jit.kernel
def transpose_at(transpose, integer, rows, cols, alpha, a, lda, b, ldb):
    """One row-major ``?omatcopy`` call: B = α Aᵀ, A (rows x cols) at address a."""
    call(transpose, np.int32(ROW_MAJOR), np.int32(TRANS), like(rows, integer),
         like(cols, integer), alpha, pointer(a), like(lda, integer), pointer(b),
         like(ldb, integer))


@jit.kernel
def gemv_at(gemv, integer, trans, rows, cols, alpha, a, lda, x, inc_x, beta, y, inc_y):
    """One row-major ``cblas_?gemv`` call: y = α op(A) x + β y on the addresses a, x, y."""
    call(gemv, np.int32(ROW_MAJOR), np.int32(trans), like(rows, integer), like(cols, integer),
         alpha, pointer(a), like(lda, integer), pointer(x), like(inc_x, integer), beta,
         pointer(y), like(inc_y, integer))
