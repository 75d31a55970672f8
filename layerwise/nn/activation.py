"""Activation layers: each wraps the function of the same name in ``functional``.

``Softmax`` and ``LogSoftmax`` require ``dim`` (PyTorch's implicit choice of dim when
it is omitted is deprecated there and refused here). ``inplace`` arguments are
accepted for PyTorch compatibility; the result is always a new tensor.
"""
from . import functional as F
from .module import Module

__all__ = ["Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus",
           "Softmax", "LogSoftmax", "Hardtanh", "ReLU6"]


class Step(Module):
    """The perceptron's Heaviside step: 1 where x > 0, else 0 (0 at 0); zero gradient."""

    def forward(self, input):
        return F.step(input)


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ), computed without overflow."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)."""

    def forward(self, input):
        return F.tanh(input)


class ReLU(Module):
    """max(0, x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x if x > 0 else α(eˣ - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Φ(x), exact (``approximate='none'``) or with the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/β) log(1 + e^(βx)), linear where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


def _required_dim(name, dim):
    if dim is None:
        raise TypeError(f"{name}: dim is required (PyTorch's implicit choice of dim is "
                        f"deprecated); for logits of shape (N, C) use {name}(dim=1)")
    return dim


class Softmax(Module):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim``: turns scores into probabilities."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _required_dim("Softmax", dim)

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """xᵢ - log Σⱼ e^(xⱼ) along ``dim`` (pairs with ``NLLLoss``)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _required_dim("LogSoftmax", dim)

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} must not exceed max_val {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return ""
