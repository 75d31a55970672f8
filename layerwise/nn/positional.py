"""Positional encodings: attention alone ignores word order, so each position adds its own vector.

- ``SinusoidalPositionalEncoding`` (Vaswani et al., 2017, §3.5), fixed:

      PE(pos, 2i)   = sin(pos / base^(2i/d))
      PE(pos, 2i+1) = cos(pos / base^(2i/d)),      base = 10000

  Each pair of dimensions is a sinusoid of its own wavelength (2π to 2π·base), so
  PE(pos + k) is a linear function of PE(pos) and relative offsets are easy to read.
  The table is a non-persistent buffer ``pe`` (max_len, d_model): recomputed, not saved.
- ``LearnedPositionalEncoding`` (BERT, GPT): a learned vector per position, an
  ``Embedding(max_len, d_model)`` (key ``embedding.weight``) initialized N(0, 0.02²).

Both take x (N, T, d) (``batch_first=True``) or (T, N, d) and return
dropout(x + PE[offset : offset + T]); ``offset`` is the position of x's first step
(a key/value cache feeds one new token at position t). A sequence that runs past the
table is an error naming the layer, the length and ``max_len``.
"""
import numpy as np

from ..autograd.factories import tensor
from . import init
from .dropout import Dropout
from .embedding import Embedding
from .module import Module

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "sinusoidal_table"]


def sinusoidal_table(max_len, d_model, base=10000.0, dtype=np.float32):
    """The (max_len, d_model) table of sines (even columns) and cosines (odd columns)."""
    positions = np.arange(max_len, dtype=np.float64)[:, None]
    frequencies = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    angles = positions * frequencies                       # (max_len, ceil(d/2))
    table = np.empty((max_len, d_model), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, :d_model // 2])
    return table.astype(dtype)


def _positions(module, x, offset):
    """(T, start): the sequence length of x and its first position, checked against the table."""
    if x.ndim not in (2, 3) or x.shape[-1] != module.d_model:
        raise RuntimeError(f"{type(module).__name__}: expected input (N, T, {module.d_model}) "
                           f"{'(batch_first)' if module.batch_first else 'or (T, N, d)'} or "
                           f"(T, {module.d_model}), got shape {tuple(x.shape)}")
    length = x.shape[1] if module.batch_first and x.ndim == 3 else x.shape[0]
    if offset < 0 or offset + length > module.max_len:
        raise ValueError(f"{type(module).__name__}: a sequence of length {length} starting at "
                         f"position {offset} runs past the positional table: max_len="
                         f"{module.max_len} positions (expected offset + length <= "
                         f"{module.max_len}, got {offset + length})")
    return length


def _add(module, x, table):
    """x + table ((T, d)), broadcast over the batch axis of either layout."""
    if x.ndim == 3 and not module.batch_first:
        table = table.reshape(table.shape[0], 1, table.shape[1])
    return module.dropout(x + table)


class SinusoidalPositionalEncoding(Module):
    """x + fixed sinusoids (see the module docstring), then dropout."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=True, base=10000.0):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = int(d_model), int(max_len), batch_first
        self.base = base
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", tensor(sinusoidal_table(self.max_len, self.d_model, base)),
                             persistent=False)

    def forward(self, x, offset=0):
        length = _positions(self, x, offset)
        pe = self.pe.data[offset:offset + length]
        return _add(self, x, tensor(pe.astype(x.dtype, copy=False)))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEncoding(Module):
    """x + a learned vector per position (``embedding.weight`` (max_len, d_model)), then dropout."""

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=True, std=0.02):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = int(d_model), int(max_len), batch_first
        self.embedding = Embedding(self.max_len, self.d_model)
        init.normal_(self.embedding.weight, 0.0, std)
        self.dropout = Dropout(dropout)

    def forward(self, x, offset=0):
        length = _positions(self, x, offset)
        positions = np.arange(offset, offset + length, dtype=np.int64)
        return _add(self, x, self.embedding(positions))

    def extra_repr(self):
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"
