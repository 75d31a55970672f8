"""Multi-class losses: negative log-likelihood and the fused softmax cross-entropy.

Input x has its classes along axis 1: (N, C), (N, C, d1, ...), or (C,) for one
sample. A class-index target has the input's shape without that axis: (N,),
(N, d1, ...), or (). With class weights w and ignore_index, PyTorch's rules are:

    ℓᵢ = w_{tᵢ} · (loss of sample i), and 0 where tᵢ = ignore_index;
    'mean' = Σᵢ ℓᵢ / Σᵢ w_{tᵢ} over the non-ignored samples (a weighted mean).

``cross_entropy`` also takes class probabilities: a float target shaped like the input.
"""
import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .activation import exp_shift, sum_keepdims
from .loss_reduction import as_constant, check_reduction, reduce_loss, upstream_scale

__all__ = ["nll_loss", "cross_entropy"]


def _class_axis(x):
    return 0 if x.ndim == 1 else 1


def _log_softmax_parts(x, axis):
    """shifted = x - max x (so no exponential overflows), e^shifted, Σ e^shifted (keepdims)."""
    shifted = x - exp_shift(x, axis)
    exp = np.exp(shifted)
    return shifted, exp, sum_keepdims(exp, axis)


def _scale_along_classes(g, reduction, divisor, axis):
    """dL/dℓᵢ, shaped to broadcast against the input (class axis restored)."""
    scale = upstream_scale(g, reduction, divisor)
    return np.expand_dims(scale, axis) if reduction == "none" else scale


def _class_weight_along(weight, x, axis):
    """Class weights (C,) reshaped to broadcast along ``axis`` of ``x``."""
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return weight.reshape(shape)


class NegativeLogLikelihood(Function):
    """ℓᵢ = -w_{tᵢ} x_{i,tᵢ} for log-probabilities x;  dℓᵢ/dx_{i,j} = -w_{tᵢ} [j = tᵢ];

    'mean' divides Σℓ by Σ w_{tᵢ} over the non-ignored samples.
    """

    def forward(self, x, index=None, sample_weight=None, reduction="mean", divisor=1):
        axis = _class_axis(x)
        picked = np.take_along_axis(x, index, axis=axis).squeeze(axis)
        loss = -picked if sample_weight is None else -picked * sample_weight
        self.shape, self.index, self.sample_weight = x.shape, index, sample_weight
        self.reduction, self.divisor, self.axis = reduction, divisor, axis
        return reduce_loss(loss, reduction, divisor)

    def backward(self, g):
        scale = _scale_along_classes(g, self.reduction, self.divisor, self.axis)
        value = -scale if self.sample_weight is None else \
            -scale * np.expand_dims(self.sample_weight, self.axis)
        grad = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(grad, self.index, np.broadcast_to(value, self.index.shape),
                          axis=self.axis)
        return grad


class SoftmaxCrossEntropy(Function):
    """Fused softmax and negative log-likelihood for class-index targets.

    With p = softmax(x) over the classes, ε = label_smoothing, C classes and class
    weights w (all 1 when not given), for a non-ignored sample i with target t:

        ℓᵢ = (1 - ε) w_t (-log p_t) + (ε/C) Σ_c w_c (-log p_c),   -log p_c = log Σ e^x - x_c
        dℓᵢ/dx_j = p_j ((1 - ε) w_t + (ε/C) Σ_c w_c) - (1 - ε) w_t [j = t] - (ε/C) w_j

    which is the familiar p - onehot(t) without weights or smoothing. Ignored samples
    contribute nothing; 'mean' divides by Σ w_t over non-ignored samples.
    """

    def forward(self, x, index=None, sample_weight=None, valid=None, class_weight=None,
                label_smoothing=0.0, reduction="mean", divisor=1):
        axis = _class_axis(x)
        shifted, exp, sum_exp = _log_softmax_parts(x, axis)
        log_sum = np.log(sum_exp)
        nll = (log_sum - np.take_along_axis(shifted, index, axis=axis)).squeeze(axis)
        loss = nll if sample_weight is None else nll * sample_weight
        eps = label_smoothing
        if eps:
            if class_weight is None:
                smooth = x.shape[axis] * log_sum - shifted.sum(axis=axis, keepdims=True)
            else:
                w = _class_weight_along(class_weight, x, axis)
                smooth = float(class_weight.sum()) * log_sum - (shifted * w).sum(
                    axis=axis, keepdims=True)
            smooth = smooth.squeeze(axis)
            if valid is not None:
                smooth *= valid
            loss = (1 - eps) * loss + (eps / x.shape[axis]) * smooth
        exp /= sum_exp
        self.softmax, self.index, self.axis = exp, index, axis
        self.sample_weight, self.valid, self.class_weight = sample_weight, valid, class_weight
        self.eps, self.reduction, self.divisor = eps, reduction, divisor
        return reduce_loss(loss, reduction, divisor)

    def backward(self, g):
        axis, eps, p = self.axis, self.eps, self.softmax
        scale = _scale_along_classes(g, self.reduction, self.divisor, axis)
        at_target = scale if self.sample_weight is None else \
            scale * np.expand_dims(self.sample_weight, axis)
        if not eps:
            grad = p * at_target
        else:
            classes = p.shape[axis]
            valid = 1 if self.valid is None else np.expand_dims(self.valid, axis)
            w = self.class_weight
            total_weight = classes if w is None else float(w.sum())
            at_target = (1 - eps) * at_target
            grad = p * (at_target + (eps / classes) * total_weight * (scale * valid))
            spread = (eps / classes) * (scale * valid)
            grad -= spread if w is None else spread * _class_weight_along(w, p, axis)
        current = np.take_along_axis(grad, self.index, axis=axis)
        np.put_along_axis(grad, self.index, current - at_target, axis=axis)
        return grad


class SoftmaxCrossEntropyWithProbabilities(Function):
    """Cross-entropy against class probabilities t (a float target shaped like x).

    q = (1 - ε) t + ε/C,  ℓᵢ = -Σ_c w_c q_c log p_c;  'mean' divides by the number of
    samples (input size / C), weights or not, as PyTorch.
    dℓ/dx_j = p_j Σ_c w_c q_c - w_j q_j;   dℓ/dt_c = -(1 - ε) w_c log p_c.
    """

    def forward(self, x, t, class_weight=None, label_smoothing=0.0, reduction="mean"):
        axis = _class_axis(x)
        classes = x.shape[axis]
        shifted, exp, sum_exp = _log_softmax_parts(x, axis)
        log_p = shifted - np.log(sum_exp)
        q = t if not label_smoothing else (1 - label_smoothing) * t + label_smoothing / classes
        w = None if class_weight is None else _class_weight_along(class_weight, x, axis)
        weighted_q = q if w is None else q * w
        loss = -(weighted_q * log_p).sum(axis=axis)
        divisor = x.size // classes if x.size else 0
        self.axis, self.reduction, self.divisor = axis, reduction, divisor
        if self.needs_input_grad[0]:
            exp /= sum_exp
            self.softmax, self.weighted_q = exp, weighted_q
        if self.needs_input_grad[1]:
            self.target_grad = -(1 - label_smoothing) * (log_p if w is None else log_p * w)
        return reduce_loss(loss, reduction, divisor)

    def backward(self, g):
        scale = _scale_along_classes(g, self.reduction, self.divisor, self.axis)
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            wq = self.weighted_q
            grad_x = (self.softmax * sum_keepdims(wq, self.axis) - wq) * scale
        if self.needs_input_grad[1]:
            grad_t = self.target_grad * scale
        return grad_x, grad_t


def _class_index_target(name, input, target, weight, ignore_index):
    """Check a class-index target; returns what the Functions need.

    (index expanded along the class axis with ignored entries set to 0,
     per-sample weight w_t (0 where ignored) or None, valid mask or None, divisor).
    """
    x, t = input.data, target.data
    axis = _class_axis(x)
    classes = x.shape[axis]
    expected = () if x.ndim == 1 else x.shape[:1] + x.shape[2:]
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: target of dtype {t.dtype} and shape {tuple(t.shape)} fits neither "
            f"form: class indices must be an integer tensor of shape {expected}, class "
            f"probabilities a float tensor of the input's shape {tuple(x.shape)}")
    if t.shape != expected:
        raise RuntimeError(f"{name}: expected target of shape {expected} for input of shape "
                           f"{tuple(x.shape)}, got {tuple(t.shape)}")
    valid = t != ignore_index
    all_valid = bool(valid.all())
    out_of_range = (t < 0) | (t >= classes)
    if not all_valid:
        out_of_range &= valid
    if out_of_range.any():
        bad = t[out_of_range].flat[0]
        raise IndexError(f"{name}: target {bad} is out of bounds for {classes} classes")
    index = t if all_valid else np.where(valid, t, 0)
    index = np.expand_dims(index.astype(np.intp, copy=False), axis)
    if weight is None:
        if all_valid:
            return index, None, None, t.size
        sample_weight = valid.astype(x.dtype)
        return index, sample_weight, sample_weight, int(valid.sum())
    sample_weight = np.asarray(np.take(weight, index.squeeze(axis)))
    valid_weight = None
    if not all_valid:
        valid_weight = valid.astype(x.dtype)
        sample_weight *= valid_weight
    return index, sample_weight, valid_weight, float(sample_weight.sum(dtype=np.float64))


def _check_input(name, input, weight):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    x = input.data
    if x.ndim == 0:
        raise RuntimeError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                           f"(N, C, d1, ...), got a 0-d tensor")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be a floating-point tensor, got dtype "
                           f"{x.dtype}")
    weight = as_constant(weight, input, name, "weight")
    classes = x.shape[_class_axis(x)]
    if weight is not None and weight.shape != (classes,):
        raise RuntimeError(f"{name}: weight must have shape ({classes},) (one per class), "
                           f"got {tuple(weight.shape)}")
    return weight


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[i, target[i]] weighted and reduced; ``input`` holds log-probabilities."""
    check_reduction("nll_loss", reduction, size_average, reduce)
    weight = _check_input("nll_loss", input, weight)
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    index, sample_weight, _, divisor = _class_index_target(
        "nll_loss", input, target, weight, ignore_index)
    return NegativeLogLikelihood.apply(input, index=index, sample_weight=sample_weight,
                                       reduction=reduction, divisor=divisor)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (classes on axis 1) against ``target``.

    ``target`` holds class indices (integers, the input's shape without the class
    axis) or class probabilities (floats, the input's shape). One fused op: the
    gradient is (softmax - smoothed one-hot) times the weights, over the divisor.
    """
    name = "cross_entropy"
    check_reduction(name, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = _check_input(name, input, weight)
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if target.data.dtype.kind == "f" and target.data.shape == input.data.shape:
        if target.data.dtype != input.data.dtype:
            target = target.to(input.data.dtype)
        return SoftmaxCrossEntropyWithProbabilities.apply(
            input, target, class_weight=weight, label_smoothing=float(label_smoothing),
            reduction=reduction)
    index, sample_weight, valid, divisor = _class_index_target(
        name, input, target, weight, ignore_index)
    return SoftmaxCrossEntropy.apply(
        input, index=index, sample_weight=sample_weight, valid=valid, class_weight=weight,
        label_smoothing=float(label_smoothing), reduction=reduction, divisor=divisor)
