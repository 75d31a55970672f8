"""Tensors with reverse-mode automatic differentiation."""
from .function import Function  # noqa: F401
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401
from .tensor import Size, Tensor  # noqa: F401
