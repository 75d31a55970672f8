"""Adagrad: per-coordinate learning rates shrinking with the sum of squared gradients."""
import numpy as np

from . import jit_updates
from .optimizer import Optimizer, check_hyperparameter, effective_gradient, params_with_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's update rule.

    With g_t = ∇f(θ_{t-1}) (negated if ``maximize``), γ = ``lr``, η = ``lr_decay``,
    λ = ``weight_decay``, τ = ``initial_accumulator_value``, ε = ``eps``::

        γ̃_t = γ / (1 + (t - 1) η)
        g_t ← g_t + λ θ_{t-1}
        G_t = G_{t-1} + g_t²                                   (G_0 = τ)
        θ_t = θ_{t-1} - γ̃_t g_t / (sqrt(G_t) + ε)

    (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization".)

    State per parameter (created at construction, as PyTorch does): ``step`` (int)
    and ``sum`` (G) — PyTorch's names.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, maximize=False):
        check_hyperparameter(lr, "learning rate")
        check_hyperparameter(lr_decay, "lr_decay value")
        check_hyperparameter(weight_decay, "weight_decay value")
        check_hyperparameter(initial_accumulator_value, "initial_accumulator_value value")
        check_hyperparameter(eps, "epsilon value")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        param_state = self.state[p]
        param_state["step"] = 0
        param_state["sum"] = np.full_like(p.data, float(group["initial_accumulator_value"]))
        return param_state

    def update_group(self, group):
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        state = self.state
        for p, grad in params_with_grad(group):
            param_state = state[p] or self._init_state(p, group)
            step = param_state["step"] = param_state["step"] + 1
            decayed_lr = lr / (1 + (step - 1) * lr_decay)
            state_sum = param_state["sum"]
            if jit_updates.usable(p.data, grad, state_sum):
                jit_updates.run(jit_updates.adagrad, [p.data, grad, state_sum],
                                [-1.0 if maximize else 1.0, weight_decay, eps, decayed_lr])
                continue
            grad = effective_gradient(p, grad, maximize, weight_decay)
            state_sum += grad * grad
            denominator = np.sqrt(state_sum)
            denominator += eps
            np.divide(grad, denominator, out=denominator)
            denominator *= decayed_lr
            p.data -= denominator
