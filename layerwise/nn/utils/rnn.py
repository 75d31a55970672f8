"""Variable-length batches for recurrent layers (PyTorch's ``torch.nn.utils.rnn``).

Sequences of different lengths are padded to a common length for storage, but a
recurrent layer must not read the padding. A ``PackedSequence`` stores only the real
steps: the sequences are sorted by decreasing length and interleaved step by step,

    lengths (3, 2, 1):  a1 a2 a3 | b1 b2 | c1   ->  data = a1 b1 c1 a2 b2 a3,
                                                     batch_sizes = (3, 2, 1)

so step t owns ``batch_sizes[t]`` consecutive rows of ``data``. Recurrent layers
take it as input and at step t update only the sequences still running; the
outputs, the gradients and each sequence's final state ignore padding entirely.

- ``pad_sequence(list)`` -> padded (T, B, *) (or (B, T, *) with ``batch_first``);
- ``pack_padded_sequence(padded, lengths, enforce_sorted=...)`` -> ``PackedSequence``;
- ``pad_packed_sequence(packed)`` -> (padded, lengths), in the original batch order;
- ``pack_sequence(list)``, ``unpad_sequence``, ``unpack_sequence``.
"""
from collections import namedtuple

import numpy as np

from ...autograd.function import Function
from ...autograd.ops import getitem, reshape
from ...autograd.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


class PackedSequence(_Fields):
    """Packed rows ``data`` (sum(batch_sizes), *), ``batch_sizes`` (int64, one per step),
    and the permutation that sorted the batch by length (``sorted_indices``) with its
    inverse (``unsorted_indices``), or None when the batch came sorted."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes is required (build one with "
                             "pack_padded_sequence or pack_sequence)")
        batch_sizes = _int_tensor(batch_sizes)
        if sorted_indices is not None:
            sorted_indices = _int_tensor(sorted_indices)
            if unsorted_indices is None:
                unsorted_indices = invert_permutation(sorted_indices)
        if unsorted_indices is not None:
            unsorted_indices = _int_tensor(unsorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), *self[1:])

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _int_tensor(value):
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    return Tensor(np.asarray(array, dtype=np.int64))


def invert_permutation(permutation):
    """The inverse permutation (None stays None)."""
    if permutation is None:
        return None
    perm = permutation.data if isinstance(permutation, Tensor) else np.asarray(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm), dtype=perm.dtype)
    return Tensor(inverse.astype(np.int64))


class GatherRows(Function):
    """y = x[index] for distinct row indices;  dL/dx is g scattered back (zeros elsewhere)."""

    def forward(self, x, index=None):
        self.index, self.shape = index, x.shape
        return x[index]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        grad[self.index] = g
        return grad


class ScatterRows(Function):
    """y = ``fill`` everywhere except y[index] = x (distinct rows);  dL/dx = g[index]."""

    def forward(self, x, index=None, rows=0, fill=0.0):
        self.index = index
        out = np.full((rows,) + x.shape[1:], fill, dtype=x.dtype)
        out[index] = x
        return out

    def backward(self, g):
        return g[self.index]


class PadSequence(Function):
    """Sequences (L_i, *) written into one (T, B, *) array;  backward slices each back."""

    def forward(self, *sequences, padding_value=0.0, left=False):
        length = max(s.shape[0] for s in sequences)
        out = np.full((length, len(sequences)) + sequences[0].shape[1:], padding_value,
                      dtype=np.result_type(*sequences))
        self.slices = []
        for b, s in enumerate(sequences):
            where = slice(length - s.shape[0], length) if left else slice(0, s.shape[0])
            out[where, b] = s
            self.slices.append((where, b))
        return out

    def backward(self, g):
        return tuple(g[where, b] for where, b in self.slices)


def _lengths_array(lengths, batch, where):
    array = lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths)
    array = np.asarray(array)
    if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and
                                              np.all(array == np.round(array))):
        raise ValueError(f"{where}: lengths must be integers, got {array.dtype}")
    array = array.astype(np.int64).reshape(-1)
    if len(array) != batch:
        raise ValueError(f"{where}: got {len(array)} lengths for a batch of {batch} sequences")
    return array


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences with these lengths."""
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded batch of at least 2 "
                         f"dimensions, got shape {tuple(input.shape)}")
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    batch, length = input.shape[batch_dim], input.shape[time_dim]
    lengths = _lengths_array(lengths, batch, "pack_padded_sequence")
    if batch == 0:
        raise ValueError("pack_padded_sequence: the batch is empty")
    if lengths.min() <= 0:
        raise ValueError(f"pack_padded_sequence: every length must be at least 1 (empty "
                         f"sequences cannot be packed), got lengths {lengths.tolist()}")
    if lengths.max() > length:
        raise ValueError(f"pack_padded_sequence: a length of {lengths.max()} does not fit the "
                         f"padded input of {length} steps (shape {tuple(input.shape)}, "
                         f"batch_first={batch_first})")
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise ValueError(f"pack_padded_sequence: lengths {lengths.tolist()} must be sorted "
                             f"in decreasing order when enforce_sorted is True; pass "
                             f"enforce_sorted=False to sort them automatically")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = order
    running = np.arange(lengths.max())[:, None] < lengths[order][None, :]   # (steps, batch)
    steps, slot = np.nonzero(running)                                        # step-major order
    original = order[slot]
    index = original * length + steps if batch_first else steps * batch + original
    rows = reshape(input, (batch * length,) + tuple(input.shape[2:]))
    data = GatherRows.apply(rows, index=index)
    return PackedSequence(data, running.sum(axis=1), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch (T, B, *) (or (B, T, *)) and the lengths, in the original order."""
    data, batch_sizes, sorted_indices, _ = sequence
    sizes = batch_sizes.data
    steps_count, batch = len(sizes), int(sizes[0])
    length = steps_count if total_length is None else int(total_length)
    if length < steps_count:
        raise ValueError(f"pad_packed_sequence: expected total_length to be at least "
                         f"{steps_count} (the length of the longest sequence), got "
                         f"{total_length}")
    order = sorted_indices.data if sorted_indices is not None else np.arange(batch)
    running = np.arange(batch)[None, :] < sizes[:, None]
    steps, slot = np.nonzero(running)
    original = order[slot]
    index = original * length + steps if batch_first else steps * batch + original
    padded = ScatterRows.apply(data, index=index, rows=batch * length, fill=padding_value)
    shape = (batch, length) if batch_first else (length, batch)
    lengths = np.empty(batch, dtype=np.int64)
    lengths[order] = running.sum(axis=0)
    return reshape(padded, shape + tuple(data.shape[1:])), Tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors (L_i, *) into (T, B, *) (or (B, T, *)), padding with ``padding_value``."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    sequences = [s if isinstance(s, Tensor) else Tensor(np.asarray(s)) for s in sequences]
    trailing = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(f"pad_sequence: every sequence must have shape (length, "
                             f"{', '.join(map(str, trailing))}) like sequence 0, but sequence "
                             f"{i} has shape {tuple(s.shape)}")
    out = PadSequence.apply(*sequences, padding_value=padding_value,
                            left=padding_side == "left")
    if batch_first:
        from ...autograd.ops import transpose
        out = transpose(out, 0, 1)
    return out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences (L_i, *) of a padded batch."""
    batch = padded_sequences.shape[0 if batch_first else 1]
    lengths = _lengths_array(lengths, batch, "unpad_sequence")
    return [getitem(padded_sequences, (b, slice(0, n)) if batch_first else (slice(0, n), b))
            for b, n in enumerate(lengths.tolist())]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (sorted by decreasing length, unless told not to)."""
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) in a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
