"""Adam and AdamW: per-coordinate steps from bias-corrected moment estimates."""
import numpy as np

from . import jit_updates
from .optimizer import (FLUSH_EVERY, Optimizer, check_hyperparameter, flush_near_subnormal,
                        params_with_grad, update_in_chunks)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam, PyTorch's update rule (with optional AMSGrad and decoupled weight decay).

    With g_t = ∇f(θ_{t-1}) (negated if ``maximize``), γ = ``lr``, (β₁, β₂) = ``betas``,
    λ = ``weight_decay``, ε = ``eps``::

        if decoupled_weight_decay:  θ_{t-1} ← θ_{t-1} (1 - γ λ)       (AdamW)
        else:                       g_t ← g_t + λ θ_{t-1}             (L2, Adam)
        m_t = β₁ m_{t-1} + (1 - β₁) g_t                               (m_0 = 0)
        v_t = β₂ v_{t-1} + (1 - β₂) g_t²                              (v_0 = 0)
        if amsgrad:  v̂_t = max(v̂_{t-1}, v_t)   else   v̂_t = v_t
        θ_t = θ_{t-1} - γ / (1 - β₁ᵗ) · m_t / (sqrt(v̂_t) / sqrt(1 - β₂ᵗ) + ε)

    (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization"; AMSGrad from
    Reddi, Kale & Kumar 2018, "On the Convergence of Adam and Beyond".)

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v),
    ``max_exp_avg_sq`` (v̂, if amsgrad) — PyTorch's names.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False, decoupled_weight_decay=False):
        check_hyperparameter(lr, "learning rate")
        check_hyperparameter(eps, "epsilon value")
        check_hyperparameter(betas[0], "beta parameter at index 0", high=1.0)
        check_hyperparameter(betas[1], "beta parameter at index 1", high=1.0)
        check_hyperparameter(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def update_group(self, group):
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group.get("decoupled_weight_decay", False)
        state = self.state
        for p, grad in params_with_grad(group):
            param_state = state[p]
            if not param_state:
                param_state["step"] = 0
                param_state["exp_avg"] = np.zeros_like(p.data)
                param_state["exp_avg_sq"] = np.zeros_like(p.data)
                if amsgrad:
                    param_state["max_exp_avg_sq"] = np.zeros_like(p.data)
            step = param_state["step"] = param_state["step"] + 1
            bias_correction1 = 1.0 - beta1 ** step
            bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
            exp_avg, exp_avg_sq = param_state["exp_avg"], param_state["exp_avg_sq"]
            max_exp_avg_sq = param_state.get("max_exp_avg_sq") if amsgrad else None
            if jit_updates.usable(p.data, grad, exp_avg, exp_avg_sq):
                jit_updates.run(
                    jit_updates.adam,
                    [p.data, grad, exp_avg, exp_avg_sq,
                     exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq],
                    [-1.0 if maximize else 1.0, 0.0 if decoupled else weight_decay,
                     1.0 - lr * weight_decay if decoupled else 1.0, 1.0 - beta1, beta2,
                     1.0 - beta2, eps, lr / bias_correction1, bias_correction2_sqrt],
                    [amsgrad])
            else:
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1.0 - lr * weight_decay
                    else:
                        decayed = p.data * weight_decay
                        decayed += grad
                        grad = decayed
                arrays = [p.data, grad, exp_avg, exp_avg_sq, self.scratch(p)]
                if amsgrad:
                    arrays.append(max_exp_avg_sq)
                update_in_chunks(adam_update, arrays, beta1=beta1, beta2=beta2, eps=eps,
                                 step_size=lr / bias_correction1,
                                 bias_correction2_sqrt=bias_correction2_sqrt)
            if step % FLUSH_EVERY == 0:
                flush_near_subnormal(exp_avg)
                flush_near_subnormal(exp_avg_sq)


def adam_update(param, grad, exp_avg, exp_avg_sq, scratch, max_exp_avg_sq=None, *, beta1,
                beta2, eps, step_size, bias_correction2_sqrt):
    """The Adam formulas on (a slice of) one parameter, in place, in 13 passes, no temporaries.

    The operations and their order are PyTorch's (lerp, then mul/addcmul, then
    addcdiv), so float32 results agree to the last bits.
    """
    np.subtract(grad, exp_avg, out=scratch)          # m += (1-β₁)(g - m)
    scratch *= 1.0 - beta1
    exp_avg += scratch
    exp_avg_sq *= beta2                              # v = β₂ v + (1-β₂) g²
    np.multiply(grad, grad, out=scratch)
    scratch *= 1.0 - beta2
    exp_avg_sq += scratch
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=scratch)
    else:
        np.sqrt(exp_avg_sq, out=scratch)             # denominator √v̂ / √(1-β₂ᵗ) + ε
    scratch /= bias_correction2_sqrt
    scratch += eps
    np.divide(exp_avg, scratch, out=scratch)         # θ -= lr/(1-β₁ᵗ) · m / denominator
    scratch *= step_size
    param -= scratch


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight
    Decay Regularization"), PyTorch's rule::

        θ_{t-1} ← θ_{t-1} (1 - γ λ)        (decay the weights, not the gradient)
        ...then the Adam update of ``Adam`` with no L2 term.

    The default ``weight_decay`` is 1e-2 (PyTorch's).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
