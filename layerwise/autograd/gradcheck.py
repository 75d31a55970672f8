"""Checking a backward pass against finite differences.

For each input element x_i, the central difference

    (f(x + h e_i) - f(x - h e_i)) / (2 h)

approximates ∂f/∂x_i with an error of order h². ``gradcheck`` compares the
Jacobian-vector product that backpropagation gives with that estimate, in float64.
"""
import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


def _numerical_grads(func, inputs, projection, eps):
    grads = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            grads.append(None)
            continue
        grad = np.zeros_like(t.data)
        flat, gflat = t.data.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            with no_grad():
                plus = float(np.sum(_output(func, inputs).data * projection))
            flat[i] = original - eps
            with no_grad():
                minus = float(np.sum(_output(func, inputs).data * projection))
            flat[i] = original
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def _output(func, inputs):
    out = func(*inputs)
    return out[0] if isinstance(out, (tuple, list)) else out


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """True when ``func``'s backward agrees with central differences at ``inputs``.

    ``inputs`` is a tuple of tensors; those with ``requires_grad=True`` (which must be
    float64) are checked. The output is projected on a fixed random direction, so
    every output element takes part.
    """
    inputs = tuple(inputs)
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad and t.data.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs for precision, got {t.data.dtype}")
    out = _output(func, inputs)
    projection = np.random.default_rng(seed).standard_normal(out.data.shape)
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    out.backward(Tensor(projection.astype(out.data.dtype)))
    analytic = [t.grad.data if isinstance(t, Tensor) and t.grad is not None else None
                for t in inputs]
    numeric = _numerical_grads(func, inputs, projection, eps)
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        if n is None:
            continue
        if a is None:
            a = np.zeros_like(n)
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            if raise_exception:
                worst = np.unravel_index(np.argmax(np.abs(a - n)), n.shape)
                raise AssertionError(
                    f"gradcheck failed for input {k} at index {worst}: backward gave "
                    f"{a[worst]:.8g}, finite differences {n[worst]:.8g} "
                    f"(max abs difference {np.max(np.abs(a - n)):.3g})")
            return False
    return True
