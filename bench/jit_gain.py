"""What numba's compiled kernels buy: layerwise with them against layerwise without.

The same training steps as ``bench/speed.py`` (and the LSTM/GRU steps of
``bench/speed_sequences.py``), run by layerwise twice in one process, interleaved in ~1 s
blocks: A with the compiled kernels (``layerwise.backend.jit`` enabled), B with the NumPy
code (disabled); fresh models and optimizers for each pair; the gain is the median of
the per-pair throughput ratios A/B. Blocks run under foreign load are redone
(``harness.py``). Run it alone.

Both sides run on the Python pool with the BLAS's own threads (``LAYERWISE_POOL=python``,
set here): the native pool, once started, keeps the BLAS on one thread for the whole
process, which would leave the NumPy side one BLAS thread, and giving it its threads back
per block leaves them spinning into the compiled side's blocks. So this measures the
compiled kernels alone; what the native pool adds on top is the difference between
``python bench/speed.py`` and ``LAYERWISE_POOL=python python bench/speed.py``, and the
NumPy-only code against PyTorch is ``LAYERWISE_JIT=0 python bench/speed.py``.

    python bench/jit_gain.py                       # 4 CNN/MLP models and LSTM/GRU, train
    python bench/jit_gain.py --models seed003-cnn --repeats 9
"""
import argparse
import os
import sys

import harness  # bench/ is on sys.path when a script here runs; imports no numpy


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="mlp,lenet5,seed004-cnn,seed003-cnn,lstm,gru")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    return p.parse_args()


ARGS = parse_args()
os.environ["LAYERWISE_POOL"] = "python"      # see the module docstring
harness.use_threads(ARGS.threads)
COMMAND = " ".join(["python bench/jit_gain.py"] + sys.argv[1:])
sys.argv = sys.argv[:1]          # speed.py and speed_sequences.py parse their own defaults

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speed  # noqa: E402
import speed_sequences  # noqa: E402

from layerwise.backend import jit  # noqa: E402


def with_jit(step, flag):
    def run():
        jit.set_enabled(flag)
        step()
    return run


def make_pair(name):
    def pair():
        if name in ("lstm", "gru"):
            a, b = (speed_sequences.make_step("layerwise", name, "train") for _ in range(2))
        else:
            a, b = (speed.layerwise_step(name, "train", 64) for _ in range(2))
        return with_jit(a, True), with_jit(b, False)
    return pair


def main():
    if not jit.available():
        sys.exit("numba is not installed: pip install 'layerwise[fast]'")
    print(f"{speed.machine_description()}\n")
    print("| model (train step, batch 64) | with numba, steps/s | NumPy only, steps/s | gain | "
          "pairs (min-max) |")
    print("|---|---|---|---|---|")
    for name in ARGS.models.split(","):
        r = harness.compare(make_pair(name), ARGS.repeats, ARGS.seconds,
                            log=lambda m: print(m, file=sys.stderr))
        note = f" ({r['loaded']} blocks still under foreign load)" if r["loaded"] else ""
        print(f"| {name} | {r['a']:,.1f} | {r['b']:,.1f} | **{r['ratio']:.2f}x** | "
              f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f}{note} |", flush=True)
    jit.set_enabled(True)
    print(f"\nCommand: `{COMMAND}`")


if __name__ == "__main__":
    main()
