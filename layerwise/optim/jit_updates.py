"""The optimizers' updates as one compiled loop each (used when numba is installed).

Each loop does, per coordinate i, exactly what the NumPy code of its optimizer does
with whole arrays (same operations, same order, same dtype: the scalars arrive cast
to the parameter's dtype), so the two paths agree bit for bit; the loop reads every
array once instead of a dozen times. ``sign`` is -1 when maximizing, ``l2`` the L2
weight decay added to the gradient (``g ← g + λθ``, computed as ``θλ + g``), and
``decay`` the decoupled weight decay factor ``1 - γλ`` of AdamW (1 otherwise).
"""
import math


from ..backend import jit, native
from ..backend.parallel import for_each_chunk

#: elements per thread below which one thread does the whole update
MIN_CHUNK = 1 << 16
#: the same on the native pool, whose hand-off costs ~2 µs
MIN_NATIVE_CHUNK = 1 << 14


def usable(*arrays):
    """True when the compiled path applies: numba on, same-shaped contiguous float arrays."""
    if not jit.enabled():
        return False
    first = arrays[0]
    return first.dtype in jit.FLOAT_TYPES and all(
        a.shape == first.shape and a.dtype == first.dtype and a.flags.c_contiguous
        for a in arrays)


def run(kernel, arrays, scalars, flags=()):
    """``kernel(*flat arrays, start, stop, *scalars in the arrays' dtype, *flags)`` on all threads."""
    dtype = arrays[0].dtype.type
    flat = [a.reshape(-1) for a in arrays]
    values = tuple(dtype(s) for s in scalars) + tuple(bool(f) for f in flags)
    size = flat[0].size
    if native.active():
        parts = native.parts(size, MIN_NATIVE_CHUNK)
        if parts > 1:
            _TWINS[kernel](*flat, parts, *values)
        else:
            kernel(*flat, 0, size, *values)
        return
    for_each_chunk(lambda a, b: kernel(*flat, a, b, *values), size, MIN_CHUNK)


@jit.kernel
def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, start, stop, sign, l2, decay,
         one_minus_beta1, beta2, one_minus_beta2, eps, step_size, bias_correction2_sqrt,
         amsgrad):
    """m ← m + (g - m)(1-β₁); v ← vβ₂ + g²(1-β₂); θ ← θ - (m / (√v̂ / √(1-β₂ᵗ) + ε)) γ/(1-β₁ᵗ)."""
    param, grad, exp_avg, exp_avg_sq = (param[start:stop], grad[start:stop],
                                        exp_avg[start:stop], exp_avg_sq[start:stop])
    max_exp_avg_sq = max_exp_avg_sq[start:stop]
    for i in range(param.shape[0]):
        p = param[i] * decay
        g = grad[i] * sign
        if l2 != 0:
            g = p * l2 + g
        m = exp_avg[i]
        m = m + (g - m) * one_minus_beta1
        v = exp_avg_sq[i] * beta2 + (g * g) * one_minus_beta2
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            old = max_exp_avg_sq[i]
            if old > v or old != old:     # np.maximum: the larger, NaN if either is NaN
                v = old
            max_exp_avg_sq[i] = v
        denominator = math.sqrt(v) / bias_correction2_sqrt + eps
        param[i] = p - (m / denominator) * step_size


@jit.kernel
def sgd(param, grad, buf, start, stop, sign, l2, momentum, grad_scale, lr, use_momentum,
        nesterov):
    """b ← bμ + g·scale; d = bμ + g (Nesterov) or b; θ ← θ - d γ (d = g without momentum)."""
    param, grad, buf = param[start:stop], grad[start:stop], buf[start:stop]
    for i in range(param.shape[0]):
        p = param[i]
        g = grad[i] * sign
        if l2 != 0:
            g = p * l2 + g
        if use_momentum:
            b = buf[i] * momentum + g * grad_scale
            buf[i] = b
            if nesterov:
                g = b * momentum + g
            else:
                g = b
        param[i] = p - g * lr


@jit.kernel
def rmsprop(param, grad, square_avg, grad_avg, buf, start, stop, sign, l2, alpha,
            one_minus_alpha, eps, momentum, lr, centered, use_momentum):
    """s ← sα + g²(1-α); ḡ ← ḡ + (g - ḡ)(1-α); δ = √(s - ḡ²) + ε (centered) or √s + ε;
    b ← bμ + g/δ, θ ← θ - bγ (momentum) or θ ← θ - (g/δ)γ."""
    param, grad, square_avg = param[start:stop], grad[start:stop], square_avg[start:stop]
    grad_avg, buf = grad_avg[start:stop], buf[start:stop]
    for i in range(param.shape[0]):
        p = param[i]
        g = grad[i] * sign
        if l2 != 0:
            g = p * l2 + g
        s = square_avg[i] * alpha + (g * g) * one_minus_alpha
        square_avg[i] = s
        if centered:
            mean = grad_avg[i]
            mean = mean + (g - mean) * one_minus_alpha
            grad_avg[i] = mean
            s = s - mean * mean
        denominator = math.sqrt(s) + eps
        if use_momentum:
            b = buf[i] * momentum + g / denominator
            buf[i] = b
            param[i] = p - b * lr
        else:
            param[i] = p - (g / denominator) * lr


@jit.kernel
def adagrad(param, grad, state_sum, start, stop, sign, l2, eps, lr):
    """Σ ← Σ + g²; θ ← θ - (g / (√Σ + ε)) γ_t."""
    param, grad, state_sum = param[start:stop], grad[start:stop], state_sum[start:stop]
    for i in range(param.shape[0]):
        p = param[i]
        g = grad[i] * sign
        if l2 != 0:
            g = p * l2 + g
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = p - (g / (math.sqrt(s) + eps)) * lr


# The updates with one range per thread of the native pool (``backend.native``).
@jit.parallel_kernel
def adam_parallel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, parts, *scalars):
    step = (param.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, p * step,
             min(param.shape[0], (p + 1) * step), *scalars)


@jit.parallel_kernel
def sgd_parallel(param, grad, buf, parts, *scalars):
    step = (param.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        sgd(param, grad, buf, p * step, min(param.shape[0], (p + 1) * step), *scalars)


@jit.parallel_kernel
def rmsprop_parallel(param, grad, square_avg, grad_avg, buf, parts, *scalars):
    step = (param.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        rmsprop(param, grad, square_avg, grad_avg, buf, p * step,
                min(param.shape[0], (p + 1) * step), *scalars)


@jit.parallel_kernel
def adagrad_parallel(param, grad, state_sum, parts, *scalars):
    step = (param.shape[0] + parts - 1) // parts
    for p in jit.prange(parts):
        adagrad(param, grad, state_sum, p * step, min(param.shape[0], (p + 1) * step),
                *scalars)


_TWINS = {adam: adam_parallel, sgd: sgd_parallel, rmsprop: rmsprop_parallel,
          adagrad: adagrad_parallel}
