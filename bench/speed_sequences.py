"""LSTM and GRU throughput of layerwise beside PyTorch, as ratios (speed.py's ``sequences`` suite).

For each layer (LSTM, GRU; batch 64, sequence 50, input 64, hidden 256 by default):
- train: one full step (forward over the sequence, loss on all outputs, backpropagation
  through time, Adam step);
- infer: forward in eval mode under no_grad;
timed in ~1 s blocks, layerwise and PyTorch interleaved (``harness.compare``), with the
same number of threads, fresh modules per repeat; the ratio is layerwise's throughput
over PyTorch's (> 1: layerwise is faster), the median of per-pair ratios.
``--profile`` also times the whole forward and training step of layerwise's layer
beside the OpenBLAS products of the step-by-step formulation (recurrent GEMMs, input
projection, weight-gradient GEMMs), piece by piece: the GRU and the float64 LSTM run
those products; the float32 LSTM runs its recurrent and input products in register
tiles instead (``backend/jit_lstm_steps.py``, BENCHMARKS.md), so for it they are a
reference for what the BLAS would spend.

    python bench/speed_sequences.py                        # LSTM and GRU, train and infer
    python bench/speed_sequences.py --layers lstm --phases infer --repeats 3 --profile
    python bench/speed_sequences.py --threads 1 --seconds 0.3 --repeats 2   # smoke test
"""
import argparse
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", default="lstm,gru", help="comma list of lstm, gru, rnn")
    p.add_argument("--phases", default="train,infer", help="comma list of train, infer")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=50)
    p.add_argument("--input-size", type=int, default=64)
    p.add_argument("--hidden-size", type=int, default=256)
    p.add_argument("--num-layers", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timed block")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--profile", action="store_true", help="time layerwise's parts too")
    return p.parse_args(argv)


ARGS = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["LAYERWISE_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.backend.blas import matmul  # noqa: E402  (products as layerwise runs them)

torch.set_num_threads(ARGS.threads)
CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((ARGS.seq_len, ARGS.batch, ARGS.input_size)).astype(np.float32)


def make_step(framework, layer, phase, seed=0):
    """A fresh module (same weights in both frameworks) and its step function."""
    lw.manual_seed(seed)
    ours = getattr(nn, CLASSES[layer])(ARGS.input_size, ARGS.hidden_size, ARGS.num_layers)
    x = data(seed)
    if framework == "torch":
        module = getattr(torch.nn, CLASSES[layer])(ARGS.input_size, ARGS.hidden_size,
                                                   ARGS.num_layers)
        module.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in ours.state_dict().items()})
        lib, tensor, opt_module = torch, torch.from_numpy(x), torch.optim
    else:
        module, lib, tensor, opt_module = ours, lw, lw.tensor(x), optim
    if phase == "train":
        opt = opt_module.Adam(module.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            out, _ = module(tensor)
            (out * out).mean().backward()
            opt.step()
        return step
    module.eval()

    def infer():
        with lib.no_grad():
            module(tensor)
    return infer


def best_ms(fn, repeats=7):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def profile(layer):
    """Where a layerwise training step's time goes, part by part (best of 7, ms)."""
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[layer]
    n, length, h, i = ARGS.batch, ARGS.seq_len, ARGS.hidden_size, ARGS.input_size
    rng = np.random.default_rng(0)
    x = rng.standard_normal((length * n, i)).astype(np.float32)
    w_ih = rng.standard_normal((gates, i, h)).astype(np.float32)
    w_hh = rng.standard_normal((gates, h, h)).astype(np.float32)
    state = rng.standard_normal((n, h)).astype(np.float32)
    buffer = np.empty((gates, n, h), np.float32)
    d_all = rng.standard_normal((gates, length * n, h)).astype(np.float32)
    parts = {
        "OpenBLAS: input projection X W_ihᵀ (1 batched GEMM)": lambda: matmul(x, w_ih),
        f"OpenBLAS: recurrent GEMMs h W_hhᵀ ({length} steps)":
            lambda: [matmul(state, w_hh, out=buffer) for _ in range(length)],
        "OpenBLAS: weight gradients dAᵀ X, dAᵀ H (2 GEMMs)":
            lambda: (matmul(d_all.transpose(0, 2, 1), x),
                     matmul(d_all.transpose(0, 2, 1), d_all[0])),
    }
    module = getattr(nn, CLASSES[layer])(i, h)
    xt = lw.tensor(x.reshape(length, n, i))

    def forward():
        with lw.no_grad():
            module(xt)

    def train():
        out, _ = module(xt)
        out.sum().backward()
    measured = {name: best_ms(fn) for name, fn in parts.items()}
    forward_ms, train_ms = best_ms(forward), best_ms(train)
    print(f"\nWhere layerwise's {layer.upper()} time goes (batch {n}, seq {length}, input {i}, "
          f"hidden {h}; best of 7, ms):\n")
    print("| part | ms |")
    print("|---|---|")
    for name, ms in measured.items():
        print(f"| {name} | {ms:.1f} |")
    print(f"| whole forward (no_grad) | {forward_ms:.1f} |")
    print(f"| whole forward + backward | {train_ms:.1f} |")
    gemm = sum(measured.values()) + \
        measured[f"OpenBLAS: recurrent GEMMs h W_hhᵀ ({length} steps)"]
    print(f"| OpenBLAS GEMMs of forward + backward (recurrent twice) | {gemm:.1f} |")
    if layer != "lstm":                       # the float32 LSTM does not run these GEMMs
        print(f"| whole forward + backward minus those GEMMs | {train_ms - gemm:.1f} |")


def main():
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    print(f"batch {ARGS.batch}, sequence {ARGS.seq_len}, input {ARGS.input_size}, hidden "
          f"{ARGS.hidden_size}, {ARGS.num_layers} layer(s); {ARGS.threads} threads; NumPy "
          f"{np.__version__}, PyTorch {torch.__version__}\n")
    print("| layer | phase | layerwise seq/s | PyTorch seq/s | ratio | pairs (min-max) |")
    print("|---|---|---|---|---|---|")
    for layer in ARGS.layers.split(","):
        for phase in ARGS.phases.split(","):
            r = harness.compare(lambda: (make_step("layerwise", layer, phase),
                                         make_step("torch", layer, phase)),
                                ARGS.repeats, ARGS.seconds, log=log)
            line = (f"| {layer.upper()} | {phase} | {r['a'] * ARGS.batch:,.0f} | "
                    f"{r['b'] * ARGS.batch:,.0f} | **{r['ratio']:.2f}** | "
                    f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f} |")
            if r["loaded"]:
                line += f" ({r['loaded']} blocks still under foreign load)"
            print(line, flush=True)
    if ARGS.profile:
        for layer in ARGS.layers.split(","):
            profile(layer)
    print(f"\n({time.time() - started:.0f} s; command: python bench/speed_sequences.py "
          f"{' '.join(sys.argv[1:])})")


if __name__ == "__main__":
    main()
