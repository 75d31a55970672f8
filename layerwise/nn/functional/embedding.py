"""Embedding lookup: token ids -> rows of a learned table (PyTorch's ``F.embedding``).

For a weight table W (num_embeddings, embedding_dim) and integer ids of any shape,

    y[..., :] = W[id, :]          (output shape: ids.shape + (embedding_dim,))

It is a linear layer applied to one-hot vectors, computed without building them.
The gradient adds each output row's gradient into the row it came from,

    dL/dW[k] = Σ_{positions p with id_p = k} dL/dy_p,

done as one sparse (num_embeddings x positions) by (positions x embedding_dim)
product. The ``padding_idx`` row gets no gradient (it stays as it is, zeros by
default); ``scale_grad_by_freq`` divides each row's gradient by how often its id
occurs in the batch; ``max_norm`` first rescales, in place, every looked-up row
whose ``norm_type``-norm exceeds ``max_norm`` to that norm (as PyTorch does).
"""
import numpy as np
import scipy.sparse

from ...autograd.function import Function
from ...autograd.tensor import Tensor

__all__ = ["embedding"]


class Embedding(Function):
    """y = W[ids];  dL/dW = Σ over positions of each id (sparse product), dL/dids: none."""

    def forward(self, weight, ids=None, padding_idx=None, scale_grad_by_freq=False):
        if self.needs_input_grad[0]:
            self.ids, self.shape = ids.reshape(-1), weight.shape
            self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return np.take(weight, ids, axis=0)

    def backward(self, g):
        ids, (rows, dim) = self.ids, self.shape
        coefficients = np.ones(ids.size, dtype=g.dtype)
        if self.scale_grad_by_freq:
            coefficients /= np.bincount(ids, minlength=rows)[ids]
        if self.padding_idx is not None:
            coefficients[ids == self.padding_idx] = 0
        scatter = scipy.sparse.csr_matrix((coefficients, (ids, np.arange(ids.size))),
                                          shape=(rows, ids.size))
        grad = scatter @ np.ascontiguousarray(g.reshape(-1, dim))
        return np.asarray(grad, dtype=g.dtype)


def check_ids(ids, num_embeddings, layer="embedding"):
    """The ids as an int64 array, after checking their type and range (naming ``layer``)."""
    array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{layer}: expected integer token ids (int64 or int32), got dtype "
                        f"{array.dtype}; convert with ids.long()")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(f"{layer}: token id {bad} is out of range for {num_embeddings} "
                             f"embeddings (valid ids are 0..{num_embeddings - 1})")
    return array.astype(np.int64, copy=False)


def normalize_padding_idx(padding_idx, num_embeddings, layer="embedding"):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{layer}: padding_idx must be within num_embeddings "
                         f"({num_embeddings}), got {padding_idx}")
    return padding_idx % num_embeddings


def renorm_rows_(weight, ids, max_norm, norm_type=2.0):
    """Rescale, in place, the rows ``ids`` of ``weight`` whose norm exceeds ``max_norm``."""
    rows = np.unique(ids)
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(weight.dtype)
        weight[rows[over]] *= scale[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False, layer="embedding"):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ids ``input``."""
    if sparse:
        raise NotImplementedError(f"{layer}: sparse gradients are not supported; the dense "
                                  f"gradient is computed with a sparse product already")
    if weight.ndim != 2:
        raise RuntimeError(f"{layer}: weight must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {tuple(weight.shape)}")
    num_embeddings = weight.shape[0]
    ids = check_ids(input, num_embeddings, layer)
    padding_idx = normalize_padding_idx(padding_idx, num_embeddings, layer)
    if max_norm is not None:
        renorm_rows_(weight.data, ids, max_norm, norm_type)
    return Embedding.apply(weight, ids=ids, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)
