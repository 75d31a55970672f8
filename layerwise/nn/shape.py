"""Reshaping layers: ``Flatten`` (e.g. between convolutions and dense layers), ``Unflatten``."""
from ..autograd.ops import reshape
from ..autograd.ops.shape import Reshape
from .module import Module

__all__ = ["Flatten", "Unflatten"]


def _axis(name, dim, ndim, shape):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for an input of shape "
                         f"{tuple(shape)}")
    return dim % max(ndim, 1)


class Flatten(Module):
    """Merges dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        shape = input.data.shape
        if self.start_dim == 1 and self.end_dim == -1 and len(shape) > 1 and shape[0]:
            return Reshape.apply(input, shape=(shape[0], input.data.size // shape[0]))
        if not shape:
            return reshape(input, (1,))
        start = _axis("Flatten", self.start_dim, len(shape), shape)
        end = _axis("Flatten", self.end_dim, len(shape), shape)
        if start > end:
            raise RuntimeError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                               f"{self.end_dim} for an input of shape {tuple(shape)}")
        merged = 1
        for n in shape[start:end + 1]:
            merged *= n
        return reshape(input, shape[:start] + (merged,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(n) for n in unflattened_size)

    def forward(self, input):
        shape = input.data.shape
        dim = _axis("Unflatten", self.dim, len(shape), shape)
        sizes = self.unflattened_size
        known = 1
        for n in sizes:
            known *= n if n != -1 else 1
        size = shape[dim]
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != size) or \
                (sizes.count(-1) == 1 and (known == 0 or size % known)):
            raise RuntimeError(f"Unflatten: cannot split dimension {self.dim} of size {size} "
                               f"(input shape {tuple(shape)}) into {sizes}")
        sizes = tuple(size // known if n == -1 else n for n in sizes)
        return reshape(input, shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
