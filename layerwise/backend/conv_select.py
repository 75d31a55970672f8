"""Choosing a convolution algorithm per layer shape, by measuring (cuDNN's benchmark mode).

Five implementations compute the same convolution:

- ``"gemm"``: channel-major im2col and three large GEMMs (``conv_gemm.GemmConv``);
- ``"gemm_batched"``: batch-major im2col, one GEMM per image, a few images at a time on
  each core (``conv_batched.BatchedGemmConv``); the only one supporting groups;
- ``"fft"``: the convolution theorem with FFT calls (``conv_fft.FFTConv``);
- ``"dft"``: the convolution theorem with the transforms as matrix products
  (``conv_dft.DFTConv``), faster on small images; both stride 1, no dilation;
- ``"direct"``: the definition as compiled, vectorized loops with no im2col copy
  (``conv_direct.DirectConv``), for stride 1 when numba is installed; it wins on
  layers with few input channels, where im2col's copy costs more than the product.

With the default ``"auto"``, a shape (input, weight, stride, padding, dilation,
groups, dtype, whether a backward pass follows) seen for the first time gets a
default without measuring (``"direct"`` for at most ``SMALL_DIRECT_TAPS`` input values
per output, ``"gemm_batched"`` otherwise), so one-off forward passes stay
cheap; when the same shape comes back in training (or often enough in inference:
``INFERENCE_SIGHTINGS`` times, an evaluation loop rather than one deep network
repeating a layer shape), every applicable algorithm is timed on random data of that shape (forward, plus backward when
training; at most ``MEASURE_BATCH`` images, so timing stays cheap for big evaluation
batches) and the fastest is remembered for the rest of the process. Small
problems never measure; the frequency methods are only tried for kernels of at
least 3x3 on grids up to 64x64 (beyond, the per-frequency products and the dense
DFT matrices cost more than they save). Override with
``set_algorithm(name)``, the ``algorithm(name)`` context manager, or the environment
variable ``LAYERWISE_CONV_ALGORITHM``; ``choices()`` shows what was picked.
"""
import contextlib
import os
import time

import numpy as np

from . import conv_direct
from .conv_batched import BatchedGemmConv
from .conv_dft import DFTConv
from .conv_fft import FFTConv
from .conv_gemm import GemmConv

ALGORITHMS = ("gemm", "gemm_batched", "fft", "dft", "direct")
MIN_MEASURED_FLOPS = 1e6       # forward flops below which measuring costs more than it saves
MAX_FREQUENCY_GRID = 64
MAX_DIRECT_TAPS = 400          # C·kh·kw above which the direct loops are not tried
SMALL_DIRECT_TAPS = 160        # C·kh·kw up to which they are the unmeasured default
INFERENCE_SIGHTINGS = 8
MEASURE_BATCH = 64             # algorithms are timed on at most this many images
DEFAULT = "gemm_batched"

_forced = os.environ.get("LAYERWISE_CONV_ALGORITHM") or None
_choices = {}
_sightings = {}


def set_algorithm(name):
    """Force one algorithm for every convolution (``None`` or ``"auto"``: measure)."""
    global _forced
    if name not in (None, "auto") + ALGORITHMS:
        raise ValueError(f"unknown convolution algorithm {name!r}; choose from "
                         f"auto, {', '.join(ALGORITHMS)}")
    _forced = None if name == "auto" else name


@contextlib.contextmanager
def algorithm(name):
    """``with algorithm("fft"): ...`` runs the block with that algorithm forced."""
    previous = _forced
    set_algorithm(name)
    try:
        yield
    finally:
        set_algorithm(previous)


def choices():
    """The measured choice for each shape seen so far: {key: algorithm name}."""
    return dict(_choices)


def applicable(name, stride, dilation, groups, padding=((0, 0), (0, 0)), weight_shape=None,
               dtype=np.float32):
    """Whether algorithm ``name`` can compute this convolution at all."""
    if name == "gemm_batched":
        return True
    if name == "direct":
        kernel = (1, 1, 1, 1) if weight_shape is None else weight_shape
        return conv_direct.applicable(kernel, stride, padding, dilation, groups, dtype)
    if groups != 1:
        return False
    if name in ("fft", "dft"):
        return tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
    return True


def _worth_trying(name, x_shape, weight_shape, padding):
    """Skip candidates that cannot win: frequency methods for tiny kernels, DFT on big grids,
    direct loops for pointwise kernels or many input values per output."""
    if name == "direct":
        taps = weight_shape[1] * weight_shape[2] * weight_shape[3]
        return weight_shape[2:] != (1, 1) and taps <= MAX_DIRECT_TAPS
    if name not in ("fft", "dft"):
        return True
    if min(weight_shape[2:]) < 3:
        return False
    grid = [size + before + after for size, (before, after) in zip(x_shape[2:], padding)]
    return max(grid) <= MAX_FREQUENCY_GRID


def make(name, x, weight, stride, padding, dilation, groups, for_backward=True):
    """The algorithm object for this convolution (it holds what backward needs).

    ``for_backward=False`` (inference) lets it skip keeping what only backward reads.
    """
    if name == "gemm_batched":
        return BatchedGemmConv(x, weight, stride, padding, dilation, groups, for_backward)
    if name == "fft":
        return FFTConv(x, weight, padding)
    if name == "dft":
        return DFTConv(x, weight, padding, for_backward)
    if name == "direct":
        return conv_direct.DirectConv(x, weight, stride, padding, dilation, groups, for_backward)
    return GemmConv(x, weight, stride, padding, dilation)


def _flops(x_shape, w_shape, padding):
    n, _, h, w = x_shape
    o, cg, kh, kw = w_shape
    (top, bottom), (left, right) = padding
    return 2.0 * n * o * cg * kh * kw * max(h + top + bottom - kh + 1, 1) * \
        max(w + left + right - kw + 1, 1)


def _time(name, x, weight, stride, padding, dilation, groups, backward, need_input, repeats=3):
    best = float("inf")
    for _ in range(repeats + 1):  # the first run warms caches and buffer pools up
        start = time.perf_counter()
        conv = make(name, x, weight, stride, padding, dilation, groups, for_backward=backward)
        y = conv.forward()
        if backward:
            conv.backward(y, need_input=need_input, need_weight=True)
        else:
            release = getattr(conv, "release", None)
            if release:
                release()
        best = min(best, time.perf_counter() - start)
    return best


def _default(candidates, weight_shape):
    """The unmeasured choice: the direct loops for few input values per output (a first
    layer: 2x faster than im2col + GEMM at batch 1-8), else the batch-major GEMM."""
    taps = weight_shape[1] * weight_shape[2] * weight_shape[3]
    return "direct" if "direct" in candidates and taps <= SMALL_DIRECT_TAPS else DEFAULT


def choose(x_shape, weight_shape, dtype, stride, padding, dilation, groups, backward,
           need_input=True):
    """The algorithm to use for this convolution (measured once per shape)."""
    if _forced is not None:
        if not applicable(_forced, stride, dilation, groups, padding, weight_shape, dtype):
            return "gemm_batched"
        return _forced
    key = (tuple(x_shape), tuple(weight_shape), np.dtype(dtype).str, tuple(stride),
           tuple(map(tuple, padding)), tuple(dilation), groups, backward, need_input)
    name = _choices.get(key)
    if name is not None:
        return name
    candidates = [a for a in ALGORITHMS
                  if applicable(a, stride, dilation, groups, padding, weight_shape, dtype)
                  and _worth_trying(a, x_shape, weight_shape, padding)]
    if _flops(x_shape, weight_shape, padding) < MIN_MEASURED_FLOPS or len(candidates) == 1:
        name = _default(candidates, weight_shape)
    else:
        seen = _sightings[key] = _sightings.get(key, 0) + 1
        if seen < (2 if backward else INFERENCE_SIGHTINGS):
            return _default(candidates, weight_shape)   # not (yet) repeated: no timing
        rng = np.random.default_rng(0)   # time on a slice of the batch: cost stays bounded
        x = rng.standard_normal((min(x_shape[0], MEASURE_BATCH),) + tuple(x_shape[1:]))
        x = x.astype(dtype)
        w = rng.standard_normal(weight_shape).astype(dtype)
        timings = {a: _time(a, x, w, stride, padding, dilation, groups, backward, need_input)
                   for a in candidates}
        name = min(timings, key=timings.get)
    _choices[key] = name
    return name
