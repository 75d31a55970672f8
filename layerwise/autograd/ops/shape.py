"""Shape operations: reshape, permute, index, concatenate, stack, expand, repeat, flip, pad.

None of them changes a value; backward moves each gradient back to where its value
came from (the inverse reshape or permutation, a scatter for indexing, a split for
concatenation, a sum for expansion).
"""
import math

import numpy as np

from ...backend.broadcast import normalize_dims, unbroadcast
from ..function import Function
from ..tensor import Tensor


class Reshape(Function):
    """y = x viewed with a new shape;  dL/dx = dL/dy viewed with x's shape."""

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Permute(Function):
    """y = x with axes reordered;  backward applies the inverse order."""

    def forward(self, x, dims=()):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class GetItem(Function):
    """y = x[index];  dL/dx is zero except at the selected places (summed where repeated)."""

    def forward(self, x, index=None):
        self.index, self.shape = index, x.shape
        return x[index]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            grad[self.index] = g
        else:
            np.add.at(grad, self.index, g)
        return grad


class Cat(Function):
    """y = [x₁, x₂, ...] joined along ``dim``;  backward splits the gradient back."""

    def forward(self, *xs, dim=0):
        self.dim = dim
        self.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return np.concatenate(xs, axis=dim)

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.dim))


class Stack(Function):
    """y = [x₁, x₂, ...] stacked along a new axis ``dim``;  backward unstacks."""

    def forward(self, *xs, dim=0):
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, g):
        return tuple(np.moveaxis(g, self.dim, 0))


class Expand(Function):
    """y = x broadcast to a larger shape;  dL/dx sums over the broadcast axes."""

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)


class Repeat(Function):
    """y = x tiled ``reps`` times per axis;  dL/dx sums the gradient of every copy."""

    def forward(self, x, reps=()):
        self.in_shape = x.shape
        return np.tile(x, reps)

    def backward(self, g):
        shape = self.in_shape
        lead = g.ndim - len(shape)
        g = g.sum(axis=tuple(range(lead))) if lead else g
        split = []
        for reps_i, n in zip(np.divide(g.shape, shape).astype(int), shape):
            split += [reps_i, n]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(shape), 2)))


class Flip(Function):
    """y = x reversed along ``dims``;  backward reverses the gradient the same way."""

    def forward(self, x, dims=()):
        self.dims = dims
        return np.flip(x, dims)

    def backward(self, g):
        return np.flip(g, self.dims)


class Pad(Function):
    """y = x with constant borders ``widths`` ((before, after) per axis);  backward crops."""

    def forward(self, x, widths=(), value=0.0):
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    def backward(self, g):
        return g[self.crop]


class Clone(Function):
    """y = a copy of x;  dL/dx = dL/dy."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


class Cast(Function):
    """y = x converted to another dtype;  the gradient is converted back."""

    def forward(self, x, dtype=None):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


def _is_basic(index):
    """True for indices made only of ints, slices, None and Ellipsis (no repeats possible)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) or
               (isinstance(i, np.ndarray) and i.dtype == bool) for i in items)


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def reshape(x, shape):
    shape = tuple(int(s) for s in shape)
    size = x.data.size
    if shape == x.data.shape:
        return Reshape.apply(x, shape=shape)
    if -1 in shape and shape.count(-1) == 1:
        known = math.prod(s for s in shape if s != -1)
        if known and size % known == 0:
            shape = tuple(size // known if s == -1 else s for s in shape)
    if -1 in shape or math.prod(shape) != size:
        raise RuntimeError(f"shape {list(shape)} is invalid for input of size {size} "
                           f"(shape {tuple(x.shape)})")
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    shape = x.data.shape
    if not shape:
        return reshape(x, (1,))
    start, end = start_dim % len(shape), end_dim % len(shape)
    new = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return Reshape.apply(x, shape=new)


def permute(x, dims):
    dims = tuple(d % x.data.ndim for d in dims)
    if sorted(dims) != list(range(x.data.ndim)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of the "
                           f"{x.data.ndim} dimensions of a tensor of shape {tuple(x.shape)}")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    dims = list(range(x.data.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


def swapaxes(x, dim0, dim1):
    return transpose(x, dim0, dim1)


def getitem(x, index):
    return GetItem.apply(x, index=_raw_index(index))


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    axis = dim % ref.data.ndim
    for i, t in enumerate(tensors):
        if t.data.ndim != ref.data.ndim or any(
                a != b for k, (a, b) in enumerate(zip(t.data.shape, ref.data.shape)) if k != axis):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {dim}; "
                               f"tensor 0 has shape {tuple(ref.shape)}, tensor {i} has shape "
                               f"{tuple(t.shape)}")
    return Cat.apply(*tensors, dim=axis)


concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.data.shape != tensors[0].data.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} "
                               f"at entry {i}")
    return Stack.apply(*tensors, dim=dim % (tensors[0].data.ndim + 1))


def squeeze(x, dim=None):
    shape = x.data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_dims(dim, len(shape))
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    return Reshape.apply(x, shape=new)


def unsqueeze(x, dim):
    shape = list(x.data.shape)
    dim = dim % (len(shape) + 1)
    shape.insert(dim, 1)
    return Reshape.apply(x, shape=tuple(shape))


def expand(x, sizes):
    lead = len(sizes) - x.data.ndim
    shape = tuple(x.data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        np.broadcast_shapes(x.data.shape, shape)
    except ValueError:
        raise RuntimeError(f"expand: the shape {tuple(x.shape)} cannot be expanded to "
                           f"{list(sizes)}") from None
    return Expand.apply(x, shape=shape)


def repeat(x, reps):
    return Repeat.apply(x, reps=tuple(reps))


def flip(x, dims):
    return Flip.apply(x, dims=normalize_dims(dims, x.data.ndim))


def chunk(x, chunks, dim=0):
    n = x.data.shape[dim]
    size = -(-n // chunks)
    return split(x, size, dim)


def split(x, split_size_or_sections, dim=0):
    n = x.data.shape[dim]
    if isinstance(split_size_or_sections, int):
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not add up to {n} along dim {dim}")
    parts, start = [], 0
    lead = (slice(None),) * (dim % x.data.ndim)
    for s in sizes:
        parts.append(getitem(x, lead + (slice(start, start + s),)))
        start += s
    return tuple(parts)


def unbind(x, dim=0):
    lead = (slice(None),) * (dim % x.data.ndim)
    return tuple(getitem(x, lead + (i,)) for i in range(x.data.shape[dim]))


def pad(x, widths, value=0.0):
    return Pad.apply(x, widths=tuple(widths), value=value)


def clone(x):
    return Clone.apply(x)


def cast(x, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return Cast.apply(x, dtype=dtype)
    return Tensor(x.data.astype(dtype))

