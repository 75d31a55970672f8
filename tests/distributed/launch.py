"""Running ``mpiexec`` from the tests: the venv's MPICH launcher, a timeout, no stray ranks."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
#: one thread per rank: 2 ranks on this 2-core machine
THREAD_ENV = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "LAYERWISE_NUM_THREADS")}


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpiexec not found: `pip install -e '.[test]'` installs mpi4py and the "
                    "mpich wheel (whose mpiexec goes beside python)")
    return found


def run_mpi(commands, env=None, timeout=120, cwd=None):
    """Run ``mpiexec`` with ``commands`` (a list of (n, argv) for MPMD, or one (n, argv));
    returns (exit code, stdout, stderr, seconds). Every rank is killed on timeout."""
    if isinstance(commands, tuple):
        commands = [commands]
    argv = [mpiexec()]
    for k, (n, args) in enumerate(commands):
        argv += ([":"] if k else []) + ["-n", str(n), sys.executable] + [str(a) for a in args]
    full_env = dict(os.environ, **THREAD_ENV, **(env or {}))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"mpiexec hung for {timeout} s: {' '.join(argv)}\n{out}\n{err}")
    return proc.returncode, out, err, time.perf_counter() - start
