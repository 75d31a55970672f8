"""Offline seq2seq tasks and the encoder-decoder models (RNN with/without attention,
transformer): padding does not leak, greedy decoding agrees with teacher forcing, and
a few steps of training reduce the loss."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import optim
from layerwise.data.synthetic_tasks import BOS, EOS, PAD, CharCodec, Seq2SeqData, make_pairs
from layerwise.models import get_model
from layerwise.models.seq2seq import greedy_decode
from layerwise.text import load_corpus  # noqa: F401  (text stack imports cleanly)
from layerwise.train.run_transformer import exact_match_by_length, seq2seq_loss


def test_tasks_are_what_they_say():
    for source, target in make_pairs("reverse", 20, 3, 9, seed=1):
        assert target == source[::-1] and 3 <= len(source) <= 9 and source.isdigit()
    for source, target in make_pairs("sort", 20, 2, 5, seed=1):
        assert target == "".join(sorted(source))
    for source, target in make_pairs("dates", 30, seed=2):
        year, month, day = target.split("-")
        assert year in source and len(target) == 10
    with pytest.raises(ValueError, match="unknown seq2seq task 'copy'"):
        make_pairs("copy", 3)


def test_codec_pads_and_round_trips():
    pairs = make_pairs("reverse", 10, 1, 6, seed=0)
    codec = CharCodec.for_pairs(pairs)
    data = Seq2SeqData(pairs, codec)
    source, decoder_input, target = data[0]
    assert decoder_input[0] == BOS and EOS in target
    assert codec.decode(target) == pairs[0][1]
    assert (data.sources[data.source_lengths == 1][:, 1:] == PAD).all()
    assert CharCodec.from_dict(codec.to_dict()).itos == codec.itos


@pytest.mark.parametrize("arch", ["gru", "gru-attention", "lstm-attention", "transformer"])
def test_padding_does_not_change_a_sequence_and_greedy_matches_teacher_forcing(arch):
    lw.manual_seed(0)
    model = get_model("seq2seq", vocab_size=13, arch=arch, hidden_size=16, d_model=16,
                      dim_feedforward=32, num_layers=1, dropout=0.0).eval()
    short = np.array([[5, 6, 7, PAD, PAD]])
    longer = np.array([[5, 6, 7, 8, 9]])
    decoder_input = np.array([[BOS, 4, 5]])
    alone = model(short[:, :3], decoder_input).data
    batched = model(np.concatenate([short, longer]), np.repeat(decoder_input, 2, 0)).data
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-5)
    out = greedy_decode(model, short, 4)
    prefix = np.concatenate([[[BOS]], out[:, :-1]], axis=1)
    forced = model(short, prefix).data.argmax(-1)
    assert np.array_equal(forced[0, :out.shape[1]], out[0])


@pytest.mark.parametrize("arch", ["gru-attention", "transformer"])
def test_training_steps_reduce_the_loss_and_exact_match_runs(arch):
    pairs = make_pairs("reverse", 64, 2, 5, seed=0)
    codec = CharCodec.for_pairs(pairs)
    data = Seq2SeqData(pairs, codec)
    lw.manual_seed(0)
    model = get_model("seq2seq", vocab_size=len(codec), arch=arch, hidden_size=32, d_model=32,
                      dim_feedforward=64, num_layers=1, dropout=0.0)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(12):
        for src, dec, tgt in data.batches(32):
            loss = seq2seq_loss(model(src, dec), lw.tensor(tgt))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0]
    scores = exact_match_by_length(model, data, buckets=[(2, 3), (4, 5)])
    assert 0 <= scores["overall"] <= 1 and [b[:2] for b in scores["by_length"]] == [(2, 3), (4, 5)]


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown arch 'rnn-attention'"):
        get_model("seq2seq", arch="rnn-attention")
