"""``DistributedDataParallel``: one model replica per rank, gradients averaged over MPI.

Each of the ``N`` ranks holds the same weights and computes the loss of its own
local batch (size ``b``), ``L_r = (1/b) Σ_{i∈r} ℓ_i``. The gradient of the global
batch (``B = N b``) is the average of the ranks' gradients,

    ∇L = (1/B) Σ_i ∇ℓ_i = (1/N) Σ_r ∇L_r,

so after ``backward`` every rank replaces its gradient with ``(1/N) Σ_r ∇L_r``
(an ``Allreduce`` with ``MPI.SUM``, then a division by ``N``), and the same
optimizer step keeps the replicas identical. The initial parameters and buffers
are broadcast from rank 0; buffers (batch-norm running statistics) are broadcast
again before each training forward (``broadcast_buffers=True``, PyTorch's default).

Gradients travel in a few large buckets, as in PyTorch: the parameters are taken
in reverse order (the order backward produces their gradients) and packed into
flat buffers of about ``bucket_cap_mb`` (25 MB; the first bucket 1 MB so that
communication starts early). A post-accumulate-grad hook copies each finished
gradient into its bucket; when a bucket is complete it is launched with a
non-blocking ``Iallreduce(MPI.IN_PLACE, bucket)`` while backward goes on with the
earlier layers (``overlap=True``); buckets are launched in the same order on every
rank, as MPI requires. When the last expected gradient has arrived the hook waits
for all buckets (``Waitall``), divides by ``N`` and writes the averages back into
``p.grad`` — so ``loss.backward(); optimizer.step()`` works as with PyTorch.

Which parameters will receive a gradient is read from the graph the forward built
(PyTorch's ``find_unused_parameters`` traversal, always on): unused parameters do
not block synchronization. The engine sums all contributions to a parameter (a
weight used twice, or a penalty added to the loss) before its hook fires, once
per backward. Not supported (a clear error): a parameter whose only gradient
comes from outside the wrapped forward (compute such terms in forward).

With ``N`` ranks and ``S`` gradient bytes, a ring allreduce costs about
``2 (N-1)/N · S / bandwidth + 2 (N-1) · latency`` per step (BENCHMARKS.md).
"""
import hashlib
import time
from contextlib import contextmanager

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..nn.module import Module
from .process_group import check_same, get_default_group, mpi


class _Bucket:
    """Flat buffer of some gradients of one dtype: entries are (param index, offset, size)."""

    def __init__(self, dtype, entries, size):
        self.dtype, self.entries = dtype, entries
        self.buffer = np.zeros(size, dtype=dtype)
        self.pending, self.request, self.launched, self.dirty = 0, None, False, False


def assign_buckets(params, cap_bytes, first_cap_bytes):
    """Indices of ``params`` grouped into buckets (reverse order, per dtype, by size)."""
    open_buckets, buckets = {}, []
    for i in reversed(range(len(params))):
        dtype = params[i].data.dtype
        current = open_buckets.setdefault(dtype, [[], 0])
        current[0].append(i)
        current[1] += params[i].data.nbytes
        cap = first_cap_bytes if not any(b[0] == dtype for b in buckets) else cap_bytes
        if current[1] >= cap:
            buckets.append((dtype, current[0]))
            del open_buckets[dtype]
    buckets += [(dtype, indices) for dtype, (indices, _) in open_buckets.items()]
    return buckets


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the ranks of ``process_group`` (MPI)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, init_sync=True, *,
                 overlap=True, first_bucket_cap_mb=None):
        super().__init__()
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError("DistributedDataParallel: layerwise runs on the CPU; leave "
                             "device_ids and output_device unset")
        self.module = module
        self.process_group = process_group or get_default_group()
        self.world_size = self.process_group.world_size
        self.broadcast_buffers, self.overlap = broadcast_buffers, overlap
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        first = min(1.0, cap) if first_bucket_cap_mb is None else float(first_bucket_cap_mb)
        self.bucket_cap_mb, self.first_bucket_cap_mb = cap, first
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._index = {id(p): i for i, p in enumerate(self._params)}
        names = {id(p): n for n, p in module.named_parameters()}
        self._names = [names[id(p)] for p in self._params]
        self._buffer_list = [b for b in module.buffers()]
        self._comm = self.process_group.new_communicator()
        self._check_same_model()
        if init_sync:
            self._broadcast_from_rank0(list(module.parameters()) + self._buffer_list)
        self._buckets, self._bucket_of, self._offset = [], {}, {}
        for dtype, indices in assign_buckets(self._params, cap * 2 ** 20, first * 2 ** 20):
            entries, offset = [], 0
            for i in indices:
                size = self._params[i].data.size
                entries.append((i, offset, size))
                self._bucket_of[i], self._offset[i] = len(self._buckets), offset
                offset += size
            self._buckets.append(_Bucket(dtype, entries, offset))
        self._expected = np.zeros(len(self._params), dtype=np.int64)
        self._fires = np.zeros(len(self._params), dtype=np.int64)
        self._active = self._finished = self._fired = False
        self._remaining, self._next_launch = 0, 0
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                            for i, p in enumerate(self._params)] if self.world_size > 1 else []
        self.reset_stats()

    # ------------------------------------------------------------ set-up
    def _check_same_model(self):
        signature = [(n, tuple(p.data.shape), str(p.data.dtype))
                     for n, p in self.module.named_parameters()]
        digest = hashlib.md5(repr(signature).encode()).hexdigest()[:12]
        total = sum(int(np.prod(s)) for _, s, _ in signature)
        check_same(self.process_group, "model",
                   f"{len(signature)} parameters, {total:,} values, signature {digest}")

    def _broadcast_from_rank0(self, tensors):
        """Rank 0's values of ``tensors`` on every rank: one ``Bcast`` per dtype."""
        if self.world_size == 1 or not tensors:
            return
        for dtype in sorted({t.data.dtype.str for t in tensors}):
            group = [t for t in tensors if t.data.dtype.str == dtype]
            pack = np.concatenate([t.data.reshape(-1) for t in group])
            self._comm.Bcast(pack, root=0)
            if self.process_group.rank != 0:
                offset = 0
                for t in group:
                    t.data[...] = pack[offset:offset + t.data.size].reshape(t.data.shape)
                    offset += t.data.size

    def reset_stats(self):
        """Zero the communication timers (``stats()``)."""
        self._stats = {"steps": 0, "comm_seconds": 0.0, "wait_seconds": 0.0, "bytes": 0}

    def stats(self):
        """Synchronized steps, seconds inside MPI calls (launch, test, wait, allreduce),
        seconds blocked waiting for buckets, gradient bytes reduced per step."""
        s = dict(self._stats)
        s["bytes_per_step"] = sum(b.buffer.nbytes for b in self._buckets)
        s["buckets"] = len(self._buckets)
        return s

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self.training and self.broadcast_buffers and self._buffer_list:
            self._broadcast_from_rank0(self._buffer_list)
        sync = (self.world_size > 1 and self.training and is_grad_enabled()
                and self.require_backward_grad_sync)
        if sync:
            self._prepare_iteration()
        output = self.module(*inputs, **kwargs)
        if sync:
            self._expect(output)
        return output

    def _prepare_iteration(self):
        if self._active and self._fired and not self._finished:
            raise RuntimeError(
                "DistributedDataParallel: the previous backward's gradients were never "
                "synchronized (not every expected gradient arrived). Call "
                "model.finish_gradient_sync() after backward, or make the loss depend on "
                "every output of the model's forward")
        self._fires[:] = 0
        self._active, self._finished, self._fired = True, False, False
        self._next_launch = 0
        for bucket in self._buckets:
            bucket.launched, bucket.dirty, bucket.request = False, False, None

    def _expect(self, output):
        """Count, from the graph of ``output``, the gradients each parameter will receive."""
        counts = np.zeros(len(self._params), dtype=np.int64)
        stack, seen = [], set()
        for t in _tensors(output):
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
            elif t.requires_grad and id(t) in self._index:
                counts[self._index[id(t)]] = 1
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            for t, needed in zip(fn.inputs, fn.needs_input_grad):
                if not needed:
                    continue
                parent = t.grad_fn
                if parent is None:
                    i = self._index.get(id(t))
                    if i is not None:
                        counts[i] = 1   # the engine sums a leaf's contributions: one hook call
                elif id(parent) not in seen:
                    stack.append(parent)
        self._expected = counts
        self._remaining = int(np.count_nonzero(counts))
        for bucket in self._buckets:
            bucket.pending = sum(1 for i, _, _ in bucket.entries if counts[i] > 0)

    # ----------------------------------------------------------- backward
    def _make_hook(self, i):
        def hook(param):
            if self._active:
                self._gradient_ready(i, param)
        return hook

    def _gradient_ready(self, i, param):
        self._fires[i] += 1
        self._fired = True
        fires, expected = self._fires[i], self._expected[i]
        if fires < expected:
            return
        bucket = self._buckets[self._bucket_of[i]]
        if fires > expected:  # a contribution the forward graph did not announce
            if self._finished:
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {self._names[i]!r} received a "
                    f"gradient after the gradients were synchronized: it was used outside "
                    f"the forward of the wrapped module (e.g. a penalty on the weights added "
                    f"to the loss, or two forwards before one backward). Compute such terms "
                    f"inside forward, or run the extra forward under no_sync()")
            if bucket.launched:
                bucket.dirty = True
                return
        offset = self._offset[i]
        bucket.buffer[offset:offset + param.data.size] = param.grad.data.reshape(-1)
        if fires == expected:
            bucket.pending -= 1
            self._remaining -= 1
            if self.overlap and bucket.pending == 0:
                self._launch_ready()
        if self._remaining == 0:
            self._finish()
        elif self.overlap:
            self._poke()

    def _fill(self, bucket, every=False):
        """Copy local gradients into the bucket: those not (completely) delivered by the
        hooks, or ``every`` one; a parameter without a gradient contributes zeros."""
        for i, offset, size in bucket.entries:
            if every or self._fires[i] < self._expected[i] or self._expected[i] == 0:
                grad = self._params[i].grad
                bucket.buffer[offset:offset + size] = 0 if grad is None else \
                    grad.data.reshape(-1)

    def _launch_ready(self):
        """Launch, in bucket order, every bucket whose gradients are all in."""
        MPI = mpi()
        start = time.perf_counter()
        while self._next_launch < len(self._buckets):
            bucket = self._buckets[self._next_launch]
            if bucket.pending > 0:
                break
            self._fill(bucket)
            bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
            bucket.launched = True
            self._next_launch += 1
        self._stats["comm_seconds"] += time.perf_counter() - start

    def _poke(self):
        """Let MPI progress the buckets in flight (MPI progresses only inside MPI calls)."""
        requests = [b.request for b in self._buckets if b.launched and b.request is not None]
        if requests:
            start = time.perf_counter()
            mpi().Request.Testall(requests)
            self._stats["comm_seconds"] += time.perf_counter() - start

    def finish_gradient_sync(self):
        """Wait for the buckets and write the averaged gradients (no-op if already done)."""
        if self._active and self._fired and not self._finished:
            self._finish()

    def _finish(self):
        MPI = mpi()
        for bucket in self._buckets:
            bucket.pending = 0
        if self.overlap:
            self._launch_ready()
            start = time.perf_counter()
            MPI.Request.Waitall([b.request for b in self._buckets])
            self._stats["wait_seconds"] += time.perf_counter() - start
            self._stats["comm_seconds"] += time.perf_counter() - start
        start = time.perf_counter()
        for bucket in self._buckets:
            if bucket.dirty or not self.overlap:  # dirty: re-send with the late gradients
                self._fill(bucket, every=bucket.dirty)
                self._comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
        self._stats["comm_seconds"] += time.perf_counter() - start
        self._write_averages()
        self._finished, self._active = True, False
        self._stats["steps"] += 1
        self._stats["bytes"] += sum(b.buffer.nbytes for b in self._buckets)

    def _write_averages(self):
        """p.grad = bucket slot / N (in place when p.grad owns a contiguous array)."""
        scale = 1.0 / self.world_size
        for bucket in self._buckets:
            if self.gradient_as_bucket_view:
                bucket.buffer *= bucket.dtype.type(scale)
            for i, offset, size in bucket.entries:
                p, slot = self._params[i], bucket.buffer[offset:offset + size]
                if p.grad is None and self._expected[i] == 0 and not slot.any():
                    continue  # unused on every rank: the gradient stays None
                if self.gradient_as_bucket_view:
                    value = slot.reshape(p.data.shape)
                elif p.grad is not None and p.grad.data.flags.c_contiguous:
                    np.multiply(slot, scale, out=p.grad.data.reshape(-1), casting="unsafe")
                    continue
                else:
                    value = (slot * scale).astype(p.data.dtype).reshape(p.data.shape)
                if p.grad is None:
                    p.grad = Tensor(value)
                else:
                    p.grad.data = value

    # ------------------------------------------------------------- public
    @contextmanager
    def no_sync(self):
        """Gradients of forwards/backwards run inside accumulate locally, unsynchronized;
        the first synchronized backward after it averages the accumulated sums."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def load_state_dict(self, state_dict, strict=True):
        """Keys with PyTorch's ``module.`` prefix, or the plain model's keys."""
        if state_dict and not any(k.startswith("module.") for k in state_dict):
            return self.module.load_state_dict(state_dict, strict)
        return super().load_state_dict(state_dict, strict)

    def extra_repr(self):
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb}, overlap={self.overlap}")


def _tensors(output):
    """The tensors in a forward's output (a tensor, or nested tuples/lists/dicts)."""
    if isinstance(output, Tensor):
        yield output
    elif isinstance(output, (tuple, list)):
        for item in output:
            yield from _tensors(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _tensors(item)
