"""Data-parallel scaling over MPI: 1 vs 2 ranks at one thread each, beside PyTorch DDP.

For each model (seed003-cnn, lenet5) and framework:
- layerwise: ``mpiexec -n N python -m mpi4py`` workers, DistributedDataParallel
  (25 MB buckets, first 1 MB, Iallreduce overlapped with backward), and the same at
  2 ranks without overlap (one blocking Allreduce per bucket after backward);
- PyTorch: N processes, ``torch.distributed`` with the gloo backend over localhost
  (env:// rendezvous), ``DistributedDataParallel`` with its defaults.
Each rank takes a per-rank batch of 64 (weak scaling, the usual DDP convention:
global batch 64 N) of Fashion-MNIST (random images when it is missing), trains with
Adam at one thread (OMP/OPENBLAS/MKL/LAYERWISE_NUM_THREADS=1), and the timed
steps after the warm-up give images/s = N · 64 · steps / (slowest rank's seconds).
Efficiency = images/s at N ranks / (N × images/s at 1 rank) of the same framework.
"Allreduce ms/step" is the time layerwise's ranks spent inside MPI calls for the
gradients (launches, tests, waits) — of which "waited" blocked in Waitall; for
PyTorch, DDP's own average backward communication time when it reports one.
Also measured: a bare allreduce of the gradient bytes and of 8 bytes (latency),
which feed the ring-allreduce cost model printed at the end (BENCHMARKS.md).

    python bench/distributed.py                 # full run, ~10 min on 2 cores, alone
    python bench/distributed.py --smoke         # a minute: tiny numbers, checks the plumbing
"""
import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
THREADS = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                            "LAYERWISE_NUM_THREADS")}
#: typical cluster interconnects: (name, bandwidth GB/s per direction, latency µs per message)
INTERCONNECTS = [("InfiniBand HDR100 (100 Gb/s)", 11.0, 2.0), ("25 Gb Ethernet", 2.8, 20.0)]
RANKS = (8, 64, 512)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="seed003-cnn,lenet5")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="per-rank batch (default 64)")
    p.add_argument("--steps", default="seed003-cnn=150,lenet5=800",
                   help="timed steps per model (MODEL=N,...)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3, help="runs per configuration (median)")
    p.add_argument("--smoke", action="store_true", help="tiny: 10 steps, 1 repeat")
    p.add_argument("--json", default=None, help="also write the raw results here")
    p.add_argument("--worker", choices=["layerwise", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--no-overlap", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--timed-steps", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------- workers
def batches(rank, world, batch, count):
    """This rank's ``count`` batches (x float32 NCHW in [0, 1], y int64), as numpy."""
    import numpy as np
    try:
        from layerwise.data import get_dataset
        data = get_dataset("fashion-mnist", train=True, download=False)
        images, labels = data.images.astype(np.float32), data.labels.astype(np.int64)
        images = images / np.float32(255) if images.max() > 1 else images
    except Exception:  # noqa: BLE001 - no dataset here: random images time the same
        rng = np.random.default_rng(0)
        images = rng.random((8192, 1, 28, 28), dtype=np.float32)
        labels = rng.integers(0, 10, 8192)
    from layerwise.distributed import DistributedSampler
    sampler, out, epoch = DistributedSampler(labels, world, rank, seed=0), [], 0
    while len(out) < count:
        sampler.set_epoch(epoch)
        order = list(sampler)
        out += [(images[order[i:i + batch]], labels[order[i:i + batch]])
                for i in range(0, len(order) - batch + 1, batch)]
        epoch += 1
    return out[:count]


def bare_allreduce(allreduce, nbytes, repeats):
    """Median seconds of ``allreduce(buffer)`` on ``nbytes`` of float32."""
    import numpy as np
    buffer = np.ones(max(nbytes // 4, 1), dtype=np.float32)
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        allreduce(buffer)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def layerwise_worker(args):
    import layerwise as lw
    import layerwise.distributed as dist
    import layerwise.nn.functional as F
    from layerwise import optim
    from layerwise.models import get_model
    from mpi4py import MPI
    group = dist.init_process_group()
    rank, world = group.rank, group.world_size
    lw.manual_seed(0)
    model = get_model(args.model)
    ddp = dist.DistributedDataParallel(model, overlap=not args.no_overlap) if world > 1 \
        else None
    trained = ddp or model
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    data = batches(rank, world, args.batch_size, args.warmup + args.timed_steps)
    for i, (x, y) in enumerate(data):
        if i == args.warmup:
            group.barrier()
            if ddp is not None:
                ddp.reset_stats()
            start = time.perf_counter()
        loss = F.cross_entropy(trained(lw.tensor(x)), lw.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    elapsed = group.all_reduce(time.perf_counter() - start, op="max")
    stats = ddp.stats() if ddp is not None else {"comm_seconds": 0.0, "wait_seconds": 0.0}
    comm = group.all_reduce(stats["comm_seconds"], op="mean") / args.timed_steps
    wait = group.all_reduce(stats["wait_seconds"], op="mean") / args.timed_steps
    nbytes = sum(p.data.nbytes for p in model.parameters())
    comm_world = group.comm

    def allreduce(b):
        comm_world.Allreduce(MPI.IN_PLACE, b, op=MPI.SUM)
    result = {"images_per_s": world * args.batch_size * args.timed_steps / elapsed,
              "step_ms": 1e3 * elapsed / args.timed_steps, "allreduce_ms": 1e3 * comm,
              "waited_ms": 1e3 * wait, "grad_bytes": nbytes,
              "bare_ms": 1e3 * bare_allreduce(allreduce, nbytes, 20) if world > 1 else 0.0,
              "latency_us": 1e6 * bare_allreduce(allreduce, 8, 200) if world > 1 else 0.0}
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def torch_worker(args):
    import torch
    import torch.distributed as tdist
    sys.path.insert(0, str(HERE))
    import torch_reference
    torch.set_num_threads(1)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    tdist.init_process_group("gloo", init_method="env://")
    torch.manual_seed(0)
    model = torch_reference.get_model(args.model)
    trained = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = batches(rank, world, args.batch_size, args.warmup + args.timed_steps)
    for i, (x, y) in enumerate(data):
        if i == args.warmup:
            tdist.barrier()
            start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(trained(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
    tdist.all_reduce(elapsed, op=tdist.ReduceOp.MAX)
    elapsed = float(elapsed[0])
    comm_ms = None
    if world > 1:
        try:
            logging = trained._get_ddp_logging_data()
            comm_ms = logging.get("avg_backward_comm_time", 0) / 1e6 or None
        except Exception:  # noqa: BLE001 - private API: optional
            comm_ms = None
    nbytes = sum(p.numel() * 4 for p in model.parameters())

    def allreduce(b):
        tdist.all_reduce(torch.from_numpy(b))
    result = {"images_per_s": world * args.batch_size * args.timed_steps / elapsed,
              "step_ms": 1e3 * elapsed / args.timed_steps, "allreduce_ms": comm_ms,
              "waited_ms": None, "grad_bytes": nbytes,
              "bare_ms": 1e3 * bare_allreduce(allreduce, nbytes, 20) if world > 1 else 0.0,
              "latency_us": 1e6 * bare_allreduce(allreduce, 8, 200) if world > 1 else 0.0}
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    tdist.destroy_process_group()


# ------------------------------------------------------------ orchestration
def _result(text, command):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"no result from {' '.join(command)}:\n{text}")


def run_layerwise(model, world, steps, args, overlap=True):
    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(world),
               sys.executable, "-m", "mpi4py", str(Path(__file__).resolve()),
               "--worker", "layerwise", "--model", model, "--timed-steps", str(steps),
               "--warmup", str(args.warmup), "--batch-size", str(args.batch_size)]
    command += [] if overlap else ["--no-overlap"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, **THREADS))
    return _result(done.stdout + done.stderr, command)


def run_torch(model, world, steps, args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "torch", "--model",
               model, "--timed-steps", str(steps), "--warmup", str(args.warmup),
               "--batch-size", str(args.batch_size)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=dict(os.environ, **THREADS, RANK=str(r),
                                                  WORLD_SIZE=str(world), MASTER_PORT=str(port),
                                                  MASTER_ADDR="127.0.0.1"))
             for r in range(world)]
    outputs = [p.communicate(timeout=1800)[0] for p in procs]
    return _result(outputs[0], command)


def _machine_busy():
    """CPU seconds the whole machine has been busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    args = parse_args()
    if args.worker == "layerwise":
        return layerwise_worker(args)
    if args.worker == "torch":
        return torch_worker(args)
    steps = dict(item.split("=") for item in args.steps.split(","))
    if args.smoke:
        steps, args.repeats, args.warmup = {m: "10" for m in steps}, 1, 3
    models, n = args.models.split(","), args.ranks
    configs = [("layerwise", 1, True), ("layerwise", n, True), ("layerwise", n, False),
               ("torch", 1, True), ("torch", n, True)]
    runs = {}
    for repeat in range(args.repeats):
        for model in models:
            for framework, world, overlap in configs:
                count = int(steps.get(model, 100))
                busy, own, start = _machine_busy(), _children_cpu(), time.perf_counter()
                r = run_layerwise(model, world, count, args, overlap) if framework == \
                    "layerwise" else run_torch(model, world, count, args)
                foreign = (_machine_busy() - busy) - (_children_cpu() - own)
                r["other_load"] = max(0.0, foreign) / ((time.perf_counter() - start)
                                                       * os.cpu_count())
                runs.setdefault((model, framework, world, overlap), []).append(r)
                print(f"  [{repeat + 1}/{args.repeats}] {model} {framework} x{world}"
                      f"{'' if overlap else ' no-overlap'}: {r['images_per_s']:.0f} images/s",
                      file=sys.stderr, flush=True)
    med = {k: {f: (statistics.median(r[f] for r in v) if v[0][f] is not None else None)
               for f in v[0]} for k, v in runs.items()}
    if args.json:
        Path(args.json).write_text(json.dumps({" ".join(map(str, k)): v
                                               for k, v in runs.items()}, indent=1))
    print(report(med, models, n, args, steps))


def report(med, models, n, args, steps):
    cmd = "python bench/distributed.py" + (" --smoke" if args.smoke else "")
    lines = [f"Command: `{cmd}` (per-rank batch {args.batch_size}, Adam, one thread per rank, "
             f"timed steps {', '.join(f'{m} {steps[m]}' for m in models)} after "
             f"{args.warmup} warm-up, median of {args.repeats} run(s); "
             f"{time.strftime('%Y-%m-%d')})", "",
             "| model | framework | ranks | images/s | step ms | efficiency | allreduce ms/step "
             "(waited) | bare allreduce of the gradients | other load |",
             "|---|---|---|---|---|---|---|---|---|"]
    fmt = (lambda v, f="{:.2f}": "—" if v is None else f.format(v))
    for model in models:
        for framework, world, overlap in [("layerwise", 1, True), ("layerwise", n, True),
                                          ("layerwise", n, False), ("torch", 1, True),
                                          ("torch", n, True)]:
            r, base = med[(model, framework, world, overlap)], med[(model, framework, 1, True)]
            eff = r["images_per_s"] / (world * base["images_per_s"])
            name = ("layerwise (MPI)" if framework == "layerwise" else "PyTorch DDP (gloo)") + \
                ("" if overlap else ", no overlap")
            comm = "—" if world == 1 else (
                f"{fmt(r['allreduce_ms'])} ({fmt(r['waited_ms'])})" if framework == "layerwise"
                else fmt(r["allreduce_ms"]))
            bare = "—" if world == 1 else (f"{r['bare_ms']:.2f} ms for "
                                           f"{r['grad_bytes'] / 1e6:.2f} MB, 8 B in "
                                           f"{r['latency_us']:.1f} µs")
            lines.append(f"| {model} | {name} | {world} | {r['images_per_s']:,.0f} | "
                         f"{r['step_ms']:.1f} | {eff:.0%} | {comm} | {bare} | "
                         f"{r['other_load']:.0%} |")
    lines += ["", "(other load: share of the machine's CPU used by other processes during the "
              "run; above ~5% the row is not a clean measurement.)", "",
              "Ring-allreduce cost model, T_ar = 2(N-1)/N · S/bw + 2(N-1) · α, with the "
              "measured one-rank step time T_c (one thread) and gradient bytes S; efficiency "
              "T_c / (T_c + T_ar) without overlap:", "",
              "| model | S | T_c | interconnect | " + " | ".join(f"N={k}" for k in RANKS) + " |",
              "|---|---|---|---|" + "---|" * len(RANKS)]
    for model in models:
        one = med[(model, "layerwise", 1, True)]
        t_c, size = one["step_ms"] / 1e3, one["grad_bytes"]
        for name, bandwidth, latency in INTERCONNECTS:
            cells = []
            for k in RANKS:
                t_ar = 2 * (k - 1) / k * size / (bandwidth * 1e9) + 2 * (k - 1) * latency * 1e-6
                cells.append(f"{1e3 * (t_c + t_ar):.0f} ms, {t_c / (t_c + t_ar):.0%}")
            lines.append(f"| {model} | {size / 1e6:.2f} MB | {1e3 * t_c:.0f} ms | {name} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
