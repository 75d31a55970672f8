"""Matrix products split over the native pool, each thread calling the BLAS on its block.

With the native pool on (``backend.native``), NumPy's OpenBLAS runs on one thread, so a
product that should use every core is cut here: C = op(A) @ op(B) is split into column
blocks of C (multiples of 16, the width of the BLAS's kernels), or row blocks when C is
narrow, and each thread of the pool calls ``cblas_?gemm`` on its block:

    C[:, c0:c1] = op(A) @ op(B)[:, c0:c1]          C[r0:r1, :] = op(A)[r0:r1, :] @ op(B)

A stack of products (NumPy's broadcasting over leading dimensions) is split by items.
Transposed views go to the BLAS as transposed operands (no copy). The C functions are
NumPy's own OpenBLAS's (real and complex, single and double precision), found among
the loaded libraries by ``blas_functions``; the compiled loops receive their addresses
and call them through ``c_call``. Anything else (no native pool, other dtypes,
operands without a unit stride, a product too small to split) goes to ``np.matmul``.

Measured on the 2-core Intel machine of 2026-12-04, against OpenBLAS's own two threads:
64x784 @ (256x784)ᵀ 161 vs 160-172 µs, 64x3136 @ (1024x3136)ᵀ 2.36 vs 2.3 ms: the same
speed, without a second pool spinning on the cores.
"""
import math
import os
import time

import numpy as np

from . import jit, native
from .blas_functions import (NO_TRANS, ROW_MAJOR, TRANS, find_functions, gemm_at,
                             gemv_at, transpose_at)

__all__ = ["matmul", "available"]

MIN_SPLIT_FLOPS = 1e6          # per thread: below, one BLAS call (a region costs ~2 µs)
MIN_SPLIT_MATRIX = 1e5         # matrix-vector products, elements of the matrix per thread:
                               # they are memory-bound, each core streams its part from its
                               # own cache (1x784 @ (256x784)ᵀ: 10.5 -> 7.9 µs on 2 cores,
                               # 1x256 @ (128x256)ᵀ: 2.7 -> 4.7 µs, so it stays on one)
COLUMN_BLOCK = 16
SWAP_MIN_ROWS, SWAP_MAX_ROWS = 48, 128     # A Bᵀ with so many rows (and B 4x longer than A
                                           # has rows): computed as (B Aᵀ)ᵀ


_GEMMS, _GEMVS, _TRANSPOSERS, _INTEGER = find_functions()


def available():
    """True when products can be split over the native pool."""
    return bool(_GEMMS) and native.active()


def gemm_function(dtype):
    """(address of ``cblas_?gemm`` for ``dtype``, the BLAS's integer) for the compiled
    parallel loops that call the BLAS themselves (``blas_functions.gemm_at``); None
    without the native pool (after a fork, or another threading layer: those loops
    must not start parallel regions then)."""
    address = _GEMMS.get(np.dtype(dtype))
    return None if address is None or not native.active() else (address, _INTEGER)


def _operand(a):
    """(transposed flag, leading dimension) of a 2-D array for a row-major BLAS, or None."""
    item = a.itemsize
    rows, cols = a.strides
    if cols == item and rows % item == 0 and rows // item >= max(1, a.shape[1]):
        return NO_TRANS, rows // item
    if rows == item and cols % item == 0 and cols // item >= max(1, a.shape[0]):
        return TRANS, cols // item
    return None


def _batch_stride(view, batch_shape):
    """Elements between consecutive items of the flattened batch of ``view``, or None."""
    pairs = [(s, d) for s, d in zip(view.strides[:-2], batch_shape) if d != 1]
    for (stride, _), (inner, size) in zip(pairs, pairs[1:]):
        if stride != inner * size:
            return None
    if not pairs:
        return 0
    stride = pairs[-1][0]
    return stride // view.itemsize if stride % view.itemsize == 0 else None


def _stacked(x):
    """(first matrix, elements between matrices) of a 2-D or 3-D operand (0: shared)."""
    if x.ndim == 2 or x.shape[0] == 1:
        return x.reshape(x.shape[-2:]) if x.ndim == 3 else x, 0
    stride = x.strides[0]
    return x[0], (stride // x.itemsize if stride % x.itemsize == 0 else None)


def matmul(a, b, out=None):
    """``np.matmul(a, b, out=out)``, on all cores of the native pool where it can be."""
    if a.ndim == 2 and b.ndim == 2:       # the common case first; small products go straight on
        work = a.shape[0] * a.shape[1] * b.shape[1]
        if work < (MIN_SPLIT_MATRIX if a.shape[0] == 1 or b.shape[1] == 1 else
                   MIN_SPLIT_FLOPS) or not (
                _GEMMS and native.active()) or a.dtype != b.dtype or a.dtype not in _GEMMS \
                or a.shape[1] != b.shape[0]:
            return np.matmul(a, b, out=out)
        (m, k), n = a.shape, b.shape[1]
        return _matmul_2d(a, b, out, m, n, k, (8.0 if a.dtype.kind == "c" else 2.0) * m * n * k)
    if not (_GEMMS and native.active()) or a.dtype != b.dtype or a.dtype not in _GEMMS \
            or a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        return np.matmul(a, b, out=out)
    (m, k), n = a.shape[-2:], b.shape[-1]
    flops = (8.0 if a.dtype.kind == "c" else 2.0) * m * n * k
    if a.shape[:-2] == b.shape[:-2] or b.ndim == 2:
        batch = a.shape[:-2]
    elif a.ndim == 2:
        batch = b.shape[:-2]
    else:
        try:
            batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            return np.matmul(a, b, out=out)
    count = math.prod(batch)
    parts = native.parts(int(count * flops / MIN_SPLIT_FLOPS), 1)
    if parts < 2 or min(m, n, k) == 0:          # decided before any bookkeeping (~15 µs)
        return np.matmul(a, b, out=out)
    result = np.empty(batch + (m, n), a.dtype) if out is None else out
    if result.shape != batch + (m, n) or result.dtype != a.dtype:
        return np.matmul(a, b, out=out)
    if len(batch) == 1:       # a stack of matrices, or one matrix for all: no views needed
        first, strides = zip(*[_stacked(x) for x in (a, b, result)])
    else:
        views = [np.broadcast_to(x, batch + x.shape[-2:]) for x in (a, b)] + [result]
        first = [v[(0,) * len(batch)] for v in views]
        strides = [_batch_stride(v, batch) for v in views]
    ops = [_operand(x) for x in first]
    if None in ops or None in strides or ops[2][0] != NO_TRANS or (strides[2] == 0 and count > 1):
        return np.matmul(a, b, out=out)
    # whole items per thread when they divide evenly (3 items on 2 threads would idle one
    # thread a third of the time: then every item is split by columns instead)
    by_item = count % parts == 0 or count >= 4 * parts
    _run(a.dtype, ops, first, strides, count, m, n, k, parts, by_item)
    return result


def _matmul_2d(a, b, out, m, n, k, flops):
    """The common case without broadcasting bookkeeping (it costs ~20 µs)."""
    vector = m == 1 or n == 1
    parts = native.parts(int(m * n * k / MIN_SPLIT_MATRIX if vector else
                             flops / MIN_SPLIT_FLOPS), 1)
    if parts < 2:
        return np.matmul(a, b, out=out)
    result = np.empty((m, n), a.dtype) if out is None else out
    ops = (_operand(a), _operand(b), _operand(result) if result.shape == (m, n) else None)
    if None in ops or ops[2][0] != NO_TRANS or result.dtype != a.dtype or min(m, n, k) == 0:
        return np.matmul(a, b, out=out)
    if vector and a.dtype.kind == "f":
        _vector_product(a, b, result, ops, m, n, k, parts)
    elif _tiles_pay(a, b, result, ops, m, n, k, parts):
        _tiled(a, b, result, ops, m, n, k)
    else:
        _blocks(a, b, result, ops, m, n, k, parts)
    return result


def _blocks(a, b, result, ops, m, n, k, parts):
    """One block of C per thread (transposed for a layer's x Wᵀ, see ``_swap_pays``)."""
    if _swap_pays(ops, m, n, a.dtype):
        _swapped_product(a, b, result, ops, m, n, k, parts)
    else:
        _run(a.dtype, ops, (a, b, result), (0, 0, 0), 1, m, n, k, parts, False)


#: "measure" (default), "on" or "off": whether small products may be cut into tiles
TILES = os.environ.get("LAYERWISE_GEMM_TILES", "measure").strip().lower()
MAX_TILE_WORK = 1e6     # m · 16 · k of a tile: the size of OpenBLAS's unpacked small kernels
MAX_TILE_ROWS = 64
_tile_choices = {}


def _tile_rows(m, k):
    """Rows of a tile: all m when m ≤ 64 and m x 16 x k fits ``MAX_TILE_WORK``, else the
    most rows up to 64 (a multiple of 16) that do, over equal tiles; 0 when not even 16
    rows fit. (Tiles of 64 rows beat taller ones that still fit: 256x256 @ (128x256)ᵀ in
    128-row tiles 212 µs, in 64-row tiles 154, 512x256 @ (256x256)ᵀ 472 vs 326.)"""
    fit = min(MAX_TILE_ROWS, int(MAX_TILE_WORK // (COLUMN_BLOCK * k)))
    if fit >= m:
        return m
    if fit < 16:
        return 0
    pieces = -(-m // (fit // 16 * 16))
    return -(-m // pieces)


def _tiled(a, b, c, ops, m, n, k):
    """C in tiles of ``_tile_rows`` x 16, the tiles spread over the threads."""
    (ta, lda), (tb, ldb), (_, ldc) = ops
    one, zero = a.dtype.type(1), a.dtype.type(0)
    _gemm_tiles(_GEMMS[a.dtype], _INTEGER, ta, tb, m, n, k, a, b, c, lda, ldb, ldc, one, zero,
                _tile_rows(m, k))


@jit.parallel_kernel
def _gemm_tiles(gemm, integer, trans_a, trans_b, m, n, k, a, b, c, lda, ldb, ldc, one, zero,
                tile_rows):
    """C = op(A) op(B), one BLAS call per tile of tile_rows x 16 (the last ones smaller)."""
    item = c.itemsize
    row_tiles = (m + tile_rows - 1) // tile_rows
    column_tiles = (n + COLUMN_BLOCK - 1) // COLUMN_BLOCK
    for t in jit.prange(row_tiles * column_tiles):
        r0 = (t // column_tiles) * tile_rows
        c0 = (t % column_tiles) * COLUMN_BLOCK
        rows = min(m, r0 + tile_rows) - r0
        cols = min(n, c0 + COLUMN_BLOCK) - c0
        a_off, b_off, c_off = _offsets(trans_a, trans_b, lda, ldb, ldc, r0, c0)
        gemm_at(gemm, integer, trans_a, trans_b, rows, cols, k, one,
                 a.ctypes.data + a_off * item, lda, b.ctypes.data + b_off * item, ldb, zero,
                 c.ctypes.data + c_off * item, ldc)


def _tiles_pay(a, b, c, ops, m, n, k, parts):
    """Whether to cut C into 16-column tiles, several per thread, instead of one block each.

    OpenBLAS's x86-64 builds multiply small products (m·n·k up to ~10⁶) with kernels that
    skip packing the operands; a tile of 16 columns is such a product. On the Zen 4 of
    2026-12-04, two threads: 64x784 @ (256x784)ᵀ 169-177 µs in two blocks, 120-143 µs
    in 16 tiles; 64x256 @ (128x256)ᵀ 43-45 → 26-28 µs (PyTorch: 155-186 and 32-36). Where
    a build has no such kernels, each tile packs its operands again and tiles lose, so
    the choice is measured once per shape and layout (the faster of 3 runs each), like the
    convolution's algorithms; ``LAYERWISE_GEMM_TILES=on|off`` fixes it."""
    if TILES == "off" or a.dtype.kind != "f" or n < 2 * COLUMN_BLOCK or \
            _tile_rows(m, k) == 0:
        return False
    if TILES == "on":
        return True
    key = (m, n, k, ops[0], ops[1], ops[2], a.dtype.char)
    choice = _tile_choices.get(key)
    if choice is None:
        runs = {False: lambda: _blocks(a, b, c, ops, m, n, k, parts),
                True: lambda: _tiled(a, b, c, ops, m, n, k)}
        best = {False: math.inf, True: math.inf}
        for _ in range(3):
            for option, run in runs.items():
                start = time.perf_counter()
                run()
                best[option] = min(best[option], time.perf_counter() - start)
        choice = _tile_choices[key] = best[True] < best[False]
    return choice


def _swap_pays(ops, m, n, dtype):
    """True for A Bᵀ with few rows and B the larger operand (a layer's x Wᵀ): OpenBLAS packs
    a transposed B slowly (64x784 @ (256x784)ᵀ: 346 µs on one Zen 4 core, 274 µs for the
    same product with B laid out (k, n)). On two cores, with the transposes: 64x784 @
    (256x784)ᵀ 199-207 → 169-184 µs, 64x3136 @ (1024x3136)ᵀ 2.94-3.27 → 2.51-2.77 ms,
    64x257 @ (1024x257)ᵀ 296-375 → 245-254 µs; no gain below 48 rows or for B less than
    4x longer (64x256 @ (128x256)ᵀ)."""
    return (ops[0][0] == NO_TRANS and ops[1][0] == TRANS and dtype in _TRANSPOSERS
            and SWAP_MIN_ROWS <= m <= SWAP_MAX_ROWS and n >= 4 * m)


def _swapped_product(a, b, c, ops, m, n, k, parts):
    """C = A Bᵀ computed as its transpose, Cᵀ = B Aᵀ, with Aᵀ copied out first so that
    both operands reach the BLAS untransposed; each thread then transposes its block of
    Cᵀ into C.  Per thread: Cᵀ[c0:c1] = B[c0:c1] Aᵀ;  C[:, c0:c1] = Cᵀ[c0:c1]ᵀ.
    The transposes are OpenBLAS's ``?omatcopy`` (64x784: 8 µs; NumPy's copy: 16 µs)."""
    (_, lda), (_, ldb), (_, ldc) = ops
    a_t, c_t = np.empty((k, m), a.dtype), np.empty((n, m), a.dtype)
    one, zero = a.dtype.type(1), a.dtype.type(0)
    _gemm_swapped(_GEMMS[a.dtype], _TRANSPOSERS[a.dtype], _INTEGER, m, n, k, a, lda, b, ldb,
                  c, ldc, a_t, c_t, one, zero, parts)


@jit.parallel_kernel
def _gemm_swapped(gemm, transpose, integer, m, n, k, a, lda, b, ldb, c, ldc, a_t, c_t, one,
                  zero, parts):
    """Aᵀ by row blocks of A in one region; then in another, by column blocks of C:
    Cᵀ[c0:c1] = B[c0:c1] Aᵀ and C[:, c0:c1] = Cᵀ[c0:c1]ᵀ."""
    item = c.itemsize
    rows = (m + parts - 1) // parts
    for p in jit.prange(parts):
        r0 = p * rows
        r1 = min(m, r0 + rows)
        if r1 > r0:     # a_t[:, r0:r1] = a[r0:r1]ᵀ
            transpose_at(transpose, integer, r1 - r0, k, one, a.ctypes.data + r0 * lda * item,
                          lda, a_t.ctypes.data + r0 * item, m)
    step = ((n + parts - 1) // parts + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    for p in jit.prange(parts):
        c0 = p * step
        c1 = min(n, c0 + step)
        if c1 > c0:
            gemm_at(gemm, integer, NO_TRANS, NO_TRANS, c1 - c0, m, k, one,
                     b.ctypes.data + c0 * ldb * item, ldb, a_t.ctypes.data, m, zero,
                     c_t.ctypes.data + c0 * m * item, m)
            transpose_at(transpose, integer, c1 - c0, m, one,
                          c_t.ctypes.data + c0 * m * item, m, c.ctypes.data + c0 * item, ldc)


def _vector_product(a, b, c, ops, m, n, k, parts):
    """C = A B with a single row or column: a matrix-vector product (the BLAS's gemv),
    its output split over the threads.  c = op(B)ᵀ a for one row, c = op(A) b for one column."""
    (ta, lda), (tb, ldb), (_, ldc) = ops
    if m == 1:      # c (n) = op(B)ᵀ a: B stored (k x n), or (n x k) when op(B) = Bᵀ
        matrix, ld = b, ldb
        trans, (rows, cols) = (TRANS, (k, n)) if tb == NO_TRANS else (NO_TRANS, (n, k))
        vector, inc_x, inc_y = a, 1 if ta == NO_TRANS else lda, 1
    else:           # c (m) = op(A) b: A stored (m x k), or (k x m) when op(A) = Aᵀ
        matrix, ld = a, lda
        trans, (rows, cols) = (NO_TRANS, (m, k)) if ta == NO_TRANS else (TRANS, (k, m))
        vector, inc_x, inc_y = b, ldb if tb == NO_TRANS else 1, ldc
    _gemv_real(_GEMVS[a.dtype], _INTEGER, trans, rows, cols, matrix, ld, vector, inc_x, c,
               inc_y, a.dtype.type(1), a.dtype.type(0), parts)


def _run(dtype, ops, first, strides, count, m, n, k, parts, by_item):
    """Call the compiled loop (its block decisions: ``_block``)."""
    gemm = _GEMMS[dtype]
    (ta, lda), (tb, ldb), (_, ldc) = ops
    split_rows = not by_item and (n < 2 * COLUMN_BLOCK * parts or m >= 2 * n) and m >= parts
    scalars = np.array([1, 0], dtype)       # complex α, β go by address (kept alive here)
    alpha, beta = (scalars.ctypes.data, scalars.ctypes.data + dtype.itemsize) \
        if dtype.kind == "c" else (dtype.type(1), dtype.type(0))
    _gemm(gemm, _INTEGER, ta, tb, count, m, n, k, *first, lda, ldb, ldc, *strides, alpha, beta,
          parts, by_item, split_rows)


@jit.kernel
def _block(p, parts, count, m, n, by_item, split_rows):
    """(first item, last item, row offset, rows, column offset, columns) of part p."""
    if by_item:
        step = (count + parts - 1) // parts
        return p * step, min(count, (p + 1) * step), 0, m, 0, n
    if split_rows:
        step = (m + parts - 1) // parts
        return 0, count, p * step, max(0, min(m, (p + 1) * step) - p * step), 0, n
    step = ((n + parts - 1) // parts + COLUMN_BLOCK - 1) // COLUMN_BLOCK * COLUMN_BLOCK
    return 0, count, 0, m, p * step, max(0, min(n, (p + 1) * step) - p * step)


@jit.kernel
def _offsets(trans_a, trans_b, lda, ldb, ldc, r0, c0):
    """Element offsets of a block's A, B and C from the first item's corners."""
    a_off = r0 * lda if trans_a == NO_TRANS else r0
    b_off = c0 if trans_b == NO_TRANS else c0 * ldb
    return a_off, b_off, r0 * ldc + c0


@jit.parallel_kernel
def _gemm(gemm, integer, trans_a, trans_b, count, m, n, k, a, b, c, lda, ldb, ldc, stride_a,
          stride_b, stride_c, alpha, beta, parts, by_item, split_rows):
    """C = op(A) op(B) for every item, cut into ``parts`` blocks, one BLAS call each
    (α = 1, β = 0: values for real types, addresses of values for complex ones)."""
    item = c.itemsize
    for p in jit.prange(parts):
        first, last, r0, rows, c0, cols = _block(p, parts, count, m, n, by_item, split_rows)
        a_off, b_off, c_off = _offsets(trans_a, trans_b, lda, ldb, ldc, r0, c0)
        for i in range(first, last):
            if rows > 0 and cols > 0:
                gemm_at(gemm, integer, trans_a, trans_b, rows, cols, k, alpha,
                         a.ctypes.data + (i * stride_a + a_off) * item, lda,
                         b.ctypes.data + (i * stride_b + b_off) * item, ldb, beta,
                         c.ctypes.data + (i * stride_c + c_off) * item, ldc)


@jit.parallel_kernel
def _gemv_real(gemv, integer, trans, rows, cols, a, lda, x, inc_x, y, inc_y, one, zero,
               parts):
    """y = op(A) x with A (rows x cols) row-major, the entries of y split over ``parts``."""
    item = y.itemsize
    length = rows if trans == NO_TRANS else cols
    step = (length + parts - 1) // parts
    for p in jit.prange(parts):
        first = p * step
        count = min(length, first + step) - first
        if count > 0:
            if trans == NO_TRANS:
                shape, offset = (count, cols), first * lda
            else:
                shape, offset = (rows, count), first
            gemv_at(gemv, integer, trans, shape[0], shape[1], one, a.ctypes.data + offset * item,
                    lda, x.ctypes.data, inc_x, zero, y.ctypes.data + first * inc_y * item, inc_y)


