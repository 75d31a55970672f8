"""The sequence models: shapes, state carrying, parity with the same architecture in
PyTorch (weights loaded strictly), the registry, and text generation."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise.models import get_model
from layerwise.models.sequence import CharLSTM, LSTMForecaster, RNNClassifier
from layerwise.models.text_generation import generate, next_token, sample_text
from layerwise.nn.utils import rnn
from layerwise.text import CharVocab
from tests.helpers import assert_close, random


class TorchClassifier(torch.nn.Module):
    """PyTorch twin of RNNClassifier (same module names)."""

    def __init__(self, cell, bidirectional):
        super().__init__()
        kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.cell, self.directions = cell, 2 if bidirectional else 1
        self.rnn = kind(6, 5, 2, batch_first=True, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(5 * self.directions, 3)

    def forward(self, x):
        n, c, h, w = x.shape
        _, state = self.rnn(x.permute(0, 2, 1, 3).reshape(n, h, c * w))
        last = (state[0] if self.cell == "lstm" else state)[-self.directions:]
        return self.fc(last.transpose(0, 1).reshape(n, -1))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_reads_images_row_by_row_like_torch(cell, bidirectional):
    ours = RNNClassifier(input_size=6, hidden_size=5, num_layers=2, num_classes=3, cell=cell,
                         bidirectional=bidirectional)
    theirs = TorchClassifier(cell, bidirectional)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    images = random(4, 2, 7, 3)                     # 7 steps of 2 channels x 3 pixels
    x, xt = lw.tensor(images, requires_grad=True), torch.tensor(images, requires_grad=True)
    out, t_out = ours(x), theirs(xt)
    assert_close(out, t_out)
    out.sum().backward()
    t_out.sum().backward()
    assert_close(x.grad, xt.grad)
    assert_close(ours.rnn.weight_hh_l1.grad, theirs.rnn.weight_hh_l1.grad)


def test_classifier_takes_sequences_and_packed_batches():
    model = RNNClassifier(input_size=3, hidden_size=4, num_classes=2, cell="gru")
    assert model(lw.randn(5, 6, 3)).shape == (5, 2)
    packed = rnn.pack_sequence([lw.randn(4, 3), lw.randn(2, 3)])
    alone = model(lw.randn(1, 2, 3))
    assert model(packed).shape == (2, 2) and alone.shape == (1, 2)


def test_char_lstm_shapes_and_carried_state_equal_one_long_pass():
    lw.manual_seed(0)
    model = CharLSTM(vocab_size=11, embedding_dim=4, hidden_size=6, num_layers=2, dropout=0.0)
    model.eval()
    ids = lw.tensor(np.random.default_rng(0).integers(0, 11, (3, 10)))
    logits, (h_n, c_n) = model(ids)
    assert logits.shape == (3, 10, 11) and h_n.shape == (2, 3, 6) and c_n.shape == (2, 3, 6)
    first, state = model(ids[:, :6])
    second, _ = model(ids[:, 6:], state)
    np.testing.assert_allclose(second.detach().numpy(), logits.detach().numpy()[:, 6:],
                               atol=1e-5)


def test_forecaster_and_registry_builders():
    model = get_model("lstm-forecaster", input_size=2, hidden_size=8, horizon=3, cell="gru")
    assert isinstance(model, LSTMForecaster) and model(lw.randn(4, 12, 2)).shape == (4, 3)
    assert isinstance(get_model("char-lstm", vocab_size=20), CharLSTM)
    classifier = get_model("rnn-classifier", num_classes=10, in_channels=1, image_size=28)
    assert classifier.rnn.input_size == 28 and classifier(lw.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown recurrent cell 'lstmm'"):
        get_model("rnn-classifier", cell="lstmm")


def test_next_token_temperature_and_top_k():
    logits = np.array([0.0, 3.0, 1.0, 2.9])
    assert next_token(logits, temperature=0) == 1
    rng = np.random.default_rng(0)
    draws = [next_token(logits, 1.0, top_k=2, rng=rng) for _ in range(200)]
    assert set(draws) == {1, 3}
    cold = [next_token(logits, 0.01, rng=rng) for _ in range(50)]
    assert cold.count(1) == 50                      # (3 - 2.9) / 0.01: odds e^10
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        next_token(logits, -1.0)


def test_generation_streams_and_repeats_with_a_seed():
    vocab = CharVocab.build("hello world\n")
    lw.manual_seed(0)
    model = CharLSTM(len(vocab), embedding_dim=3, hidden_size=5, num_layers=1, dropout=0.0)
    pieces = list(generate(model, vocab, prompt="he", length=12, temperature=1.0, seed=3))
    assert len(pieces) == 12 and all(len(p) == 1 for p in pieces)
    assert "".join(pieces) == sample_text(model, vocab, "he", 12, 1.0, seed=3)
    assert model.training                           # generation restores the mode
    greedy = sample_text(model, vocab, "", 5, temperature=0)
    assert greedy == sample_text(model, vocab, "", 5, temperature=0)
