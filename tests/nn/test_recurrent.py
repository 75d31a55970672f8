"""RNN (tanh, ReLU), LSTM, GRU against PyTorch 2.13: outputs, final states and the
gradients of inputs, initial states and every parameter, over 1 and 2 layers, both
directions, batch_first both ways, with and without bias and initial state, sequence
lengths 1 to 21; float64 finite differences; state_dict keys, init and repr."""
import numpy as np
import pytest
import torch

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, random
from tests.nn.recurrent_parity import run_both, twins

KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
INPUT, HIDDEN, BATCH = 4, 5, 3


def call_layer(kind, with_state, batch_first):
    def call(module, tensors, framework):
        x = tensors[0]
        if not with_state:
            return module(x)
        if kind == "LSTM":
            return module(x, (tensors[1], tensors[2]))
        return module(x, tensors[1])
    return call


def layer_inputs(kind, length, layers, directions, batch_first, with_state, seed=0,
                 hidden=HIDDEN, batch=BATCH, dtype=np.float32):
    shape = (batch, length, INPUT) if batch_first else (length, batch, INPUT)
    arrays = [random(*shape, seed=seed, dtype=dtype)]
    if with_state:
        arrays.append(random(layers * directions, batch, hidden, seed=seed + 1, dtype=dtype))
        if kind == "LSTM":
            arrays.append(random(layers * directions, batch, HIDDEN, seed=seed + 2, dtype=dtype))
    return arrays


@pytest.mark.parametrize("kind,extra", KINDS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias,with_state", [(True, True), (False, False), (True, False),
                                             (False, True)])
def test_layer_matches_torch(kind, extra, num_layers, bidirectional, batch_first, bias,
                             with_state):
    directions = 2 if bidirectional else 1
    for length in (1, 21):
        ours, reference = twins(kind, INPUT, HIDDEN, num_layers=num_layers, bias=bias,
                                batch_first=batch_first, bidirectional=bidirectional,
                                seed=length, **extra)
        arrays = layer_inputs(kind, length, num_layers, directions, batch_first, with_state,
                              seed=length)
        run_both(ours, reference, arrays, call_layer(kind, with_state, batch_first))


@pytest.mark.parametrize("kind,extra", KINDS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("length", [2, 7])
def test_unbatched_input_matches_torch(kind, extra, length):
    ours, reference = twins(kind, INPUT, HIDDEN, num_layers=2, bidirectional=True, **extra)
    arrays = [random(length, INPUT, seed=3), random(4, HIDDEN, seed=4)]
    if kind == "LSTM":
        arrays.append(random(4, HIDDEN, seed=5))
    run_both(ours, reference, arrays, call_layer(kind, True, False))


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_with_projection_matches_torch(bidirectional):
    ours, reference = twins("LSTM", INPUT, 6, num_layers=2, proj_size=3,
                            bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    arrays = [random(9, BATCH, INPUT, seed=1), random(2 * directions, BATCH, 3, seed=2),
              random(2 * directions, BATCH, 6, seed=3)]
    run_both(ours, reference, arrays, call_layer("LSTM", True, False))
    assert list(ours.state_dict()) == list(reference.state_dict())


def test_float64_layers_match_torch_closely():
    for kind, extra in KINDS:
        ours, reference = twins(kind, INPUT, HIDDEN, num_layers=2, bidirectional=True,
                                dtype=np.float64, **extra)
        arrays = layer_inputs(kind, 12, 2, 2, False, True, dtype=np.float64)
        out = run_both(ours, reference, arrays, call_layer(kind, True, False), atol=1e-12,
                       rtol=1e-10)
        assert out[0].dtype == np.float64


def test_dropout_between_layers_only_in_training():
    lw.manual_seed(0)
    ours, reference = twins("LSTM", INPUT, HIDDEN, num_layers=2, dropout=0.5)
    x = random(6, BATCH, INPUT)
    ours.eval()
    reference.eval()
    run_both(ours, reference, [x], call_layer("LSTM", False, False))
    ours.train()
    a, b = (ours(lw.tensor(x))[0].detach().numpy() for _ in range(2))
    assert not np.allclose(a, b)                     # new masks each call
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.2)


@pytest.mark.parametrize("mode", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_functions_gradcheck(mode, reverse):
    hidden, gates = 3, {"lstm": 4, "gru": 3}.get(mode, 1)
    x, h0, c0 = random(4, 2, 2, seed=1), random(2, hidden, seed=2), random(2, hidden, seed=3)
    w_ih, w_hh = random(gates * hidden, 2, seed=4), random(gates * hidden, hidden, seed=5)
    b_ih, b_hh = random(gates * hidden, seed=6), random(gates * hidden, seed=7)

    def layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        if mode == "lstm":
            out, h_n, c_n = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
            return lw.cat([out.reshape(-1), h_n.reshape(-1) * 2, c_n.reshape(-1) * 3])
        if mode == "gru":
            out, h_n = F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
        else:
            out, h_n = F.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse,
                                   nonlinearity=mode)
        return lw.cat([out.reshape(-1), h_n.reshape(-1) * 2, c0.reshape(-1) * 0])
    if mode == "relu":   # keep pre-activations away from ReLU's kink
        x = np.abs(x) + 0.5
        w_ih, w_hh, b_ih, b_hh = (np.abs(w) * 0.5 for w in (w_ih, w_hh, b_ih, b_hh))
    assert_gradcheck(layer, x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def test_lstm_projection_gradcheck():
    x, h0, c0 = random(3, 2, 2, seed=1), random(2, 2, seed=2), random(2, 3, seed=3)
    w_ih, w_hh, w_hr = random(12, 2, seed=4), random(12, 2, seed=5), random(2, 3, seed=6)

    def layer(x, h0, c0, w_ih, w_hh, w_hr):
        out, h_n, c_n = F.lstm_layer(x, h0, c0, w_ih, w_hh, w_hr=w_hr)
        return lw.cat([out.reshape(-1), c_n.reshape(-1)])
    assert_gradcheck(layer, x, h0, c0, w_ih, w_hh, w_hr)


def test_only_final_state_used_still_trains_everything():
    """A classifier reading h_n alone: gradients reach inputs and all weights."""
    ours, reference = twins("LSTM", INPUT, HIDDEN, num_layers=2, bidirectional=True)

    def call(module, tensors, framework):
        return module(tensors[0])[1][0]
    run_both(ours, reference, [random(8, BATCH, INPUT)], call)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_keys_shapes_and_order_are_pytorchs(kind):
    ours = getattr(nn, kind)(10, 20, num_layers=2, bidirectional=True)
    reference = getattr(torch.nn, kind)(10, 20, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert list(getattr(nn, kind)(3, 4, bias=False).state_dict()) == \
        ["weight_ih_l0", "weight_hh_l0"]
    assert len(ours.all_weights) == 4 and len(ours.all_weights[0]) == 4


def test_init_is_uniform_within_one_over_sqrt_hidden():
    lw.manual_seed(0)
    layer = nn.LSTM(30, 100)
    bound = 1 / np.sqrt(100)
    for p in layer.parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    weight = layer.weight_hh_l0.detach().numpy()
    assert abs(weight.std() - bound / np.sqrt(3)) < 0.02 * bound


def test_repr_like_pytorch():
    assert repr(nn.LSTM(10, 20, 2, batch_first=True, bidirectional=True)) == \
        repr(torch.nn.LSTM(10, 20, 2, batch_first=True, bidirectional=True))
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == \
        repr(torch.nn.RNN(3, 4, nonlinearity="relu", bias=False))
    assert repr(nn.GRU(3, 4, num_layers=3, dropout=0.5)) == \
        repr(torch.nn.GRU(3, 4, num_layers=3, dropout=0.5))
    assert repr(nn.LSTM(8, 6, proj_size=2)) == repr(torch.nn.LSTM(8, 6, proj_size=2))


def test_outputs_are_float32_and_h_n_is_never_batch_first():
    layer = nn.GRU(INPUT, HIDDEN, num_layers=2, batch_first=True)
    out, h_n = layer(lw.randn(BATCH, 6, INPUT))
    assert out.shape == (BATCH, 6, HIDDEN) and out.dtype == np.float32
    assert h_n.shape == (2, BATCH, HIDDEN)
    np.testing.assert_allclose(out.detach().numpy()[:, -1], h_n.detach().numpy()[-1], atol=1e-6)


def test_no_grad_inference_records_nothing():
    layer = nn.LSTM(INPUT, HIDDEN)
    with lw.no_grad():
        out, (h_n, c_n) = layer(lw.randn(5, 2, INPUT))
    assert out.grad_fn is None and h_n.grad_fn is None and not out.requires_grad
