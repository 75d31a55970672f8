"""The packed register-tile product (``backend.jit_tile``) beside NumPy's OpenBLAS, one core.

The products a recurrent layer repeats at every time step, with the weights packed once
(as the step loop would): C = A W for A (rows, K), W (K, N). Both on one thread (the
per-thread share of the 2-core step), interleaved ~0.3 s blocks, median of per-pair
ratios (tile / OpenBLAS throughput, > 1: the tile kernel is faster); blocks run under
foreign load are redone (``harness.py``). Run it alone.

    python bench/tile_gemm.py
    python bench/tile_gemm.py --repeats 9 --seconds 1
"""
import argparse

import harness  # bench/ is on sys.path when a script here runs; imports no numpy

SHAPES = [  # (rows, K, N, what)
    (64, 257, 512, "LSTM h W_hh per thread (2 of 4 gates, hidden 256, [h 1])"),
    (64, 257, 1024, "LSTM h W_hh, all gates"),
    (64, 1024, 256, "LSTM backward dA W_hh (4 gates summed)"),
    (64, 257, 384, "GRU h W_hh, all gates"),
    (8, 256, 1024, "batch 8"),
]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.3)
    args = p.parse_args()
    harness.use_threads(1)
    import numpy as np
    from layerwise.backend import jit, jit_tile
    if not jit.enabled():
        raise SystemExit("tile_gemm: needs numba (pip install 'layerwise[fast]')")
    print("| rows x K x N | what | tile GFLOP/s | OpenBLAS GFLOP/s | ratio | pairs (min-max) |")
    print("|---|---|---|---|---|---|")
    for rows, k, n, what in SHAPES:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((rows, k)).astype(np.float32)
        w = rng.standard_normal((k, n)).astype(np.float32)
        c = np.empty((rows, n), np.float32)

        def make_pair():
            panels = jit_tile.pack_panels(w)
            return (lambda: jit_tile.packed_matmul(a, panels, c, False),
                    lambda: np.matmul(a, w, out=c))
        result = harness.compare(make_pair, args.repeats, args.seconds)
        flop = 2 * rows * k * n / 1e9
        print(f"| {rows} x {k} x {n} | {what} | {result['a'] * flop:.0f} | "
              f"{result['b'] * flop:.0f} | **{result['ratio']:.2f}** | "
              f"{min(result['ratios']):.2f}-{max(result['ratios']):.2f} |")


if __name__ == "__main__":
    main()
