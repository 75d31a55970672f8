"""Direct convolution (stride 1) as generated, compiled loops: no im2col copy, no BLAS.

A first layer (one input channel, a 5x5 kernel) makes im2col copy every pixel 25 times
to feed a matrix product whose inner dimension is only 25: the copy, not the
arithmetic, takes the time. Here every output row is computed where it is stored.

**The row-pitch trick.** Image n's channel c is copied, zero-padded, into a flat row
``xs[c]`` of pitch ``wp`` (the padded width). Output pixel (i, j) is then given the
flat index l = i·wp + j, and the tap (p, q) of its receptive field sits at
l + p·dh·wp + q·dw, the same shift for every pixel. So one kernel row p of one
channel c adds, for all pixels at once,

    acc[o, l] += Σ_q w[o, c, p, q] · xs[c, l + p·dh·wp + q·dw]        for l < Ho·wp

a loop over l with unit-stride loads that the compiler turns into SIMD. The columns
j ≥ Wo of each row (``wp - Wo`` of them) are computed and dropped: the price of
contiguous loops (14% more work for a 28-wide image with a 5x5 kernel).

**Register blocking.** One pass of the l loop serves ``OB`` output channels and all
``KW`` taps of a kernel row: the KW shifted input values are loaded once and used
OB times, the OB·KW weights stay in registers, and each accumulator is loaded and
stored once per KW multiply-adds. numba cannot keep a variable number of values in
registers, so the loop body is generated as Python source for each (KW, OB), written
to the kernel cache directory and compiled with numba's disk cache (``kernels(KW, OB)``
returns the module; the generated source of any variant is ``source(KW, OB)``).

Per variant, two kernels and their drivers (``forward_parallel``, ``weight_grad_parallel``:
one range of images, or of channel blocks, per thread of the native pool):

- ``forward``: acc as above, then y[n, o, i, j] = acc[o, i·wp + j] + b[o], a block of
  output rows at a time (``rows``) so the OB accumulator rows stay in the L1 cache;
- ``weight_grad``: dL/dw[o, c, p, q] = Σ_n Σ_l g[n, o, l] · xs[c, l + p·dh·wp + q·dw],
  with dL/dy laid on the same pitch and zeros in the dropped columns, OB·KW sums
  in registers;
- the input gradient needs no kernel of its own: for stride 1 it is the forward
  convolution of dL/dy with the flipped, transposed kernel (``conv_direct``).

Floating-point contraction (FMA) and reassociation of the sums are allowed
(``fastmath={'contract', 'reassoc'}``): results differ from the GEMM's in the last
bits, as two BLAS libraries' do; NaN and inf still propagate.
"""
import functools
import os

from . import jit

FASTMATH = {"contract", "reassoc"}


def _weights(kw, ob, indent):
    return [f"{indent}w{a}_{q} = w[o0 + {a}, c, p, {q}]" for a in range(ob) for q in range(kw)]


def _slices(kw, indent, start, length):
    return [f"{indent}x{q} = xs[{start} + {q} * dw: {start} + {q} * dw + {length}]"
            for q in range(kw)]


def source(kw, ob):
    """Python source of the forward and weight-gradient kernels for kernel width KW, OB channels."""
    taps = range(kw)
    lines = [
        "from layerwise.backend.jit_conv_direct import compiled, compiled_parallel, prange",
        "",
        "",
        "@compiled",
        "def forward(x, w, bias, y, xs, acc, n0, n1, o_first, o_last, top, left, dh, dw, rows):",
        "    C, H, W = x.shape[1], x.shape[2], x.shape[3]",
        "    kh = w.shape[2]",
        "    ho, wo = y.shape[2], y.shape[3]",
        f"    wp = wo + dw * {kw - 1}",
        "    hp = ho + dh * (kh - 1)",
        f"    S = hp * wp + dw * {kw - 1}",
        "    h_in = min(H, hp - top)",
        "    w_in = min(W, wp - left)",
        "    for k in range(C * S):",
        "        xs[k] = 0",
        "    for n in range(n0, n1):",
        "        for c in range(C):",
        "            for i in range(h_in):",
        "                row = xs[c * S + (i + top) * wp + left: c * S + (i + top) * wp + left + w_in]",
        "                for j in range(w_in):",
        "                    row[j] = x[n, c, i, j]",
        f"        for o0 in range(o_first, o_last, {ob}):",
        "            for i0 in range(0, ho, rows):",
        "                i1 = min(i0 + rows, ho)",
        "                L = (i1 - i0) * wp",
        f"                for k in range({ob} * L):",
        "                    acc[k] = 0",
    ]
    lines += [f"                a{a} = acc[{a} * L: {a + 1} * L]" for a in range(ob)]
    lines += ["                for c in range(C):",
              "                    for p in range(kh):",
              "                        start = c * S + (i0 + p * dh) * wp"]
    lines += _weights(kw, ob, " " * 24)
    lines += _slices(kw, " " * 24, "start", "L")
    lines += ["                        for l in range(L):"]
    lines += [f"                            v{q} = x{q}[l]" for q in taps]
    lines += [f"                            a{a}[l] += " + " + ".join(f"w{a}_{q} * v{q}" for q in taps)
              for a in range(ob)]
    for a in range(ob):
        lines += [f"                b = bias[o0 + {a}]",
                  "                for i in range(i0, i1):",
                  f"                    out = y[n, o0 + {a}, i]",
                  f"                    src = a{a}[(i - i0) * wp: (i - i0) * wp + wo]",
                  "                    for j in range(wo):",
                  "                        out[j] = src[j] + b"]
    lines += [
        "",
        "",
        "@compiled",
        "def weight_grad(x, g, grad_w, xs, gs, zero, n0, n1, o_first, o_last, top, left, dh, dw):",
        "    C, H, W = x.shape[1], x.shape[2], x.shape[3]",
        "    ho, wo = g.shape[2], g.shape[3]",
        "    kh = grad_w.shape[2]",
        f"    wp = wo + dw * {kw - 1}",
        "    hp = ho + dh * (kh - 1)",
        f"    S = hp * wp + dw * {kw - 1}",
        "    L = ho * wp",
        "    h_in = min(H, hp - top)",
        "    w_in = min(W, wp - left)",
        "    for k in range(C * S):",
        "        xs[k] = 0",
        "    for k in range((o_last - o_first) * L):",
        "        gs[k] = 0",
        "    for n in range(n0, n1):",
        "        for c in range(C):",
        "            for i in range(h_in):",
        "                row = xs[c * S + (i + top) * wp + left: c * S + (i + top) * wp + left + w_in]",
        "                for j in range(w_in):",
        "                    row[j] = x[n, c, i, j]",
        "        for o in range(o_last - o_first):",
        "            for i in range(ho):",
        "                row = gs[o * L + i * wp: o * L + i * wp + wo]",
        "                for j in range(wo):",
        "                    row[j] = g[n, o_first + o, i, j]",
        f"        for o0 in range(o_first, o_last, {ob}):",
    ]
    lines += [f"            g{a} = gs[(o0 - o_first + {a}) * L: (o0 - o_first + {a} + 1) * L]"
              for a in range(ob)]
    lines += ["            for c in range(C):",
              "                for p in range(kh):",
              "                    start = c * S + p * dh * wp"]
    lines += [f"                    s{a}_{q} = zero" for a in range(ob) for q in taps]
    lines += _slices(kw, " " * 20, "start", "L")
    lines += ["                    for l in range(L):"]
    lines += [f"                        v{q} = x{q}[l]" for q in taps]
    lines += [f"                        u{a} = g{a}[l]" for a in range(ob)]
    lines += [f"                        s{a}_{q} += u{a} * v{q}" for a in range(ob) for q in taps]
    lines += [f"                    grad_w[o0 + {a}, c, p, {q}] += s{a}_{q}"
              for a in range(ob) for q in taps]
    return "\n".join(lines) + "\n" + PARALLEL_SOURCE


# The same in every generated module: the kernels above, one range of work per thread.
PARALLEL_SOURCE = """

@compiled_parallel
def forward_parallel(x, w, bias, y, xs, acc, parts, by_image, ob, top, left, dh, dw, rows):
    n, o = x.shape[0], w.shape[0]
    size = n if by_image else o // ob
    step = (size + parts - 1) // parts
    for p in prange(parts):
        first, last = p * step, min(size, (p + 1) * step)
        if last > first:
            if by_image:
                forward(x, w, bias, y, xs[p], acc[p], first, last, 0, o, top, left, dh, dw,
                        rows)
            else:
                forward(x, w, bias, y, xs[p], acc[p], 0, n, first * ob, last * ob, top, left,
                        dh, dw, rows)


@compiled_parallel
def weight_grad_parallel(x, g, grad_w, xs, gs, zero, parts, top, left, dh, dw):
    n, o = x.shape[0], g.shape[1]
    step = (n + parts - 1) // parts
    for p in prange(parts):
        first, last = p * step, min(n, (p + 1) * step)
        if last > first:
            weight_grad(x, g, grad_w[p], xs[p], gs[p], zero, first, last, 0, o, top, left, dh,
                        dw)
"""


def _cache(function):
    """numba's disk cache only for functions whose source is a file (not the in-memory fallback)."""
    return os.path.exists(function.__code__.co_filename)


def compiled(function):
    """A generated kernel, compiled (FMA contraction and reassociation allowed)."""
    if jit.numba is None:
        return function
    return jit.numba.njit(nogil=True, error_model="numpy", fastmath=FASTMATH,
                          cache=_cache(function))(function)


def compiled_parallel(function):
    """A generated driver whose ``prange`` runs on the native pool."""
    if jit.numba is None:
        return function
    return jit.numba.njit(nogil=True, error_model="numpy", parallel=True,
                          cache=_cache(function))(function)


prange = jit.prange


@functools.lru_cache(maxsize=None)
def kernels(kw, ob):
    """The compiled module for kernel width ``kw`` and ``ob`` channels per pass: ``forward``,
    ``weight_grad`` and their ``*_parallel`` drivers (one range of work per thread).

    The generated source goes through ``jit.generated_module``, so numba's machine code
    is cached on disk like that of the other kernels (the first use costs ~1 s each).
    """
    return jit.generated_module(f"conv_direct_k{kw}_b{ob}", source(kw, ob))
