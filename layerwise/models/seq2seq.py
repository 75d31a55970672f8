"""Sequence-to-sequence models: encoder-decoder RNNs with or without attention, and a transformer.

**RNN encoder-decoder** (Sutskever et al., 2014; Cho et al., 2014): a GRU (or LSTM)
reads the source; its final hidden state — one vector for the whole input — starts a
second GRU that writes the target one token at a time (trained with teacher forcing:
the decoder reads the true previous token). Long inputs overflow that single vector.

**With attention** (Luong et al., 2015, "general" score; Bahdanau et al., 2015): at
every output step t the decoder state h_t looks back at all encoder states h̄_s:

    a_t = softmax_s(h_tᵀ W_a h̄_s / √H)      (padding positions masked out)
    c_t = Σ_s a_t,s h̄_s                      (context vector)
    h̃_t = tanh(W_c [c_t; h_t]),   p(y_t) = softmax(W_o h̃_t)

computed for all steps at once with ``F.scaled_dot_product_attention``.

**Transformer** (``nn.Transformer``, pre-norm, sinusoidal positions): attention
everywhere, no recurrence.

All three: ``forward(source (N, S), decoder_input (N, T)) -> logits (N, T, V)``, ids
with 0 = padding, 1 = start, 2 = end (``data/synthetic_tasks.py``); ``greedy_decode``
writes outputs token by token.
"""
import math

import numpy as np

from .. import nn
from ..autograd import ops
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data.synthetic_tasks import BOS, EOS, PAD
from ..nn import functional as F
from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from .sequence import recurrent_layer

ARCHITECTURES = ("gru", "gru-attention", "lstm", "lstm-attention", "transformer")


def _ids(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class Seq2SeqRNN(nn.Module):
    """Encoder-decoder GRU/LSTM, with Luong attention if ``attention``."""

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=128, cell="gru",
                 attention=True, num_layers=1, dropout=0.0):
        super().__init__()
        self.cell, self.attention, self.hidden_size = cell, attention, hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.encoder = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, dropout)
        self.decoder = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, dropout)
        if attention:
            self.query = nn.Linear(hidden_size, hidden_size, bias=False)        # W_a
            self.combine = nn.Linear(2 * hidden_size, hidden_size)              # W_c
        self.out = nn.Linear(hidden_size, vocab_size)

    def encode(self, source):
        """(encoder states (N, S, H), final state, padding mask (N, S) True at padding)."""
        ids = _ids(source)
        lengths = np.maximum((ids != PAD).sum(axis=1), 1)
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        states, final = self.encoder(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])
        return states, final, ids == PAD

    def decode(self, decoder_input, state, memory, padding):
        """Logits (N, T, V) for the decoder inputs, and the decoder's final state."""
        out, state = self.decoder(self.embedding(_ids(decoder_input)), state)
        if self.attention:
            allowed = Tensor(~padding[:, None, :])                          # (N, 1, S)
            context = F.scaled_dot_product_attention(self.query(out), memory, memory,
                                                     attn_mask=allowed,
                                                     scale=1.0 / math.sqrt(self.hidden_size))
            out = ops.tanh(self.combine(ops.cat([context, out], dim=-1)))
        return self.out(out), state

    def forward(self, source, decoder_input):
        memory, state, padding = self.encode(source)
        return self.decode(decoder_input, state, memory, padding)[0]

    def start(self, source):
        return self.encode(source)

    def step(self, tokens, context):
        memory, state, padding = context
        logits, state = self.decode(tokens[:, None], state, memory, padding)
        return logits.data[:, -1], (memory, state, padding)


class Seq2SeqTransformer(nn.Module):
    """``nn.Transformer`` between a shared token embedding and an output layer."""

    def __init__(self, vocab_size, d_model=128, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=256, dropout=0.1, max_len=256):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        nn.init.normal_(self.embedding.weight, 0.0, d_model ** -0.5)
        self.embedding._fill_padding_idx_with_zero()
        self.position = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
                                          dim_feedforward, dropout, batch_first=True,
                                          norm_first=True)
        self.out = nn.Linear(d_model, vocab_size)

    def _embed(self, ids):
        return self.position(self.embedding(ids) * math.sqrt(self.d_model))

    def start(self, source):
        ids = _ids(source)
        padding = Tensor(ids == PAD)
        memory = self.transformer.encoder(self._embed(ids), src_key_padding_mask=padding)
        return memory, padding, None

    def _decode(self, decoder_input, memory, padding):
        ids = _ids(decoder_input)
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1])
        out = self.transformer.decoder(self._embed(ids), memory, tgt_mask=mask,
                                       memory_key_padding_mask=padding)
        return self.out(out)

    def forward(self, source, decoder_input):
        memory, padding, _ = self.start(source)
        return self._decode(decoder_input, memory, padding)

    def step(self, tokens, context):
        memory, padding, prefix = context
        prefix = tokens[:, None] if prefix is None else np.concatenate([prefix, tokens[:, None]], 1)
        logits = self._decode(prefix, memory, padding)
        return logits.data[:, -1], (memory, padding, prefix)


@no_grad()
def greedy_decode(model, source, max_length):
    """(N, ≤ max_length) output ids, the most likely token at each step, stopping at </s>."""
    was_training = model.training
    model.eval()
    try:
        ids = _ids(source)
        context = model.start(ids)
        tokens = np.full(len(ids), BOS, dtype=np.int64)
        outputs, finished = [], np.zeros(len(ids), bool)
        for _ in range(max_length):
            logits, context = model.step(tokens, context)
            tokens = np.where(finished, PAD, logits.argmax(axis=1)).astype(np.int64)
            outputs.append(tokens)
            finished |= tokens == EOS
            if finished.all():
                break
        return np.stack(outputs, axis=1)
    finally:
        model.train(was_training)


def seq2seq(vocab_size=16, arch="gru-attention", embedding_dim=64, hidden_size=128,
            d_model=128, nhead=4, num_layers=2, dim_feedforward=256, dropout=0.1, max_len=256,
            num_classes=None, in_channels=None, image_size=None):
    """The registry's builder: ``arch`` in gru, gru-attention, lstm, lstm-attention, transformer."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"seq2seq: unknown arch {arch!r}; choose {', '.join(ARCHITECTURES)}")
    if arch == "transformer":
        return Seq2SeqTransformer(vocab_size, d_model, nhead, num_layers, num_layers,
                                  dim_feedforward, dropout, max_len)
    cell = arch.split("-")[0]
    return Seq2SeqRNN(vocab_size, embedding_dim, hidden_size, cell,
                      attention=arch.endswith("attention"))
