"""Variable-length batches through RNN/LSTM/GRU: PackedSequence input against PyTorch, and
padding that changes neither outputs nor gradients nor final states."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise.nn.utils import rnn as rnn_utils
from tests.helpers import assert_gradcheck, random
from tests.nn.recurrent_parity import run_both, twins

KINDS = [("RNN", {}), ("LSTM", {}), ("GRU", {}), ("RNN", {"nonlinearity": "relu"})]
LENGTHS = [3, 7, 1, 7, 5]          # unsorted, with a tie and a length-1 sequence


def torch_utils():
    return torch.nn.utils.rnn


def packed_call(kind, with_state, batch_first, enforce_sorted=False, lengths=LENGTHS):
    def call(module, tensors, framework):
        utils = rnn_utils if framework == "lw" else torch_utils()
        packed = utils.pack_padded_sequence(tensors[0], lengths, batch_first=batch_first,
                                            enforce_sorted=enforce_sorted)
        if with_state:
            state = (tensors[1], tensors[2]) if kind == "LSTM" else tensors[1]
            out, final = module(packed, state)
        else:
            out, final = module(packed)
        padded, out_lengths = utils.pad_packed_sequence(out, batch_first=batch_first)
        assert list(np.asarray(out_lengths)) == list(lengths)
        return out, padded, final
    return call


@pytest.mark.parametrize("kind,extra", KINDS, ids=["rnn", "lstm", "gru", "rnn_relu"])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True), (1, True)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_batch_matches_torch(kind, extra, num_layers, bidirectional, batch_first,
                                    with_state):
    ours, reference = twins(kind, 3, 4, num_layers=num_layers, bidirectional=bidirectional,
                            batch_first=batch_first, **extra)
    batch, length = len(LENGTHS), max(LENGTHS)
    directions = 2 if bidirectional else 1
    arrays = [random(*((batch, length, 3) if batch_first else (length, batch, 3)), seed=1)]
    if with_state:
        arrays += [random(num_layers * directions, batch, 4, seed=2)]
        if kind == "LSTM":
            arrays += [random(num_layers * directions, batch, 4, seed=3)]
    run_both(ours, reference, arrays, packed_call(kind, with_state, batch_first))


def test_sorted_packed_batch_without_permutation_matches_torch():
    ours, reference = twins("LSTM", 3, 4, bidirectional=True)
    lengths = [6, 4, 4, 2]
    x = random(6, 4, 3, seed=5)
    run_both(ours, reference, [x], packed_call("LSTM", False, False, enforce_sorted=True,
                                               lengths=lengths))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_padding_changes_nothing(kind):
    """Two batches that differ only in their padded positions: same outputs, final states
    and gradients, and zero gradient at the padding."""
    ours, _ = twins(kind, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    lengths = [5, 2, 4]
    x = random(3, 5, 3, seed=1)
    noisy = x.copy()
    for b, n in enumerate(lengths):
        noisy[b, n:] = 1000.0 * random(5 - n, 3, seed=b + 10)
    results = []
    for data in (x, noisy):
        xt = lw.tensor(data, requires_grad=True)
        packed = rnn_utils.pack_padded_sequence(xt, lengths, batch_first=True,
                                                enforce_sorted=False)
        out, final = ours(packed)
        h_n = final[0] if kind == "LSTM" else final
        padded, _ = rnn_utils.pad_packed_sequence(out, batch_first=True)
        ours.zero_grad()
        ((padded * padded).sum() + h_n.sum()).backward()
        results.append((padded.detach().numpy(), h_n.detach().numpy(), xt.grad.numpy(),
                        ours.weight_hh_l1_reverse.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    grad_x = results[0][2]
    for b, n in enumerate(lengths):
        assert not grad_x[b, n:].any() and grad_x[b, :n].any()
    padded = results[0][0]
    assert not padded[1, 2:].any()                       # padded outputs are zeros


def test_final_state_of_each_sequence_is_its_last_real_step():
    layer = lw.nn.GRU(2, 3)
    lengths = [4, 2, 3]
    x = lw.tensor(random(4, 3, 2))
    out, h_n = layer(rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = rnn_utils.pad_packed_sequence(out)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h_n.detach().numpy()[0, b],
                                   padded.detach().numpy()[n - 1, b], atol=1e-6)
        alone, h_alone = layer(lw.tensor(x.numpy()[:n, b:b + 1]))
        np.testing.assert_allclose(h_alone.detach().numpy()[0, 0],
                                   h_n.detach().numpy()[0, b], atol=1e-6)


@pytest.mark.parametrize("mode", ["lstm", "gru", "tanh"])
@pytest.mark.parametrize("reverse", [False, True])
def test_packed_layer_gradcheck(mode, reverse):
    batch_sizes = [3, 3, 2, 1]
    hidden, gates = 2, {"lstm": 4, "gru": 3}.get(mode, 1)
    arrays = (random(sum(batch_sizes), 2, seed=1), random(3, hidden, seed=2),
              random(3, hidden, seed=3), random(gates * hidden, 2, seed=4),
              random(gates * hidden, hidden, seed=5), random(gates * hidden, seed=6),
              random(gates * hidden, seed=7))

    def layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        if mode == "lstm":
            out, h_n, c_n = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                         batch_sizes=batch_sizes, reverse=reverse)
            return lw.cat([out.reshape(-1), h_n.reshape(-1) * 2, c_n.reshape(-1) * 3])
        if mode == "gru":
            out, h_n = F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=batch_sizes,
                                   reverse=reverse)
        else:
            out, h_n = F.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=batch_sizes,
                                   reverse=reverse)
        return lw.cat([out.reshape(-1), h_n.reshape(-1) * 2, c0.reshape(-1) * 0])
    assert_gradcheck(layer, *arrays)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_packed_lstm_with_projection_matches_torch():
    ours, reference = twins("LSTM", 3, 6, num_layers=2, bidirectional=True, proj_size=2)
    arrays = [random(7, len(LENGTHS), 3, seed=4), random(4, len(LENGTHS), 2, seed=5),
              random(4, len(LENGTHS), 6, seed=6)]
    run_both(ours, reference, arrays, packed_call("LSTM", True, False))


@pytest.mark.parametrize("kind,extra", KINDS, ids=["rnn", "lstm", "gru", "rnn_relu"])
def test_inference_projects_in_chunks_and_matches_training_forward(kind, extra, monkeypatch):
    from layerwise.nn.functional import recurrent_base
    monkeypatch.setattr(recurrent_base, "PROJECTION_CHUNK_ROWS", 7)   # 1-2 steps per chunk
    ours, reference = twins(kind, 3, 4, num_layers=2, bidirectional=True, **extra)
    x = random(9, len(LENGTHS), 3, seed=8)
    for lengths in (None, LENGTHS):
        data = lw.tensor(x)
        if lengths:
            data = rnn_utils.pack_padded_sequence(data, lengths, enforce_sorted=False)
        with lw.no_grad():
            out, state = ours(data)
        expected, t_state = reference(torch.tensor(x) if not lengths else
                                      torch.nn.utils.rnn.pack_padded_sequence(
                                          torch.tensor(x), lengths, enforce_sorted=False))
        out = out.data if lengths else out
        expected = expected.data if lengths else expected
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-5)
        h_n = state[0] if kind == "LSTM" else state
        t_h_n = t_state[0] if kind == "LSTM" else t_state
        np.testing.assert_allclose(h_n.numpy(), t_h_n.detach().numpy(), atol=1e-5)
