"""``SyncBatchNorm``: batch normalization over the global batch of all ranks.

Plain batch norm on ``N`` ranks normalizes each local batch with its own
statistics (PyTorch's default under DDP): the ranks then compute something else
than one process with the global batch. ``SyncBatchNorm`` makes the statistics
global. With ``M_r`` values per channel on rank ``r`` and ``M = Σ_r M_r``:

    μ = (1/M) Σ_r Σ x,     σ² = (1/M) Σ_r Σ x² - μ²       (one Allreduce of
                                                          [M_r, Σx, Σx²] per layer)
    x̂ = (x - μ)/√(σ² + ε),   y = γ x̂ + β

and backward needs the global sums of ``g = dL_r/dy`` and ``g x̂`` (a second
Allreduce):

    dL/dx = γ/√(σ² + ε) · (g - (1/M) Σ_r Σ g - x̂ · (1/M) Σ_r Σ g x̂),
    dL/dγ = Σ g x̂,   dL/dβ = Σ g      (local sums: DDP averages them).

Every rank's ``dL/dx`` is then ``N`` times its share of the single-process
gradient of the global mean loss, and DDP's division by ``N`` makes the weights'
gradients exactly those of one process with the global batch — the basis of
the equivalence test. Running statistics use the global ``μ`` and the unbiased
``σ² M/(M-1)``, identical on every rank. Sums are taken in float64.

In eval mode, or without an initialized process group, it is plain batch norm.
State-dict keys are BatchNorm's, so checkpoints move freely between the two.
"""
import numpy as np

from ..autograd.function import Function
from ..nn.normalization import _BatchNorm
from .process_group import get_default_group, is_initialized, mpi


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _channel_sums(a, b=None):
    """Σ a (or Σ a·b) per channel of (N, C, ...) arrays, in float64."""
    n, c = a.shape[:2]
    a = a.reshape(n, c, -1)
    if b is None:
        return np.einsum("ncl->c", a, dtype=np.float64)
    return np.einsum("ncl,ncl->c", a, b.reshape(n, c, -1), dtype=np.float64)


class SyncBatchNormFunction(Function):
    """Batch norm whose statistics are reduced over ``comm`` (formulas in the module doc)."""

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None,
                momentum=0.1, eps=1e-5, comm=None):
        MPI, channels = mpi(), x.shape[1]
        count = x.size // channels
        stats = np.concatenate([[count], _channel_sums(x), _channel_sums(x, x)])
        comm.Allreduce(MPI.IN_PLACE, stats, op=MPI.SUM)
        total = stats[0]
        mean64 = stats[1:1 + channels] / total
        var64 = np.maximum(stats[1 + channels:] / total - mean64 * mean64, 0.0)
        shape = _channel_shape(x)
        mean, inv_std = (mean64.astype(x.dtype).reshape(shape),
                         (1.0 / np.sqrt(var64 + eps)).astype(x.dtype).reshape(shape))
        x_hat = (x - mean) * inv_std
        out = x_hat if weight is None else x_hat * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += (momentum * mean64).astype(running_mean.dtype)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * var64 * total / max(total - 1, 1)).astype(
                running_var.dtype)
        if any(self.needs_input_grad):
            self.x_hat, self.inv_std, self.weight = x_hat, inv_std, weight
            self.total, self.comm = total, comm
        return out

    def backward(self, g):
        MPI = mpi()
        need_x, need_weight, need_bias = self.needs_input_grad
        x_hat, channels = self.x_hat, g.shape[1]
        sum_g, sum_g_xhat = _channel_sums(g), _channel_sums(g, x_hat)
        grad_x = None
        if need_x:
            sums = np.concatenate([sum_g, sum_g_xhat])
            self.comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
            shape = _channel_shape(g)
            mean_g = (sums[:channels] / self.total).astype(g.dtype).reshape(shape)
            mean_g_xhat = (sums[channels:] / self.total).astype(g.dtype).reshape(shape)
            scale = self.inv_std if self.weight is None else \
                self.inv_std * self.weight.reshape(shape)
            grad_x = (g - mean_g - x_hat * mean_g_xhat) * scale
        dtype = g.dtype
        grad_weight = sum_g_xhat.astype(dtype) if need_weight else None
        grad_bias = sum_g.astype(dtype) if need_bias else None
        return grad_x, grad_weight, grad_bias


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, ...) inputs with statistics over all ranks (PyTorch's name)."""

    dims, layout = (2, 3, 4, 5), "(N, C, ...)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype)
        self.process_group = process_group
        self._comm = None

    def _communicator(self):
        if self._comm is None:
            group = self.process_group or get_default_group()
            self._comm = _shared_comm(group)
        return self._comm

    def forward(self, input):
        group = self.process_group or (get_default_group() if is_initialized() else None)
        if not self.training or group is None or group.world_size == 1:
            return super().forward(input)
        self._check_input(input)
        update = self.track_running_stats
        factor = 0.0
        if update:
            self.num_batches_tracked.data += 1
            factor = (1.0 / float(self.num_batches_tracked.data) if self.momentum is None
                      else self.momentum)
        return SyncBatchNormFunction.apply(
            input, self.weight, self.bias,
            running_mean=self.running_mean.data if update else None,
            running_var=self.running_var.data if update else None,
            momentum=float(factor), eps=float(self.eps), comm=self._communicator())

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*d replaced by a SyncBatchNorm sharing its
        parameters and buffers (an optimizer built before still applies)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                if name in module._parameters:
                    sync._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                sync._buffers[name] = module._buffers.get(name)
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module


_comms = {}


def _shared_comm(group):
    """One duplicated communicator per group for all SyncBatchNorm layers."""
    key = id(group)
    if key not in _comms:
        _comms[key] = group.new_communicator()
    return _comms[key]
