"""Dense layers: ``Linear`` (y = x Wᵀ + b) and ``Identity``."""
import numpy as np

from .functional.linear import Linear as LinearFunction
from .functional.linear import check_linear_arguments
from .init import default_layer_init_
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity"]


class Linear(Module):
    """A fully connected layer: y = x Wᵀ + b.

    weight: (out_features, in_features), bias: (out_features,), both drawn from
    U(-1/√in_features, 1/√in_features) as in PyTorch. Input (*, in_features),
    output (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        parameters = self._parameters       # one lookup, not four through __getattr__
        weight, bias = parameters["weight"], parameters["bias"]
        check_linear_arguments(input, weight, bias, layer="Linear")
        return LinearFunction.apply(input, weight, bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer); ignores arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
