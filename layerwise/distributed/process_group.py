"""The process group: who this process is among the MPI ranks, and collective helpers.

A data-parallel job is ``N`` copies of the same program started by an MPI launcher
(``mpiexec -n N``, Slurm's ``srun``, PBS's ``mpiexec``). MPI numbers them
``rank = 0 .. N-1`` in ``MPI.COMM_WORLD``; the ranks that share a machine form
the *local* group (``COMM_WORLD.Split_type(COMM_TYPE_SHARED)``), whose rank is the
*local rank* (PyTorch's ``LOCAL_RANK``: the index of a process on its node).

The helpers (``barrier``, ``broadcast``, ``all_reduce``, ``all_gather``) work on
NumPy arrays in place with mpi4py's uppercase, buffer-based calls — no pickling,
no copies — and on plain Python numbers. ``all_reduce`` with ``op="sum"`` gives
every rank ``Σ_r x_r``; ``op="mean"`` gives ``(1/N) Σ_r x_r``.

mpi4py is imported only when a group is created, so ``import layerwise`` works
without MPI; a missing mpi4py is reported with the command that installs it.
"""
import os
import sys
import time
from contextlib import contextmanager

import numpy as np

INSTALL_HINT = ("layerwise.distributed needs mpi4py and an MPI library: "
                "pip install 'layerwise[mpi]' (mpi4py and the mpich wheel; on a cluster "
                "with its own MPI, `pip install mpi4py` builds against the system MPI)")


def mpi():
    """The ``mpi4py.MPI`` module (initializes MPI on first use)."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    return MPI


class ReduceOp:
    """Reduction names accepted by :func:`all_reduce` (PyTorch's ``dist.ReduceOp``)."""
    SUM, AVG, MAX, MIN, PRODUCT = "sum", "mean", "max", "min", "product"


def _mpi_op(op):
    MPI = mpi()
    ops = {"sum": MPI.SUM, "mean": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN,
           "product": MPI.PROD, "prod": MPI.PROD}
    if op not in ops:
        raise ValueError(f"all_reduce: unknown op {op!r}; choose from {', '.join(ops)}")
    return ops[op]


class ProcessGroup:
    """A communicator with this process's rank, the world size and the local rank."""

    def __init__(self, comm=None):
        MPI = mpi()
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.local_comm = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_world_size = (self.local_comm.Get_rank(),
                                                  self.local_comm.Get_size())
        self.host = MPI.Get_processor_name()
        self.hosts = self.comm.allgather(self.host)
        self.threads = None

    def describe(self, rank=None):
        """``'rank 1 of 4 (host node07)'``: how errors name a process."""
        rank = self.rank if rank is None else rank
        return f"rank {rank} of {self.world_size} (host {self.hosts[rank]})"

    def new_communicator(self):
        """A private duplicate of the communicator (collectives on it never mix with others)."""
        return self.comm.Dup()

    # ---------------------------------------------------------- collectives
    def barrier(self):
        self.comm.Barrier()

    def broadcast(self, value, src=0):
        """Rank ``src``'s ``value`` on every rank: arrays and tensors in place, numbers returned."""
        array = _buffer(value)
        if array is not None:
            self.comm.Bcast(array, root=src)
            return value
        if isinstance(value, (int, float, bool, np.number)):
            floating = isinstance(value, (float, np.floating))
            out = np.array([value], dtype=np.float64 if floating else np.int64)
            self.comm.Bcast(out, root=src)
            return type(value)(out[0])
        return self.comm.bcast(value, root=src)  # small Python objects (pickled)

    def all_reduce(self, value, op="sum"):
        """Reduce ``value`` over the ranks: ndarrays/tensors in place (and returned),
        numbers and sequences of numbers returned as float64 array or Python number."""
        MPI, mpi_op = mpi(), _mpi_op(op)
        array = _buffer(value)
        if array is None:
            scalar = np.ndim(value) == 0
            array = np.array(value, dtype=np.float64, ndmin=1)
            self.comm.Allreduce(MPI.IN_PLACE, array, op=mpi_op)
            if op in ("mean", "avg"):
                array /= self.world_size
            if not scalar:
                return array
            integral = isinstance(value, (int, np.integer)) and op not in ("mean", "avg")
            return int(array[0]) if integral else float(array[0])
        self.comm.Allreduce(MPI.IN_PLACE, array, op=mpi_op)
        if op in ("mean", "avg"):
            array /= self.world_size
        return value

    def all_gather(self, value):
        """A list of every rank's ``value`` (small Python objects)."""
        return self.comm.allgather(value)


def _buffer(value):
    """The ndarray behind ``value`` (an ndarray or a Tensor), else None."""
    data = getattr(value, "data", value) if not isinstance(value, np.ndarray) else value
    if isinstance(data, np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError("collectives need C-contiguous arrays (use np.ascontiguousarray)")
        return data
    return None


_default = None


def init_process_group(backend="mpi", comm=None, threads="auto"):
    """Join the job started by ``mpiexec``/``srun`` (or a job of one without a launcher).

    Returns the default :class:`ProcessGroup`; calling again returns the same one.
    ``threads="auto"`` gives each rank its share of this machine's cores for
    layerwise's own threads and for BLAS (unless ``LAYERWISE_NUM_THREADS`` /
    ``OMP_NUM_THREADS`` say otherwise): ranks × threads ≤ cores.
    """
    global _default
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; "
                         f"layerwise speaks MPI (backend='mpi')")
    if _default is None:
        _default = ProcessGroup(comm)
        if threads == "auto":
            _share_cores(_default)
    return _default


def _share_cores(group):
    """Threads per rank = cores this rank may use / ranks sharing them (at least 1)."""
    try:
        mine = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - non-Linux
        mine = set(range(os.cpu_count() or 1))
    sets = group.local_comm.allgather(sorted(mine))
    sharing = sum(1 for s in sets if set(s) & mine)
    threads = max(1, len(mine) // max(sharing, 1))
    from ..backend.parallel import set_num_threads
    if not os.environ.get("LAYERWISE_NUM_THREADS"):
        set_num_threads(threads)
    if not any(os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS")):
        try:
            from threadpoolctl import threadpool_limits
            threadpool_limits(threads, user_api="blas")
        except ImportError:
            if group.rank == 0 and sharing > 1:
                print(f"layerwise.distributed: {sharing} ranks share {len(mine)} cores; set "
                      f"OMP_NUM_THREADS={threads} so that BLAS threads x ranks <= cores",
                      file=sys.stderr)
    group.threads = threads


def is_initialized():
    return _default is not None


def get_default_group():
    if _default is None:
        raise RuntimeError("the default process group is not initialized: call "
                           "layerwise.distributed.init_process_group() first")
    return _default


def destroy_process_group():
    """Forget the default group (MPI itself is finalized when Python exits)."""
    global _default
    if _default is not None:
        _default.local_comm.Free()
    _default = None


def get_rank(group=None):
    """This process's rank (0 when no group is initialized)."""
    group = group or _default
    return 0 if group is None else group.rank


def get_world_size(group=None):
    group = group or _default
    return 1 if group is None else group.world_size


def get_local_rank(group=None):
    group = group or _default
    return 0 if group is None else group.local_rank


def is_main_process(group=None):
    """True on rank 0 (the rank that prints, writes checkpoints and reports)."""
    return get_rank(group) == 0


def barrier(group=None):
    (group or get_default_group()).barrier()


def broadcast(value, src=0, group=None):
    return (group or get_default_group()).broadcast(value, src)


def all_reduce(value, op="sum", group=None):
    return (group or get_default_group()).all_reduce(value, op)


def all_gather(value, group=None):
    return (group or get_default_group()).all_gather(value)


class RankError(RuntimeError):
    """A failure that every rank knows about (found by a collective check)."""


def on_every_rank(group, what, fn):
    """Run ``fn()`` on every rank; if it raised anywhere, raise :class:`RankError` on all
    ranks naming each failing rank and its error (so no rank waits for a dead one)."""
    try:
        result, error = fn(), None
    except Exception as err:  # noqa: BLE001 - reported to every rank below
        result, error = None, f"{type(err).__name__}: {err}"
    errors = group.all_gather(error)
    failed = [(r, e) for r, e in enumerate(errors) if e is not None]
    if failed:
        lines = [f"{group.describe(r)} could not {what}: {e}" for r, e in failed]
        raise RankError("\n".join(lines))
    return result


def check_same(group, what, value):
    """Raise :class:`RankError` on all ranks if ``value`` differs from rank 0's."""
    values = group.all_gather(value)
    differ = [r for r, v in enumerate(values) if v != values[0]]
    if differ:
        lines = [f"{group.describe(r)} has a different {what} than rank 0: {values[r]} "
                 f"vs {values[0]}" for r in differ]
        raise RankError("\n".join(lines))


@contextmanager
def abort_on_error(group=None):
    """Turn an exception on one rank into the end of every rank, never a hang.

    An error every rank knows (:class:`RankError`) is printed once, by rank 0, and
    every rank exits with status 1. Any other exception is printed with its
    traceback and the name of the rank, then ``MPI_Abort`` stops all ranks (what
    ``python -m mpi4py`` also does for an unhandled exception).
    """
    try:
        yield
    except RankError as err:
        group = group or _default
        if group is None or group.rank == 0:
            print(f"layerwise: error: {err}", file=sys.stderr, flush=True)
        if group is not None:
            group.barrier()
        raise SystemExit(1) from None
    except BaseException as err:
        if isinstance(err, SystemExit) and err.code in (None, 0):
            raise
        group = group or _default
        if group is None:  # MPI never came up (e.g. mpi4py missing): nothing to abort
            print(f"layerwise: error: {err}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        status = 130 if isinstance(err, KeyboardInterrupt) else 1
        if isinstance(err, SystemExit):
            status = err.code if isinstance(err.code, int) else 1
        message = ""
        if not isinstance(err, SystemExit):
            import traceback
            message = "".join(traceback.format_exception(err))
        message += (f"layerwise: {group.describe()} failed ({type(err).__name__}: {err}); "
                    f"aborting all ranks\n")
        sys.stdout.flush()
        sys.stderr.write(message)   # one write: the launcher forwards it before tearing down
        sys.stderr.flush()
        time.sleep(0.5)             # let mpiexec forward the output before the abort
        mpi().COMM_WORLD.Abort(status)
