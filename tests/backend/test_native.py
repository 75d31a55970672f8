"""The native pool: when it is on, what it changes, and the way back to the Python pool."""
import os
import subprocess
import sys

import numpy as np
import pytest

from layerwise.backend import blas_threads, jit, native, parallel

pytestmark = pytest.mark.skipif(not native.active(), reason="needs numba with OpenMP or TBB")


def test_on_with_a_spinning_threading_layer_and_the_blas_on_one_thread():
    assert jit.numba.threading_layer() in native.SPINNING_LAYERS
    if blas_threads.available():
        assert blas_threads.get_num_threads() == 1
    assert "native pool" in native.describe()


def test_parts_follow_the_thread_count():
    assert native.parts(10, 8) == 1                 # less than two ranges' worth
    assert native.parts(10 ** 6, 8) == parallel.get_num_threads()
    previous = parallel.get_num_threads()
    parallel.set_num_threads(1)
    try:
        assert native.active() and native.parts(10 ** 6, 8) == 1
    finally:
        parallel.set_num_threads(previous)
        native.active()


def test_a_forked_child_runs_its_kernels_on_one_thread():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                     # the child: OpenMP is not fork-safe
        os.write(write, b"1" if native.active() else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"0"


def test_the_python_pool_can_be_asked_for():
    code = ("from layerwise.backend import native, blas_threads; "
            "print(native.active(), blas_threads.get_num_threads())")
    env = dict(os.environ, LAYERWISE_POOL="python", OPENBLAS_NUM_THREADS="2",
               LAYERWISE_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0] == "False" and out[1] in ("2", "None")


def test_kernels_give_the_same_results_on_either_pool(monkeypatch):
    from layerwise.backend import jit_elementwise, jit_pooling
    x = np.random.default_rng(0).standard_normal((16, 16, 32, 32)).astype(np.float32)
    native_y = jit_pooling.sum_forward(x, (2, 2), 4)
    native_relu = np.empty_like(x)
    jit_elementwise.relu(native_relu, x)
    monkeypatch.setattr(native, "active", lambda: False)
    np.testing.assert_array_equal(jit_pooling.sum_forward(x, (2, 2), 4), native_y)
    python_relu = np.empty_like(x)
    jit_elementwise.relu(python_relu, x)
    np.testing.assert_array_equal(python_relu, native_relu)
    np.testing.assert_array_equal(native_relu, np.maximum(x, 0))
