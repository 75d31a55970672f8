"""Normalization: batch normalization (Ioffe & Szegedy, 2015) and layer normalization.

Both standardize activations and then apply a learned affine map:

    x̂ = (x - μ) / √(σ² + ε),   y = γ x̂ + β

Batch norm takes μ, σ² per channel over the batch (and spatial) axes; layer norm
per sample over its last dimensions. With M values per statistic, G = γ·g
and means over the same axes, the closed-form backward is

    dL/dx = (1/√(σ² + ε)) · (G - mean(G) - x̂ · mean(G x̂)),
    dL/dγ = Σ g x̂,   dL/dβ = Σ g.
"""
import numpy as np

from ...autograd.function import Function
from ...backend import jit_layer_norm
from ...backend.parallel import for_each_chunk

__all__ = ["batch_norm", "layer_norm"]


def _channel_shape(x):
    """Shape that broadcasts a per-channel (C,) vector against x of shape (N, C, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _batch_chunks(work, x):
    """``work(a, b)`` over slices x[a:b] of the batch, on all threads for large arrays."""
    per_item = max(x[0].size, 1) if len(x) else 1
    for_each_chunk(work, x.shape[0], min_size=max(1, (1 << 17) // per_item))


def _per_channel_sum(a):
    """Σ over every axis but the channel axis 1 of an (N, C, ...) array, shape (C,)."""
    return _per_channel_dot(a, None)


def _per_channel_dot(a, b):
    """Σ a·b (or Σ a if b is None) over every axis but the channel axis 1, shape (C,).

    One pass without a temporary; large batches are split across threads and the
    partial sums added.
    """
    n, c = a.shape[:2]
    a3 = a.reshape(n, c, -1)
    b3 = None if b is None else b.reshape(n, c, -1)
    partials = {}

    def work(start, stop):
        if b3 is None:
            partials[start] = np.einsum("ncl->c", a3[start:stop])
        else:
            partials[start] = np.einsum("ncl,ncl->c", a3[start:stop], b3[start:stop])

    _batch_chunks(work, a)
    total = None   # added in batch order, so results do not depend on thread timing
    for start in sorted(partials):
        total = partials[start] if total is None else total + partials[start]
    return total


def _affine(x_hat, weight, bias):
    """γ x̂ + β as a new array (x̂ itself when there is neither γ nor β)."""
    if weight is None:
        return x_hat if bias is None else x_hat + bias
    out = x_hat * weight
    if bias is not None:
        out += bias
    return out


class BatchNormTraining(Function):
    """Batch norm with the batch's statistics (training mode), one op forward and back.

    μ_c, σ²_c = mean and biased variance of channel c over N and the spatial axes
    (M values); the running statistics, if given, are updated in place with
    running = (1 - momentum) · running + momentum · batch statistic, where the
    variance is the unbiased one, σ² · M / (M - 1) (PyTorch's rule).
    Backward (γ = 1 when there is no weight):
    dL/dx = γ/√(σ² + ε) · (g - Σg/M - x̂ · Σ(g x̂)/M),
    dL/dγ = Σ g x̂,  dL/dβ = Σ g.
    """

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None,
                momentum=0.1, eps=1e-5):
        shape = _channel_shape(x)
        count = x.size // x.shape[1]
        mean = (_per_channel_sum(x) / count).reshape(shape)
        x_hat = np.empty_like(x)
        _batch_chunks(lambda a, b: np.subtract(x[a:b], mean, out=x_hat[a:b]), x)
        var = (_per_channel_dot(x_hat, x_hat) / count).reshape(shape)
        inv_std = 1.0 / np.sqrt(var + eps)
        gamma = None if weight is None else weight.reshape(shape)
        beta = None if bias is None else bias.reshape(shape)
        out = x_hat if gamma is None and beta is None else np.empty_like(x)

        def normalize(a, b):
            x_hat[a:b] *= inv_std
            if gamma is not None:
                np.multiply(x_hat[a:b], gamma, out=out[a:b])
                if beta is not None:
                    out[a:b] += beta
            elif beta is not None:
                np.add(x_hat[a:b], beta, out=out[a:b])

        _batch_chunks(normalize, x)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * count / max(count - 1, 1)) * var.reshape(-1)
        if any(self.needs_input_grad):
            self.x_hat, self.inv_std, self.weight = x_hat, inv_std, weight
        return out

    def backward(self, g):
        need_x, need_weight, need_bias = self.needs_input_grad
        x_hat = self.x_hat
        shape = _channel_shape(g)
        count = g.size // g.shape[1]
        sum_g = _per_channel_sum(g)
        sum_g_xhat = _per_channel_dot(g, x_hat)
        grad_x = None
        if need_x:
            scale = self.inv_std if self.weight is None else \
                self.inv_std * self.weight.reshape(shape)
            mean_g_xhat = (sum_g_xhat / count).reshape(shape)
            mean_g = (sum_g / count).reshape(shape)
            grad_x = np.empty_like(g)

            def input_gradient(a, b):
                out = grad_x[a:b]
                np.multiply(x_hat[a:b], mean_g_xhat, out=out)
                np.subtract(g[a:b], out, out=out)
                out -= mean_g
                out *= scale

            _batch_chunks(input_gradient, g)
        grad_weight = sum_g_xhat if need_weight else None
        grad_bias = sum_g if need_bias else None
        return grad_x, grad_weight, grad_bias


class BatchNormInference(Function):
    """Batch norm with fixed statistics μ, σ² (eval mode): an affine map per channel.

    y = x · s + (β - μ s),  s = γ/√(σ² + ε);   dL/dx = g s,
    dL/dγ = Σ g (x - μ)/√(σ² + ε),   dL/dβ = Σ g.
    """

    def forward(self, x, weight=None, bias=None, mean=None, var=None, eps=1e-5):
        shape = _channel_shape(x)
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = inv_std if weight is None else inv_std * weight
        shift = -mean * scale
        if bias is not None:
            shift += bias
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        need_x, need_weight, need_bias = self.needs_input_grad
        if need_x:
            self.scale = scale.reshape(shape)
        if need_weight:
            self.x, self.mean, self.inv_std = x, mean.reshape(shape), inv_std.reshape(shape)
        return out

    def backward(self, g):
        need_x, need_weight, need_bias = self.needs_input_grad
        grad_x = g * self.scale if need_x else None
        grad_weight = None
        if need_weight:
            x_hat = self.x - self.mean
            x_hat *= self.inv_std
            grad_weight = _per_channel_dot(g, x_hat)
        grad_bias = _per_channel_sum(g) if need_bias else None
        return grad_x, grad_weight, grad_bias


class LayerNorm(Function):
    """Layer norm over the last k axes: μ, σ² per sample over D = prod(normalized_shape)
    values, y = γ x̂ + β with γ, β of shape normalized_shape.

    With G = γ g and means over the normalized axes:
    dL/dx = (G - mean(G) - x̂ mean(G x̂)) / √(σ² + ε),
    dL/dγ = Σ_rows g x̂,  dL/dβ = Σ_rows g.
    Computed on the (rows, D) view, where the row sums are BLAS products with ones.
    """

    def forward(self, x, weight=None, bias=None, normalized_ndim=1, eps=1e-5):
        normalized_shape = x.shape[x.ndim - normalized_ndim:]
        size = 1
        for n in normalized_shape:
            size *= n
        rows = x.reshape(-1, size)
        save = any(self.needs_input_grad)
        if jit_layer_norm.usable(rows, weight, bias):          # one compiled pass per row
            out, x_hat, inv_std = jit_layer_norm.forward(rows, weight, bias, eps, save)
            if save:
                self.x_hat, self.inv_std, self.weight = x_hat, inv_std, weight
                self.ones = np.ones(size, dtype=x.dtype)
                self.x_shape, self.normalized_shape = x.shape, normalized_shape
            return out.reshape(x.shape)
        ones = np.ones(size, dtype=x.dtype)
        x_hat = rows - ((rows @ ones) / size)[:, None]
        var = np.einsum("rd,rd->r", x_hat, x_hat) / size
        inv_std = (1.0 / np.sqrt(var + eps))[:, None]
        x_hat *= inv_std
        out = _affine(x_hat, None if weight is None else weight.reshape(size),
                      None if bias is None else bias.reshape(size))
        if save:
            self.x_hat, self.inv_std, self.weight, self.ones = x_hat, inv_std, weight, ones
            self.x_shape, self.normalized_shape = x.shape, normalized_shape
        return out.reshape(x.shape)

    def backward(self, g):
        need_x, need_weight, need_bias = self.needs_input_grad
        x_hat, size = self.x_hat, self.x_hat.shape[1]
        g_rows = g.reshape(-1, size)
        grad_x = grad_weight = grad_bias = None
        if need_x:
            weight = self.weight
            g_hat = g_rows if weight is None else g_rows * weight.reshape(size)
            mean_g = (g_hat @ self.ones) / size
            mean_g_xhat = np.einsum("rd,rd->r", g_hat, x_hat) / size
            grad_x = x_hat * mean_g_xhat[:, None]
            np.subtract(g_hat, grad_x, out=grad_x)
            grad_x -= mean_g[:, None]
            grad_x *= self.inv_std
            grad_x = grad_x.reshape(self.x_shape)
        if need_weight:
            grad_weight = np.einsum("rd,rd->d", g_rows, x_hat).reshape(self.normalized_shape)
        if need_bias:
            grad_bias = (np.ones(len(g_rows), dtype=g.dtype) @ g_rows).reshape(
                self.normalized_shape)
        return grad_x, grad_weight, grad_bias


def _check_affine(name, what, param, expected_shape, x):
    if param is None:
        return
    if tuple(param.data.shape) != tuple(expected_shape):
        raise RuntimeError(f"{name}: {what} must have shape {tuple(expected_shape)}, got "
                           f"{tuple(param.data.shape)}")
    if param.data.dtype != x.dtype:
        raise RuntimeError(f"{name}: input dtype {x.dtype} does not match {what} dtype "
                           f"{param.data.dtype}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel of an (N, C), (N, C, L) or (N, C, H, W) input.

    training=True: batch statistics, and ``running_mean``/``running_var`` (if given)
    are updated in place. training=False: the running statistics are used.
    ``momentum`` must be a number here; ``BatchNorm*d(momentum=None)`` turns a
    cumulative average into the factor 1/num_batches_tracked before calling this.
    """
    x = input.data
    name = "batch_norm"
    if x.ndim < 2:
        raise RuntimeError(f"{name}: expected an input of at least 2 dimensions (N, C, ...), "
                           f"got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for what, param in (("weight", weight), ("bias", bias),
                        ("running_mean", running_mean), ("running_var", running_var)):
        _check_affine(name, what, param, (channels,), x)
    if training:
        if x.size // channels <= 1:
            raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(x.shape)}")
        if momentum is None and running_mean is not None:
            raise ValueError(f"{name}: momentum must be a number (None, the cumulative "
                             f"average, is handled by the BatchNorm modules)")
        return BatchNormTraining.apply(
            input, weight, bias,
            running_mean=None if running_mean is None else running_mean.data,
            running_var=None if running_var is None else running_var.data,
            momentum=0.0 if momentum is None else float(momentum), eps=float(eps))
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{name}: running_mean and running_var are needed when "
                           f"training=False")
    return BatchNormInference.apply(input, weight, bias, mean=running_mean.data,
                                    var=running_var.data, eps=float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dimensions of each sample."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    x = input.data
    k = len(normalized_shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
        raise RuntimeError(f"layer_norm: expected input with trailing dimensions "
                           f"{normalized_shape} (normalized_shape), got shape {tuple(x.shape)}")
    _check_affine("layer_norm", "weight", weight, normalized_shape, x)
    _check_affine("layer_norm", "bias", bias, normalized_shape, x)
    return LayerNorm.apply(input, weight, bias, normalized_ndim=k, eps=float(eps))


# ------------------------------------------------------------------ local response norm
__all__ += ["local_response_norm"]


def _channel_window_sum(a, before, after):
    """s[:, c] = Σ a[:, j] for j in [c - before, c + after] ∩ [0, C): a sum of
    ``before + after + 1`` shifted copies of the zero-padded array (no per-pixel loop)."""
    channels = a.shape[1]
    widths = [(0, 0)] * a.ndim
    widths[1] = (before, after)
    padded = np.pad(a, widths)
    total = padded[:, 0:channels].copy()
    for shift in range(1, before + after + 1):
        total += padded[:, shift:shift + channels]
    return total


class LocalResponseNormalization(Function):
    """Local response normalization across channels (Krizhevsky et al., 2012, §3.3):

        d_c = k + (α / n) Σ_{c' ∈ W(c)} a_{c'}²,    b_c = a_c / d_c^β,

    W(c) = [c - ⌊n/2⌋, c + ⌊(n-1)/2⌋] clipped to the channels (zero padding), and the
    sum is divided by the window size n as in PyTorch (and Caffe): PyTorch's
    ``F.local_response_norm`` computes exactly this (an average pool of a² over n
    channels). The paper writes α without the 1/n.
    Backward, with j running over the channels whose window holds i:

        dL/da_i = g_i / d_i^β - (2αβ/n) a_i Σ_{j: i ∈ W(j)} g_j a_j / (d_j^β d_j).
    """

    def forward(self, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
        square_sum = _channel_window_sum(x * x, size // 2, (size - 1) // 2)
        denominator = square_sum
        denominator *= x.dtype.type(alpha / size)
        denominator += x.dtype.type(k)
        powered = np.power(denominator, x.dtype.type(beta))
        out = x / powered
        if self.needs_input_grad[0]:
            self.x, self.denominator, self.powered = x, denominator, powered
            self.size, self.alpha, self.beta = size, alpha, beta
        return out

    def backward(self, g):
        x, size = self.x, self.size
        grad = g / self.powered
        weighted = grad * x
        weighted /= self.denominator                    # g_j a_j / (d_j^β d_j)
        spread = _channel_window_sum(weighted, (size - 1) // 2, size // 2)
        spread *= x
        spread *= x.dtype.type(2.0 * self.alpha * self.beta / size)
        grad -= spread
        return grad


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalize each value by the energy of its ``size`` neighbouring channels:
    b_c = a_c / (k + α/n Σ_{c'} a_{c'}²)^β (see :class:`LocalResponseNormalization`).

    input: (N, C, ...) with at least 3 dimensions, like PyTorch's.
    """
    x = input.data
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(N, C, ...), got input of shape {tuple(x.shape)}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size!r}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"local_response_norm: expected a floating point input, got dtype "
                           f"{x.dtype}")
    if x.size == 0:
        return input
    return LocalResponseNormalization.apply(input, size=int(size), alpha=float(alpha),
                                            beta=float(beta), k=float(k))
