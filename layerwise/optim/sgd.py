"""Stochastic gradient descent, with momentum in PyTorch's form or the course's EMA form."""
import numpy as np

from . import jit_updates
from .optimizer import (FLUSH_EVERY, Optimizer, check_hyperparameter, effective_gradient,
                        flush_near_subnormal, params_with_grad)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), PyTorch's update rule.

    With g_t = ∇f(θ_{t-1}) (negated if ``maximize``) and λ = ``weight_decay``,
    μ = ``momentum``, τ = ``dampening``, γ = ``lr``::

        g_t ← g_t + λ θ_{t-1}
        if μ ≠ 0:
            b_t = g_t                              (t = 1: the first step, no dampening)
            b_t = μ b_{t-1} + (1 - τ) g_t          (t > 1)
            g_t ← g_t + μ b_t   if nesterov   else   g_t ← b_t
        θ_t = θ_{t-1} - γ g_t

    (Polyak 1964, "Some methods of speeding up the convergence of iteration
    methods"; Nesterov momentum as in Sutskever et al. 2013, "On the importance of
    initialization and momentum in deep learning".)

    **The course's exponential-average momentum** (``ema=True``, layerwise only)::

        v_t = γ_m v_{t-1} + (1 - γ_m) dW_t,   v_0 = 0        (γ_m = ``momentum``)
        W_t = W_{t-1} - α v_t                                (α = ``lr``)

    How it relates to PyTorch's form (v = μ v + (1 - dampening) g, W -= lr v):

    - with dampening = μ = γ_m the recursion is the same EMA, except at the first
      step, where PyTorch sets v = g while the EMA starts from v = 0 and gives
      (1 - γ_m) g: PyTorch's first step is 1 / (1 - γ_m) times larger, and the
      trajectories differ from then on;
    - the EMA form with lr α equals PyTorch's undamped form (dampening = 0) with
      lr α (1 - γ_m) at every step: the EMA buffer is (1 - γ_m) times the undamped
      one, and here even the first step agrees, since PyTorch's v = g is also
      μ·0 + g.

    So the EMA form is a rescaled learning rate: v averages the gradients instead
    of summing them (tests/optim/test_sgd.py checks both statements numerically).
    ``ema=True`` implies dampening = momentum; it cannot be combined with
    ``dampening`` or ``nesterov``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ for momentum (default 0).
        weight_decay: L2 penalty λ (default 0): adds λθ to the gradient, which is the
            gradient of (λ/2)·Σθ², i.e. ``nn.l2_penalty(params, λ / 2)``.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: maximize the objective instead of minimizing.
        ema: use the course's exponential-average momentum form (see above).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, maximize=False, ema=False):
        check_hyperparameter(lr, "learning rate")
        check_hyperparameter(momentum, "momentum value")
        check_hyperparameter(weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if ema:
            if momentum <= 0 or momentum >= 1:
                raise ValueError(f"ema=True needs 0 < momentum < 1, got momentum={momentum}")
            if dampening != 0 or nesterov:
                raise ValueError("ema=True sets dampening = momentum itself; it cannot be "
                                 "combined with dampening or nesterov")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        ema=ema)
        super().__init__(params, defaults)

    def update_group(self, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        ema = group.get("ema", False)
        state = self.state
        flush = self._count_update(group) % FLUSH_EVERY == 0 and momentum != 0
        for p, grad in params_with_grad(group):
            if flush and "momentum_buffer" in state.get(p, {}):
                flush_near_subnormal(state[p]["momentum_buffer"])
            if jit_updates.usable(p.data, grad):
                self._fused_update(p, grad, lr, momentum, dampening, weight_decay, nesterov,
                                   maximize, ema)
                continue
            grad = effective_gradient(p, grad, maximize, weight_decay)
            if momentum != 0:
                param_state = state[p]
                buf = param_state.get("momentum_buffer")
                if ema:
                    if buf is None:
                        buf = param_state["momentum_buffer"] = np.zeros_like(p.data)
                    buf *= momentum
                    buf += grad * (1.0 - momentum)
                elif buf is None:
                    buf = param_state["momentum_buffer"] = np.array(grad, dtype=p.data.dtype)
                else:
                    buf *= momentum
                    buf += grad if dampening == 0 else grad * (1.0 - dampening)
                if nesterov:
                    ahead = buf * momentum
                    ahead += grad
                    grad = ahead
                else:
                    grad = buf
            p.data -= grad * lr

    def _fused_update(self, p, grad, lr, momentum, dampening, weight_decay, nesterov,
                      maximize, ema):
        """The same update in one compiled pass (``jit_updates.sgd``)."""
        buf, grad_scale = p.data, 1.0          # buf is a placeholder without momentum
        if momentum != 0:
            param_state = self.state[p]
            buf = param_state.get("momentum_buffer")
            if buf is None:                    # first step: b = g (PyTorch), EMA: b = (1-μ)g
                buf = param_state["momentum_buffer"] = np.zeros_like(p.data)
                grad_scale = 1.0 - momentum if ema else 1.0
            else:
                grad_scale = 1.0 - (momentum if ema else dampening)
        jit_updates.run(jit_updates.sgd, [p.data, grad, buf],
                        [-1.0 if maximize else 1.0, weight_decay, momentum, grad_scale, lr],
                        [momentum != 0, nesterov])
