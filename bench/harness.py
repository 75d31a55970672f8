"""Fair side-by-side timing on a shared, noisy machine.

- Work is timed in blocks of about ``seconds`` (default 1 s), layerwise and PyTorch
  interleaved (A B, then B A, ...), and each pair gives one throughput ratio; the
  result is the median of the per-pair ratios, never a single timing.
- Around each block the machine's CPU counters (/proc/stat) are read and compared
  with this process's own CPU time: a block during which other processes used more
  than ``max_foreign`` of the machine is thrown away and run again.
- Every repeat builds fresh models and optimizers (a net trained for thousands of
  steps on random labels grows subnormal floats, which slows either framework).
"""
import os
import statistics
import time


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "LAYERWISE_NUM_THREADS")


def use_threads(n):
    """Give the BLAS, OpenMP, MKL and layerwise's pool ``n`` threads (before importing numpy)."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(n)


def machine_busy_seconds():
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / hz, sum(fields) / hz


def own_cpu_seconds():
    t = os.times()
    return t.user + t.system


def run_block(step, seconds=1.0):
    """Call ``step`` repeatedly for about ``seconds``; (calls, elapsed, foreign load share)."""
    busy0, _ = machine_busy_seconds()
    own0 = own_cpu_seconds()
    start = time.perf_counter()
    calls = 0
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    busy1, _ = machine_busy_seconds()
    foreign = max(0.0, (busy1 - busy0) - (own_cpu_seconds() - own0))
    return calls, elapsed, foreign / (elapsed * os.cpu_count())


def quiet_block(step, seconds=1.0, max_foreign=0.10, retries=8, log=None):
    """``run_block`` redone while other processes loaded the machine (up to ``retries``)."""
    for attempt in range(retries + 1):
        calls, elapsed, foreign = run_block(step, seconds)
        if foreign <= max_foreign:
            return calls / elapsed, foreign, attempt
        if log:
            log(f"    block redone: {foreign:.0%} of the machine used by other processes")
        time.sleep(0.5)
    return calls / elapsed, foreign, retries  # still loaded: reported as such


def compare(make_pair, repeats=5, seconds=1.0, warmup=3, max_foreign=0.10, log=None):
    """Median ratio of throughputs A/B over ``repeats`` interleaved pairs of blocks.

    ``make_pair()`` returns fresh ``(step_a, step_b)`` callables for each repeat.
    Returns a dict with both frameworks' median calls/s, the per-pair ratios and
    their median, and how many blocks were redone for foreign load.
    """
    rates_a, rates_b, ratios, redone, loaded = [], [], [], 0, 0
    for r in range(repeats):
        step_a, step_b = make_pair()
        for _ in range(warmup):
            step_a()
            step_b()
        order = (("a", step_a), ("b", step_b)) if r % 2 == 0 else (("b", step_b), ("a", step_a))
        rate = {}
        for name, step in order:
            rate[name], foreign, attempts = quiet_block(step, seconds, max_foreign, log=log)
            redone += attempts
            loaded += foreign > max_foreign
        rates_a.append(rate["a"])
        rates_b.append(rate["b"])
        ratios.append(rate["a"] / rate["b"])
    return {"a": statistics.median(rates_a), "b": statistics.median(rates_b),
            "ratios": ratios, "ratio": statistics.median(ratios), "redone": redone,
            "loaded": loaded}
