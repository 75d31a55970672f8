"""Compiled kernels call C functions by address: arguments reach C with the right types."""
import ctypes
import ctypes.util

import numpy as np
import pytest

from layerwise.backend import jit

numba = pytest.importorskip("numba")
from layerwise.backend.c_call import call, like, pointer, scalar  # noqa: E402

LIBC = ctypes.CDLL(ctypes.util.find_library("c"))
MEMSET = ctypes.cast(LIBC.memset, ctypes.c_void_p).value


@numba.njit
def _fill_bytes(address, target, value, count):
    call(address, pointer(target.ctypes.data), np.int32(value), np.int64(count))


def test_call_passes_pointers_and_integers_to_c():
    target = np.zeros(16, np.uint8)
    _fill_bytes(MEMSET, target, 7, 10)
    np.testing.assert_array_equal(target, [7] * 10 + [0] * 6)


@numba.njit
def _converted(value, witness):
    return like(value, witness)


def test_like_converts_to_the_witness_type():
    assert _converted(2 ** 33 + 5, np.int32(0)) == 5           # C's truncation to 32 bits
    assert _converted(3, np.float64(0)) == 3.0


OMATCOPY = None
if jit.enabled():
    from layerwise.backend import blas
    OMATCOPY = blas._TRANSPOSERS.get(np.dtype(np.float64))


@numba.njit
def _scaled_transpose(address, a, out, alpha, integer):
    call(address, np.int32(101), np.int32(112), like(a.shape[0], integer),
         like(a.shape[1], integer), scalar(alpha), pointer(a.ctypes.data),
         like(a.shape[1], integer), pointer(out.ctypes.data), like(a.shape[0], integer))


@pytest.mark.skipif(OMATCOPY is None, reason="needs NumPy's OpenBLAS")
def test_scalar_arguments_go_by_value():
    a = np.arange(12.0).reshape(3, 4)
    out = np.zeros((4, 3))
    _scaled_transpose(OMATCOPY, a, out, 2.5, blas._INTEGER)
    np.testing.assert_array_equal(out, 2.5 * a.T)


def test_unsupported_argument_types_are_refused_when_compiling():
    @numba.njit
    def bad(address, value):
        call(address, value)
    with pytest.raises(numba.core.errors.TypingError, match="argument 0 has type"):
        bad(MEMSET, np.int16(1))
