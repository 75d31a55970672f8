"""Sequence models: a character-level language model, a sequence classifier, a forecaster.

- ``CharLSTM`` (``char-lstm``): Embedding -> LSTM (or GRU / RNN) layers -> dropout ->
  Linear to the vocabulary. Trained to predict each next character, it generates
  text one character at a time (``models/text_generation.py``). Its quality is
  measured in bits per character, the cross-entropy in base 2 (log₂ of the
  vocabulary size for a model that knows nothing).
- ``RNNClassifier`` (``rnn-classifier``): reads a sequence — or an image row by row,
  "sequential Fashion-MNIST": 28 steps of 28 pixels — and classifies it from the
  last layer's final hidden state (both directions' if bidirectional).
- ``LSTMForecaster`` (``lstm-forecaster``): reads a window of a time series and
  predicts its next ``horizon`` values from the final hidden state.

``cell`` picks the recurrent layer: 'lstm' (default), 'gru' or 'rnn' (tanh).
"""
import numpy as np

from .. import nn
from ..autograd.factories import zeros
from ..autograd.ops import permute, reshape, transpose
from ..nn.utils.rnn import PackedSequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def recurrent_layer(cell, input_size, hidden_size, num_layers=1, dropout=0.0,
                    bidirectional=False):
    """A batch-first LSTM / GRU / RNN (dropout between layers only when there are several)."""
    if cell not in CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; choose {', '.join(CELLS)}")
    return CELLS[cell](input_size, hidden_size, num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)


def final_hidden(state, cell):
    """h_n (num_layers·D, N, H) of an LSTM's (h_n, c_n) or a GRU/RNN's h_n."""
    return state[0] if cell == "lstm" else state


class CharLSTM(nn.Module):
    """Language model: ``forward(ids (N, T), state=None) -> (logits (N, T, V), state)``."""

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=256, num_layers=2,
                 dropout=0.2, cell="lstm"):
        super().__init__()
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embedding(ids), state)
        return self.decoder(self.dropout(out)), state

    def example_input(self, batch_size=1, steps=16):
        """Token ids to trace the model with (``layerwise summary``)."""
        return zeros(batch_size, steps, dtype=np.int64)


class RNNClassifier(nn.Module):
    """Sequence classifier: (N, T, input_size) sequences, (N, C, H, W) images read row by
    row (T = H steps of C·W features), or a PackedSequence -> logits (N, num_classes)."""

    def __init__(self, input_size=28, hidden_size=128, num_layers=1, num_classes=10,
                 cell="lstm", bidirectional=False, dropout=0.0):
        super().__init__()
        self.cell, self.input_size = cell, input_size
        self.directions = 2 if bidirectional else 1
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, dropout,
                                   bidirectional)
        self.fc = nn.Linear(hidden_size * self.directions, num_classes)

    def forward(self, x):
        if not isinstance(x, PackedSequence) and x.ndim == 4:
            n, c, h, w = x.shape
            x = reshape(permute(x, (0, 2, 1, 3)), (n, h, c * w))
        _, state = self.rnn(x)
        last = final_hidden(state, self.cell)[-self.directions:]       # (D, N, H)
        features = reshape(transpose(last, 0, 1), (last.shape[1], -1))  # (N, D·H)
        return self.fc(features)


class LSTMForecaster(nn.Module):
    """``forward(windows (N, T, input_size)) -> next values (N, horizon)``."""

    def __init__(self, input_size=1, hidden_size=64, num_layers=1, horizon=1, dropout=0.0,
                 cell="lstm"):
        super().__init__()
        self.cell = cell
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, x):
        _, state = self.rnn(x)
        return self.head(final_hidden(state, self.cell)[-1])

    def example_input(self, batch_size=1, steps=24):
        """A window of values to trace the model with (``layerwise summary``)."""
        return zeros(batch_size, steps, self.rnn.input_size)


# builders for the registry: the image arguments (num_classes, in_channels, image_size)
# that `layerwise summary` passes are accepted; only the classifier uses them
def char_lstm(vocab_size=128, embedding_dim=64, hidden_size=256, num_layers=2, dropout=0.2,
              cell="lstm", num_classes=None, in_channels=None, image_size=None):
    return CharLSTM(vocab_size, embedding_dim, hidden_size, num_layers, dropout, cell)


def rnn_classifier(num_classes=10, in_channels=1, image_size=28, hidden_size=128,
                   num_layers=1, cell="lstm", bidirectional=False, dropout=0.0,
                   input_size=None):
    return RNNClassifier(input_size or in_channels * image_size, hidden_size, num_layers,
                         num_classes, cell, bidirectional, dropout)


def lstm_forecaster(input_size=1, hidden_size=64, num_layers=1, horizon=1, dropout=0.0,
                    cell="lstm", num_classes=None, in_channels=None, image_size=None):
    return LSTMForecaster(input_size, hidden_size, num_layers, horizon, dropout, cell)


SEQUENCE_BUILDERS = {"char-lstm": char_lstm, "rnn-classifier": rnn_classifier,
                     "lstm-forecaster": lstm_forecaster}


def build_sequence_model(config):
    """The model a sequence run's checkpoint config describes (``model``, ``model_kwargs``)."""
    from .registry import get_model
    return get_model(config["model"], **config.get("model_kwargs", {}))
