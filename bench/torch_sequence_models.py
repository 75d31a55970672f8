"""The sequence models of layerwise.models.sequence written in PyTorch, module for module.

Same attribute names, so a layerwise state_dict loads into them as is (strict), and the
same forward signatures. Used by bench/sequences.py only.
"""
import torch
from torch import nn

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def recurrent_layer(cell, input_size, hidden_size, num_layers=1, dropout=0.0,
                    bidirectional=False):
    return CELLS[cell](input_size, hidden_size, num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)


def final_hidden(state, cell):
    return state[0] if cell == "lstm" else state


class CharLSTM(nn.Module):
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


class RNNClassifier(nn.Module):
    def __init__(self, input_size=28, hidden_size=128, num_layers=1, num_classes=10,
                 cell="lstm", bidirectional=False, dropout=0.0):
        super().__init__()
        self.cell, self.directions = cell, 2 if bidirectional else 1
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, dropout,
                                   bidirectional)
        self.fc = nn.Linear(hidden_size * self.directions, num_classes)

    def forward(self, x):
        if x.dim() == 4:
            n, c, h, w = x.shape
            x = x.permute(0, 2, 1, 3).reshape(n, h, c * w)
        _, state = self.rnn(x)
        last = final_hidden(state, self.cell)[-self.directions:]
        return self.fc(last.transpose(0, 1).reshape(last.shape[1], -1))


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=64, num_layers=1, horizon=1, dropout=0.0,
                 cell="lstm"):
        super().__init__()
        self.cell = cell
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, x):
        _, state = self.rnn(x)
        return self.head(final_hidden(state, self.cell)[-1])


MODELS = {"char-lstm": CharLSTM, "rnn-classifier": RNNClassifier,
          "lstm-forecaster": LSTMForecaster}


def twin(name, layerwise_model, **kwargs):
    """The PyTorch model ``name`` holding a copy of ``layerwise_model``'s weights."""
    model = MODELS[name](**kwargs)
    model.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                           for k, v in layerwise_model.state_dict().items()}, strict=True)
    return model
