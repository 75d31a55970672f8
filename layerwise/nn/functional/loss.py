"""Loss functions: how far a prediction is from its target, as one number to minimize.

Each loss is one ``Function`` computing the per-element loss ℓ and its reduction:

- ``reduction='none'``: ℓ itself, one value per element (or per sample);
- ``'sum'``: Σ ℓ;
- ``'mean'``: Σ ℓ / n, where n is the number of elements, except for weighted
  losses that follow PyTorch's rules (stated in each docstring).

Targets are cast to the input's dtype (a float64 NumPy target never promotes a
float32 network). Loss weights (``weight``, ``pos_weight``) are constants: no
gradient flows into them. The class-index losses (``nll_loss``, ``cross_entropy``)
live in ``cross_entropy.py`` and are re-exported here.
"""
import numpy as np
from scipy.special import expit

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .cross_entropy import cross_entropy, nll_loss
from .loss_reduction import as_constant, check_reduction, reduce_loss, upstream_scale

__all__ = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "nll_loss", "cross_entropy", "kl_div"]


def target_like(name, input, target):
    """``target`` as a tensor of the input's dtype and shape (checked)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if target.data.shape != input.data.shape:
        raise RuntimeError(f"{name}: input shape {tuple(input.shape)} and target shape "
                           f"{tuple(target.shape)} differ (PyTorch would broadcast them "
                           f"with a warning; layerwise requires equal shapes)")
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be a floating-point tensor, got dtype "
                           f"{input.data.dtype}")
    if target.data.dtype != input.data.dtype:
        target = target.to(input.data.dtype)
    return target


def weight_of_input_shape(name, weight, input):
    weight = as_constant(weight, input, name, "weight")
    if weight is not None and weight.shape != input.data.shape:
        raise ValueError(f"{name}: weight shape {tuple(weight.shape)} must equal the input "
                         f"shape {tuple(input.shape)}")
    return weight


class MeanSquaredError(Function):
    """ℓ = w (x - t)²;  'mean' divides Σℓ by n (by Σw with weights, as PyTorch).

    dℓ/dx = 2 w (x - t),  dℓ/dt = -dℓ/dx.
    """

    def forward(self, x, t, weight=None, reduction="mean"):
        diff = x - t
        loss = diff * diff
        if weight is not None:
            loss *= weight
        divisor = diff.size if weight is None else float(weight.sum(dtype=np.float64))
        self.diff, self.weight, self.reduction, self.divisor = diff, weight, reduction, divisor
        return reduce_loss(loss, reduction, divisor)

    def backward(self, g):
        grad = self.diff * (2 * upstream_scale(g, self.reduction, self.divisor))
        if self.weight is not None:
            grad *= self.weight
        return grad, (-grad if self.needs_input_grad[1] else None)


class AbsoluteError(Function):
    """ℓ = w |x - t|;  'mean' divides Σℓ by n (by Σw with weights).

    dℓ/dx = w sign(x - t) (0 where x = t),  dℓ/dt = -dℓ/dx.
    """

    def forward(self, x, t, weight=None, reduction="mean"):
        diff = x - t
        loss = np.abs(diff)
        if weight is not None:
            loss *= weight
        divisor = diff.size if weight is None else float(weight.sum(dtype=np.float64))
        self.sign, self.weight, self.reduction, self.divisor = (
            np.sign(diff), weight, reduction, divisor)
        return reduce_loss(loss, reduction, divisor)

    def backward(self, g):
        grad = self.sign * upstream_scale(g, self.reduction, self.divisor)
        if self.weight is not None:
            grad *= self.weight
        return grad, (-grad if self.needs_input_grad[1] else None)


class BinaryCrossEntropy(Function):
    """ℓ = -w [t log x + (1 - t) log(1 - x)], each log clamped at -100 (PyTorch's rule).

    'mean' divides by n (weights or not). dℓ/dx = w (x - t) / max(x (1 - x), 1e-12);
    dℓ/dt = w (log(1 - x) - log x) with the same clamped logs.
    """

    def forward(self, x, t, weight=None, reduction="mean"):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = (t - 1) * log_1mx
        loss -= t * log_x
        if weight is not None:
            loss *= weight
        self.weight, self.reduction, self.divisor = weight, reduction, x.size
        if self.needs_input_grad[0]:
            self.x, self.t = x, t
        if self.needs_input_grad[1]:
            self.log_ratio = log_1mx - log_x
        return reduce_loss(loss, reduction, x.size)

    def backward(self, g):
        scale = upstream_scale(g, self.reduction, self.divisor)
        if self.weight is not None:
            scale = scale * self.weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            x = self.x
            grad_x = (x - self.t) / np.maximum(x * (1 - x), 1e-12) * scale
        if self.needs_input_grad[1]:
            grad_t = self.log_ratio * scale
        return grad_x, grad_t


class BinaryCrossEntropyWithLogits(Function):
    """BCE on logits x, without overflow (p = pos_weight, l = 1 + (p - 1) t):

    ℓ = w [(1 - t) x + l · softplus(-x)],  softplus(-x) = max(-x, 0) + log(1 + e^(-|x|));
    without pos_weight this is ℓ = w [max(x, 0) - x t + log(1 + e^(-|x|))].
    'mean' divides by n.  dℓ/dx = w (l σ(x) - p t)  (= w (σ(x) - t) without pos_weight);
    dℓ/dt = w ((p - 1) softplus(-x) - x).
    """

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        softplus_neg = np.maximum(-x, 0)
        softplus_neg += np.log1p(np.exp(-np.abs(x)))
        if pos_weight is None:
            loss = (1 - t) * x
            loss += softplus_neg
        else:
            loss = (1 - t) * x
            loss += (1 + (pos_weight - 1) * t) * softplus_neg
        if weight is not None:
            loss *= weight
        self.weight, self.pos_weight = weight, pos_weight
        self.reduction, self.divisor = reduction, x.size
        if self.needs_input_grad[0]:
            self.t, self.sigmoid = t, expit(x)
        if self.needs_input_grad[1]:
            self.x, self.softplus_neg = x, softplus_neg
        return reduce_loss(loss, reduction, x.size)

    def backward(self, g):
        scale = upstream_scale(g, self.reduction, self.divisor)
        if self.weight is not None:
            scale = scale * self.weight
        p = self.pos_weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            t, s = self.t, self.sigmoid
            if p is None:
                grad_x = (s - t) * scale
            else:
                grad_x = ((1 + (p - 1) * t) * s - p * t) * scale
        if self.needs_input_grad[1]:
            grad_t = -self.x if p is None else (p - 1) * self.softplus_neg - self.x
            grad_t = grad_t * scale
        return grad_x, grad_t


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: reduce((input - target)²), optionally weighted elementwise."""
    check_reduction("mse_loss", reduction, size_average, reduce)
    target = target_like("mse_loss", input, target)
    weight = weight_of_input_shape("mse_loss", weight, input)
    return MeanSquaredError.apply(input, target, weight=weight, reduction=reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: reduce(|input - target|), optionally weighted elementwise."""
    check_reduction("l1_loss", reduction, size_average, reduce)
    target = target_like("l1_loss", input, target)
    weight = weight_of_input_shape("l1_loss", weight, input)
    return AbsoluteError.apply(input, target, weight=weight, reduction=reduction)


def _broadcast_weight(name, what, weight, input):
    if weight is None:
        return None
    try:
        np.broadcast_shapes(weight.shape, input.data.shape)
    except ValueError:
        raise RuntimeError(f"{name}: {what} of shape {tuple(weight.shape)} does not "
                           f"broadcast to the input shape {tuple(input.shape)}") from None
    if len(weight.shape) > input.data.ndim or any(
            w not in (1, n) for w, n in zip(weight.shape[::-1], input.data.shape[::-1])):
        raise RuntimeError(f"{name}: {what} of shape {tuple(weight.shape)} would enlarge "
                           f"the input shape {tuple(input.shape)}")
    return weight


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-[t log p + (1 - t) log(1 - p)] for probabilities p = input in [0, 1]."""
    name = "binary_cross_entropy"
    check_reduction(name, reduction, size_average, reduce)
    target = target_like(name, input, target)
    x = input.data
    if x.size and not (x.min() >= 0 and x.max() <= 1):
        raise RuntimeError(f"{name}: input values must be probabilities in [0, 1], got "
                           f"values in [{x.min():g}, {x.max():g}] (apply a sigmoid first, "
                           f"or use binary_cross_entropy_with_logits on raw scores)")
    t = target.data
    if t.size and not (t.min() >= 0 and t.max() <= 1):
        raise RuntimeError(f"{name}: target values must lie in [0, 1], got values in "
                           f"[{t.min():g}, {t.max():g}]")
    weight = _broadcast_weight(name, "weight", as_constant(weight, input, name, "weight"), input)
    return BinaryCrossEntropy.apply(input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy fused, stable for any logit (±1000 included)."""
    name = "binary_cross_entropy_with_logits"
    check_reduction(name, reduction, size_average, reduce)
    if isinstance(target, Tensor) and isinstance(input, Tensor) and \
            target.data.shape != input.data.shape:
        raise ValueError(f"{name}: target size {tuple(target.shape)} must be the same as "
                         f"input size {tuple(input.shape)}")
    target = target_like(name, input, target)
    weight = _broadcast_weight(name, "weight", as_constant(weight, input, name, "weight"), input)
    pos_weight = _broadcast_weight(name, "pos_weight",
                                   as_constant(pos_weight, input, name, "pos_weight"), input)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=weight,
                                              pos_weight=pos_weight, reduction=reduction)


KL_REDUCTIONS = ("none", "mean", "batchmean", "sum")


class KullbackLeiblerDivergence(Function):
    """Pointwise KL divergence with the input x given as log-probabilities (PyTorch's kl_div):

    ℓ = t (log t - x)           (0 where t = 0);   log_target: ℓ = eᵗ (t - x).
    Σℓ over a row is KL(target ‖ input) = Σ_k t_k log(t_k / q_k) with x = log q.
    Reductions: 'sum' Σℓ, 'mean' Σℓ / numel, 'batchmean' Σℓ / N (the true KL per
    sample), 'none' ℓ. dℓ/dx = -t (-eᵗ); dℓ/dt = log t + 1 - x (eᵗ (t - x + 1)).
    """

    def forward(self, x, t, reduction="mean", log_target=False):
        if log_target:
            p = np.exp(t)
            loss = p * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_t = np.where(t > 0, np.log(np.where(t > 0, t, 1)), 0)
            loss = np.where(t > 0, t * (log_t - x), 0).astype(x.dtype)
            p = t
        divisor = x.shape[0] if reduction == "batchmean" and x.ndim else x.size
        self.reduction = "mean" if reduction == "batchmean" else reduction
        self.divisor = divisor
        if self.needs_input_grad[0]:
            self.p = p
        if self.needs_input_grad[1]:
            self.grad_t = p * (t - x + 1) if log_target else (log_t + 1 - x)
        return reduce_loss(loss, self.reduction, divisor)

    def backward(self, g):
        scale = upstream_scale(g, self.reduction, self.divisor)
        grad_x = -self.p * scale if self.needs_input_grad[0] else None
        grad_t = self.grad_t * scale if self.needs_input_grad[1] else None
        return grad_x, grad_t


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target ‖ exp(input)) pointwise: input holds log-probabilities (after log_softmax),
    target probabilities (or log-probabilities with ``log_target=True``).

    reduction: 'mean' (PyTorch's default: divides by the number of elements, not the
    batch size), 'batchmean' (the mathematical KL averaged over the batch), 'sum', 'none'.
    """
    name = "kl_div"
    if size_average is not None or reduce is not None:
        check_reduction(name, "mean", size_average, reduce)
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction (expected "
                         f"one of {', '.join(KL_REDUCTIONS)})")
    target = target_like(name, input, target)
    return KullbackLeiblerDivergence.apply(input, target, reduction=reduction,
                                           log_target=log_target)
