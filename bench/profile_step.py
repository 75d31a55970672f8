"""Where a step's time goes: layerwise's per-op profile beside PyTorch's, same model and batch.

For each model, a training step (forward, cross-entropy, backward, Adam step) or an
inference forward (eval, no_grad) is warmed up, then ``--steps`` steps run under
``layerwise.autograd.profiler.profile`` (every op's forward/backward and the optimizer step
timed; the untimed rest is the autograd bookkeeping and the Python between ops) and under
``torch.profiler`` (self CPU time per aten op). Times are per step, in ms. Run it alone.

    python bench/profile_step.py                                  # lenet5 and seed003-cnn, train
    python bench/profile_step.py --models lenet5 --phase infer --batch 256
"""
import argparse
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lenet5,seed003-cnn")
    p.add_argument("--phase", default="train", choices=["train", "infer"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    return p.parse_args()


ARGS = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "LAYERWISE_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from speed import layerwise_step, torch_step  # noqa: E402  (same steps as the speed table)

from layerwise.autograd.profiler import profile  # noqa: E402

torch.set_num_threads(ARGS.threads)


def timed(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def layerwise_profile(name):
    step = layerwise_step(name, ARGS.phase, ARGS.batch)
    for _ in range(10):
        step()
    plain = timed(step, ARGS.steps)
    with profile() as prof:
        for _ in range(ARGS.steps):
            step()
    rows = sorted(prof.stats.items(), key=lambda kv: -kv[1][1])
    per_step = prof.wall / ARGS.steps * 1e3
    print(f"\n**layerwise {name} {ARGS.phase}, batch {ARGS.batch}**: {plain:.2f} ms/step "
          f"unprofiled, {per_step:.2f} ms/step profiled\n")
    print("| op | phase | ms/step | share |")
    print("|---|---|---|---|")
    timed_total = 0.0
    for (op, phase), (_, seconds) in rows:
        timed_total += seconds
    for (op, phase), (_, seconds) in rows[:ARGS.top]:
        ms = seconds / ARGS.steps * 1e3
        print(f"| {op} | {phase} | {ms:.2f} | {ms / per_step:.0%} |")
    rest = per_step - timed_total / ARGS.steps * 1e3
    print(f"| (autograd bookkeeping, module calls, Python between ops) | | {rest:.2f} | "
          f"{rest / per_step:.0%} |")


def torch_profile(name):
    step = torch_step(name, ARGS.phase, ARGS.batch)
    for _ in range(10):
        step()
    plain = timed(step, ARGS.steps)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(ARGS.steps):
            step()
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    print(f"\n**PyTorch {name} {ARGS.phase}, batch {ARGS.batch}**: {plain:.2f} ms/step "
          f"unprofiled\n")
    print("| aten op | self ms/step |")
    print("|---|---|")
    for event in events[:ARGS.top]:
        print(f"| {event.key} | {event.self_cpu_time_total / 1e3 / ARGS.steps:.2f} |")


def main():
    print(f"(command: python bench/profile_step.py {' '.join(sys.argv[1:])}; "
          f"{ARGS.threads} threads)")
    for name in ARGS.models.split(","):
        layerwise_profile(name)
        torch_profile(name)


if __name__ == "__main__":
    main()
