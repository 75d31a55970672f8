"""The thread pool: ranges cover the work once; thresholds scale with the measured hand-off."""
import threading

import pytest

from layerwise.backend import parallel


@pytest.fixture
def two_threads(monkeypatch):
    """The Python pool on two threads (with the native pool on, it would run work inline)."""
    monkeypatch.setattr(parallel, "_native_active", lambda: False)
    previous = parallel.get_num_threads()
    parallel.set_num_threads(2)
    yield
    parallel.set_num_threads(previous)


def _record(calls):
    lock = threading.Lock()

    def work(start, stop):
        with lock:
            calls.append((start, stop))
    return work


def test_bounds_cover_the_range_once():
    assert parallel.bounds(10, 3) == [(0, 4), (4, 8), (8, 10)]
    assert parallel.bounds(5, 5) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


def test_small_work_runs_inline_and_large_work_is_split(two_threads):
    calls = []
    parallel.for_each_chunk(_record(calls), 100, min_size=64)
    assert calls == [(0, 100)]
    calls.clear()
    parallel.for_each_chunk(_record(calls), 1000, min_size=64)
    assert sorted(calls) == [(0, 500), (500, 1000)]


def test_the_measured_scale_raises_every_threshold(two_threads):
    calls = []
    parallel.set_split_scale(16)
    try:
        parallel.for_each_chunk(_record(calls), 1000, min_size=64)   # 1000 < 2 · 64 · 16
        assert calls == [(0, 1000)]
        calls.clear()
        parallel.for_each_chunk(_record(calls), 4096, min_size=64)
        assert sorted(calls) == [(0, 2048), (2048, 4096)]
    finally:
        parallel.set_split_scale(1)


def test_split_scale_is_measured_as_a_power_of_two(two_threads):
    parallel.set_split_scale(None)
    try:
        scale = parallel.split_scale()
        assert scale in (1, 2, 4, 8, 16)
        assert parallel.handoff_seconds(repeats=3) > 0
    finally:
        parallel.set_split_scale(1)


def test_coarse_work_is_always_split(two_threads):
    calls = []
    parallel.set_split_scale(16)
    try:
        parallel.for_each_part(_record(calls), 3)
        assert sorted(calls) == [(0, 2), (2, 3)]
        calls.clear()
        parallel.for_each_part(_record(calls), 1)
        assert calls == [(0, 1)]
    finally:
        parallel.set_split_scale(1)


def test_with_the_native_pool_the_python_pool_runs_work_inline(two_threads, monkeypatch):
    monkeypatch.setattr(parallel, "_native_active", lambda: True)
    calls = []
    parallel.for_each_part(_record(calls), 8)
    parallel.for_each_chunk(_record(calls), 10 ** 6, min_size=64)
    assert calls == [(0, 8), (0, 10 ** 6)]
    assert not parallel.pays_off(1.0)
