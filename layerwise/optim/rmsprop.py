"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from . import jit_updates
from .optimizer import (FLUSH_EVERY, Optimizer, check_hyperparameter, effective_gradient,
                        flush_near_subnormal, params_with_grad)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule.

    With g_t = ∇f(θ_{t-1}) (negated if ``maximize``), α = ``alpha``, γ = ``lr``,
    λ = ``weight_decay``, μ = ``momentum``, ε = ``eps``::

        g_t ← g_t + λ θ_{t-1}
        v_t = α v_{t-1} + (1 - α) g_t²                       (v_0 = 0)
        if centered:                 (subtract the squared mean: a variance estimate)
            ḡ_t = α ḡ_{t-1} + (1 - α) g_t                   (ḡ_0 = 0)
            s_t = sqrt(v_t - ḡ_t²) + ε
        else:
            s_t = sqrt(v_t) + ε
        if μ > 0:
            b_t = μ b_{t-1} + g_t / s_t                      (b_0 = 0)
            θ_t = θ_{t-1} - γ b_t
        else:
            θ_t = θ_{t-1} - γ g_t / s_t

    Note that ε is added outside the square root (as PyTorch does).
    (Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture
    6e, 2012; the centered version from Graves 2013, "Generating Sequences With
    Recurrent Neural Networks".)

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, if
    μ > 0), ``grad_avg`` (ḡ, if centered) — PyTorch's names.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        check_hyperparameter(lr, "learning rate")
        check_hyperparameter(eps, "epsilon value")
        check_hyperparameter(momentum, "momentum value")
        check_hyperparameter(weight_decay, "weight_decay value")
        check_hyperparameter(alpha, "alpha value")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def update_group(self, group):
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        state = self.state
        for p, grad in params_with_grad(group):
            param_state = state[p]
            if not param_state:
                param_state["step"] = 0
                param_state["square_avg"] = np.zeros_like(p.data)
                if momentum > 0:
                    param_state["momentum_buffer"] = np.zeros_like(p.data)
                if centered:
                    param_state["grad_avg"] = np.zeros_like(p.data)
            param_state["step"] += 1
            square_avg = param_state["square_avg"]
            if param_state["step"] % FLUSH_EVERY == 0:     # decaying buffers: see Adam
                for key in ("square_avg", "grad_avg", "momentum_buffer"):
                    if key in param_state:
                        flush_near_subnormal(param_state[key])
            if jit_updates.usable(p.data, grad):
                placeholder = square_avg   # for the buffers this configuration lacks
                jit_updates.run(
                    jit_updates.rmsprop,
                    [p.data, grad, square_avg, param_state.get("grad_avg", placeholder),
                     param_state.get("momentum_buffer", placeholder)],
                    [-1.0 if maximize else 1.0, weight_decay, alpha, 1.0 - alpha, eps,
                     momentum, lr],
                    [centered, momentum > 0])
                continue
            grad = effective_gradient(p, grad, maximize, weight_decay)
            square_avg *= alpha
            square_avg += (grad * grad) * (1.0 - alpha)
            if centered:
                grad_avg = param_state["grad_avg"]
                grad_avg += (grad - grad_avg) * (1.0 - alpha)  # lerp, as PyTorch
                denominator = grad_avg * grad_avg
                np.subtract(square_avg, denominator, out=denominator)
                np.sqrt(denominator, out=denominator)
            else:
                denominator = np.sqrt(square_avg)
            denominator += eps
            if momentum > 0:
                buf = param_state["momentum_buffer"]
                buf *= momentum
                np.divide(grad, denominator, out=denominator)
                buf += denominator
                p.data -= buf * lr
            else:
                np.divide(grad, denominator, out=denominator)
                denominator *= lr
                p.data -= denominator
