"""Parameter regularization: penalties added to the loss (the course's L1, L2, elastic net).

Each penalty is built from differentiable tensor ops, so ``loss + penalty``
backpropagates into the parameters::

    loss = criterion(model(x), y) + nn.l2_penalty(nn.decay_parameters(model), 1e-4)

Scaling (no ½): ``l2_penalty(params, λ) = λ·Σw²``, whose gradient is ``2λ·w``.
The optimizers' ``weight_decay=λ`` adds ``λ·w`` to the gradient, i.e. the gradient
of ``(λ/2)·Σw²``: so ``SGD(weight_decay=λ)`` equals plain SGD on
``loss + l2_penalty(params, λ / 2)``. (For Adam the two differ: its L2 term is
rescaled by the adaptive denominator; AdamW's decoupled decay is neither.)
"""
import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty", "elastic_net_penalty", "decay_parameters",
           "weight_decay_groups"]


def _parameter_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    if hasattr(parameters, "named_parameters") and callable(parameters.parameters):
        return list(parameters.parameters())          # a Module: all its parameters
    return list(parameters)


def _total(terms, parameters):
    total = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:
        dtype = parameters[0].dtype if parameters else np.float32
        return Tensor(np.zeros((), dtype=dtype))
    return total


def l1_penalty(parameters, weight):
    r"""``weight · Σ_w |w|`` (lasso): pushes weights to exactly zero (sparse models).

    Its (sub)gradient is ``weight · sign(w)`` (0 at w = 0, as PyTorch's ``abs``).
    ``parameters``: a tensor, an iterable of tensors, or a module (all its parameters).
    """
    parameters = _parameter_list(parameters)
    return _total((p.abs().sum() for p in parameters), parameters) * weight


def l2_penalty(parameters, weight):
    r"""``weight · Σ_w w²`` (ridge, weight decay), not ½-scaled: gradient ``2·weight·w``.

    ``SGD(weight_decay=λ)`` is plain SGD on ``loss + l2_penalty(params, λ / 2)``.
    ``parameters``: a tensor, an iterable of tensors, or a module (all its parameters).
    """
    parameters = _parameter_list(parameters)
    return _total(((p * p).sum() for p in parameters), parameters) * weight


def elastic_net_penalty(parameters, l1_weight, l2_weight):
    r"""``l1_weight · Σ|w| + l2_weight · Σw²`` (Zou & Hastie 2005, "Regularization and
    variable selection via the elastic net")."""
    parameters = _parameter_list(parameters)
    return l1_penalty(parameters, l1_weight) + l2_penalty(parameters, l2_weight)


def _is_normalization(module):
    return "Norm" in type(module).__name__      # BatchNorm1d/2d, LayerNorm, GroupNorm...


def _split_by_decay(module):
    decay, no_decay, seen = [], [], set()
    for _, child in module.named_modules():
        normalization = _is_normalization(child)
        for name, p in child.named_parameters(recurse=False):
            if id(p) in seen:            # a shared (tied) parameter is listed once
                continue
            seen.add(id(p))
            skip = normalization or name == "bias" or name.endswith("_bias")
            (no_decay if skip else decay).append(p)
    return decay, no_decay


def decay_parameters(module):
    """The parameters that usually get a penalty: weights, not biases nor norm layers' params.

    Excluded: parameters named ``bias`` (or ``*_bias``), and every parameter of a
    module whose class name contains ``Norm`` (batch/layer/group norm scales and
    shifts), whose decay would only fight the normalization.
    """
    return _split_by_decay(module)[0]


def weight_decay_groups(module, weight_decay):
    """Two param groups for an optimizer: ``decay_parameters`` with ``weight_decay``, the
    rest with 0::

        optim.AdamW(nn.weight_decay_groups(model, 0.05), lr=1e-3)
    """
    decay, no_decay = _split_by_decay(module)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]
