"""Where does the time go? Per-op timing of forward and backward passes.

    with lw.autograd.profiler.profile() as prof:
        loss = F.cross_entropy(model(x), y); loss.backward()
    print(prof.table())

While active, every ``Function`` subclass's ``forward`` and ``backward`` and every
optimizer's ``step`` are wrapped with a timer (and restored afterwards, so there is
no cost when not profiling). The rest of a step's wall time — the autograd
bookkeeping (graph recording, the engine's walk, gradient accumulation), module
calls and Python between ops — shows as the difference between the wall time and
the timed parts.
"""
import time
from collections import defaultdict

from .function import Function


def _all_subclasses(cls):
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


class profile:
    """Context manager collecting (calls, seconds) per op name and phase."""

    def __init__(self):
        self.stats = defaultdict(lambda: [0, 0.0])
        self.wall = 0.0
        self._saved = []

    def _wrap(self, cls, phase):
        original = cls.__dict__.get(phase)
        if original is None:
            return
        stats, key = self.stats, (cls.__name__, phase)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                entry = stats[key]
                entry[0] += 1
                entry[1] += time.perf_counter() - start

        self._saved.append((cls, phase, original))
        setattr(cls, phase, timed)

    def __enter__(self):
        from ..optim.optimizer import Optimizer
        for cls in _all_subclasses(Function):
            self._wrap(cls, "forward")
            self._wrap(cls, "backward")
        for cls in [Optimizer] + _all_subclasses(Optimizer):
            self._wrap(cls, "step")
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._start
        for cls, phase, original in reversed(self._saved):
            setattr(cls, phase, original)
        self._saved.clear()
        return False

    def table(self, top=25):
        """A text table sorted by total time, with the untimed remainder at the end."""
        rows = sorted(self.stats.items(), key=lambda kv: -kv[1][1])
        total_ops = sum(v[1] for _, v in rows)
        lines = [f"{'op':<28}{'phase':<10}{'calls':>8}{'total ms':>12}{'share':>8}"]
        for (name, phase), (calls, seconds) in rows[:top]:
            lines.append(f"{name:<28}{phase:<10}{calls:>8}{seconds * 1e3:>12.2f}"
                         f"{seconds / max(self.wall, 1e-12):>8.1%}")
        rest = self.wall - total_ops
        lines.append(f"{'(the rest: autograd bookkeeping, Python)':<46}{rest * 1e3:>12.2f}"
                     f"{rest / max(self.wall, 1e-12):>8.1%}")
        lines.append(f"{'wall':<46}{self.wall * 1e3:>12.2f}")
        return "\n".join(lines)
