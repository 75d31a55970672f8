"""Training and inference throughput of layerwise beside PyTorch, as ratios.

For each reference model (mlp 784-256-128-10, lenet5, seed004-cnn, seed003-cnn):
- train: one full step at batch 64 (forward, cross-entropy, backward, Adam step);
- infer: eval mode under no_grad at batch 1, 64 and 256;
timed in ~1 s blocks, layerwise and PyTorch interleaved, with the same number of
threads (BLAS and intra-op), fresh models per repeat; the ratio is layerwise's
throughput over PyTorch's (> 1: layerwise is faster), the median of per-pair ratios.
Blocks run while other processes load the machine are redone (see harness.py).

    python bench/speed.py                     # everything, table to stdout
    python bench/speed.py --models mlp --phases train --repeats 3
    python bench/speed.py --memory            # also peak memory (one subprocess each)
    python bench/speed.py --conv-gflops       # conv layers' GFLOP/s against GEMM peak
    python bench/speed.py --suites cnn         # only the CNN/MLP table

Suites: ``cnn`` (the table above), ``sequences`` (LSTM/GRU layer train/infer steps, run as
``bench/speed_sequences.py``) and ``transformer`` (a TransformerEncoderLayer training step
and gpt-mini generation with and without the key/value cache, run as
``bench/speed_transformer.py``); each suite runs in its own process, one after the other,
with the same --repeats, --seconds and --threads. Their own options: run the scripts.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suites", default="cnn,sequences,transformer",
                   help="comma list of cnn, sequences, transformer")
    p.add_argument("--models", default="mlp,lenet5,seed004-cnn,seed003-cnn")
    p.add_argument("--phases", default="train,infer",
                   help="comma list of train, infer")
    p.add_argument("--infer-batches", default="1,64,256")
    p.add_argument("--train-batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timed block")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--memory", action="store_true", help="measure peak memory too")
    p.add_argument("--memory-only", action="store_true",
                   help="only the peak memory of each row, no timing")
    p.add_argument("--conv-gflops", action="store_true",
                   help="GFLOP/s of each conv layer against the GEMM peak")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--child", nargs=4, metavar=("FRAMEWORK", "MODEL", "PHASE", "BATCH"),
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


ARGS = parse_args(None if __name__ == "__main__" else [])  # imported: the defaults
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["LAYERWISE_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import torch_reference  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.backend import jit as lw_jit  # noqa: E402
from layerwise.backend import blas, native  # noqa: E402
from layerwise.models import get_model  # noqa: E402

torch.set_num_threads(ARGS.threads)


def data(batch, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    return x, y


def layerwise_step(name, phase, batch, seed=0):
    lw.manual_seed(seed)
    model = get_model(name)
    x, y = data(batch, seed)
    xt, yt = lw.tensor(x), lw.tensor(y)
    if phase == "train":
        opt = optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(xt), yt).backward()
            opt.step()
        return step
    model.eval()

    def infer():
        with lw.no_grad():
            model(xt)
    return infer


def torch_step(name, phase, batch, seed=0):
    torch.manual_seed(seed)
    model = torch_reference.get_model(name)
    x, y = data(batch, seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    if phase == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(xt), yt).backward()
            opt.step()
        return step
    model.eval()

    def infer():
        with torch.no_grad():
            model(xt)
    return infer


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child_memory(framework, name, phase, batch):
    """Run in a subprocess: peak resident memory of building the model (and optimizer) and
    running a few steps, above the resident memory after the imports, in MB. The kernel's
    high-water mark is reset first (``5 > /proc/self/clear_refs``), so the imports' own
    transient peak does not hide it."""
    make = layerwise_step if framework == "layerwise" else torch_step
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    base = _status_kb("VmRSS")
    step = make(name, phase, int(batch))
    for _ in range(5):
        step()
    print(json.dumps({"peak_mb": (_status_kb("VmHWM") - base) / 1024}))


def memory(name, phase, batch):
    out = {}
    for framework in ("layerwise", "torch"):
        result = subprocess.run([sys.executable, __file__, "--threads", str(ARGS.threads),
                                 "--child", framework, name, phase, str(batch)],
                                capture_output=True, text=True, check=True)
        out[framework] = json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]
    return out


def gemm_peak(seconds=1.0):
    """float32 GEMM GFLOP/s of a large square product as layerwise runs it (the BLAS split
    over the native pool, or NumPy's BLAS on its own threads), median of 3."""
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    rates = []
    for _ in range(3):
        rate, _, _ = harness.quiet_block(lambda: blas.matmul(a, a), seconds)
        rates.append(rate * 2 * 1024 ** 3 / 1e9)
    return float(np.median(rates))


CONV_LAYERS = [  # (model, N, C, H, W, O, k, padding)
    ("seed003-cnn conv1", 64, 1, 28, 28, 32, 5, 2),
    ("seed003-cnn conv2", 64, 32, 14, 14, 64, 5, 2),
    ("seed004-cnn conv1", 64, 1, 28, 28, 10, 5, 0),
    ("lenet5 conv1", 64, 1, 28, 28, 6, 5, 2),
    ("lenet5 conv2", 64, 6, 14, 14, 16, 5, 0),
]


def conv_gflops(repeats, seconds):
    rows = []
    for label, n, c, h, w, o, k, p in CONV_LAYERS:
        ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
        need_input_grad = c > 1  # a first layer's input needs no gradient
        flops = 2 * n * o * c * k * k * ho * wo * (3 if need_input_grad else 2)
        rng = np.random.default_rng(0)
        x = rng.random((n, c, h, w), dtype=np.float32)
        wt = rng.standard_normal((o, c, k, k)).astype(np.float32)
        g = rng.standard_normal((n, o, ho, wo)).astype(np.float32)

        def make_pair():
            xl = lw.tensor(x, requires_grad=need_input_grad)
            wl = lw.tensor(wt, requires_grad=True)
            xt = torch.tensor(x, requires_grad=need_input_grad)
            wtt = torch.tensor(wt, requires_grad=True)
            gl, gt = lw.tensor(g), torch.from_numpy(g)

            def lw_step():
                lw.nn.functional.conv2d(xl, wl, padding=p).backward(gl)

            def torch_step_():
                torch.nn.functional.conv2d(xt, wtt, padding=p).backward(gt)
            return lw_step, torch_step_
        r = harness.compare(make_pair, repeats, seconds)
        rows.append((label, r["a"] * flops / 1e9, r["b"] * flops / 1e9, r["ratio"]))
    return rows


def machine_description():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg['name']} {cfg.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - description only
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy "
            f"{np.__version__} ({blas}), PyTorch {torch.__version__}; {ARGS.threads} threads "
            f"for BLAS / PyTorch intra-op / layerwise's pool; layerwise kernels: "
            f"{lw_jit.describe()}; layerwise threads: {native.describe()}")


SUITE_SCRIPTS = {"sequences": "speed_sequences.py", "transformer": "speed_transformer.py"}


def run_suite(suite):
    """Run one of the other suites' scripts in a fresh process (its own thread settings
    and memory), with this run's --repeats, --seconds and --threads; its table goes to
    stdout as it comes."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), SUITE_SCRIPTS[suite])
    command = [sys.executable, script, "--repeats", str(ARGS.repeats),
               "--seconds", str(ARGS.seconds), "--threads", str(ARGS.threads)]
    print(f"\n### {suite} (`python bench/{SUITE_SCRIPTS[suite]} --repeats {ARGS.repeats} "
          f"--seconds {ARGS.seconds} --threads {ARGS.threads}`)\n", flush=True)
    subprocess.run(command, check=True)


def main():
    if ARGS.child:
        child_memory(*ARGS.child)
        return
    suites = ARGS.suites.split(",")
    unknown = set(suites) - {"cnn", *SUITE_SCRIPTS}
    if unknown:
        raise SystemExit(f"unknown suite(s) {sorted(unknown)}: choose from cnn, sequences, "
                         "transformer")
    if "cnn" not in suites:
        for suite in suites:
            run_suite(suite)
        return
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    results = {"machine": machine_description(), "command": "python " + " ".join(sys.argv),
               "rows": []}
    print(f"Machine: {results['machine']}\n")
    print("| model | phase | batch | layerwise img/s | PyTorch img/s | ratio | pairs (min-max) |"
          + (" peak MB lw / torch |" if ARGS.memory else ""))
    print("|---|---|---|---|---|---|---|" + ("---|" if ARGS.memory else ""))
    for name in ARGS.models.split(","):
        for phase in ARGS.phases.split(","):
            batches = [ARGS.train_batch] if phase == "train" else \
                [int(b) for b in ARGS.infer_batches.split(",")]
            for batch in batches:
                if ARGS.memory_only:
                    mem = memory(name, phase, batch)
                    print(f"| {name} | {phase} | {batch} | peak MB layerwise "
                          f"{mem['layerwise']:.0f} / PyTorch {mem['torch']:.0f} |", flush=True)
                    continue
                r = harness.compare(lambda: (layerwise_step(name, phase, batch),
                                             torch_step(name, phase, batch)),
                                    ARGS.repeats, ARGS.seconds, log=log)
                row = {"model": name, "phase": phase, "batch": batch,
                       "layerwise": r["a"] * batch, "torch": r["b"] * batch,
                       "ratio": r["ratio"], "ratios": r["ratios"], "redone": r["redone"],
                       "loaded": r["loaded"]}
                line = (f"| {name} | {phase} | {batch} | {row['layerwise']:,.0f} | "
                        f"{row['torch']:,.0f} | **{row['ratio']:.2f}** | "
                        f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f} |")
                if ARGS.memory:
                    mem = memory(name, phase, batch)
                    row["memory_mb"] = mem
                    line += f" {mem['layerwise']:.0f} / {mem['torch']:.0f} |"
                if r["loaded"]:
                    line += f" ({r['loaded']} blocks still under foreign load)"
                print(line, flush=True)
                results["rows"].append(row)
    if ARGS.conv_gflops:
        peak = gemm_peak(ARGS.seconds)
        results["gemm_peak_gflops"] = peak
        print(f"\nfloat32 GEMM peak (1024x1024x1024, as layerwise runs products) in this run: "
              f"{peak:.0f} GFLOP/s\n")
        print("| conv layer (forward + backward, batch 64) | layerwise GFLOP/s | % of GEMM peak "
              "| PyTorch GFLOP/s | ratio |")
        print("|---|---|---|---|---|")
        for label, lw_gf, torch_gf, ratio in conv_gflops(ARGS.repeats, ARGS.seconds):
            results["rows"].append({"conv": label, "layerwise_gflops": lw_gf,
                                    "torch_gflops": torch_gf, "ratio": ratio})
            print(f"| {label} | {lw_gf:.0f} | {lw_gf / peak:.0%} | {torch_gf:.0f} | "
                  f"{ratio:.2f} |", flush=True)
    if ARGS.json:
        with open(ARGS.json, "w") as handle:
            json.dump(results, handle, indent=2)
    for suite in suites:
        if suite != "cnn":
            run_suite(suite)
    print(f"\n({time.time() - started:.0f} s; command: {results['command']})")


if __name__ == "__main__":
    main()
