"""RNNCell, LSTMCell, GRUCell against PyTorch (batched and unbatched, with and without bias
and state), unrolled loops against the layers, gradient checks, and errors naming the layer."""
import numpy as np
import pytest

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from tests.helpers import assert_gradcheck, random
from tests.nn.recurrent_parity import run_both, twins

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {})]


def cell_call(kind, with_state):
    def call(module, tensors, framework):
        if not with_state:
            return module(tensors[0])
        if kind == "LSTMCell":
            return module(tensors[0], (tensors[1], tensors[2]))
        return module(tensors[0], tensors[1])
    return call


@pytest.mark.parametrize("kind,extra", CELLS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_torch(kind, extra, batched, bias, with_state):
    ours, reference = twins(kind, 4, 5, bias=bias, **extra)
    lead = (3,) if batched else ()
    arrays = [random(*lead, 4, seed=1)]
    if with_state:
        arrays += [random(*lead, 5, seed=2)] + ([random(*lead, 5, seed=3)]
                                                if kind == "LSTMCell" else [])
    run_both(ours, reference, arrays, cell_call(kind, with_state))


def test_unrolled_lstm_cell_equals_lstm_layer():
    layer = nn.LSTM(3, 4)
    cell = nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = lw.tensor(random(6, 2, 3))
    out, (h_n, c_n) = layer(x)
    h = c = lw.zeros(2, 4)
    for t in range(6):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out.detach().numpy()[t], atol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), c_n.detach().numpy()[0], atol=1e-6)


def test_cell_functions_gradcheck():
    x, h, c = random(2, 3, seed=1), random(2, 2, seed=2), random(2, 2, seed=3)
    assert_gradcheck(lambda x, h, w, u, b: F.rnn_tanh_cell(x, h, w, u, b, b), x, h,
                     random(2, 3, seed=4), random(2, 2, seed=5), random(2, seed=6))
    assert_gradcheck(lambda x, h, c, w, u: lw.cat(list(F.lstm_cell(x, (h, c), w, u)), 1), x, h, c,
                     random(8, 3, seed=4), random(8, 2, seed=5))
    assert_gradcheck(lambda x, h, w, u, b1, b2: F.gru_cell(x, h, w, u, b1, b2), x, h,
                     random(6, 3, seed=4), random(6, 2, seed=5), random(6, seed=6),
                     random(6, seed=7))


def test_cell_keys_repr_and_bad_input():
    cell = nn.GRUCell(10, 20, bias=False)
    assert list(cell.state_dict()) == ["weight_ih", "weight_hh"]
    assert repr(cell) == "GRUCell(10, 20, bias=False)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    with pytest.raises(RuntimeError, match=r"GRUCell: input has inconsistent input_size: got 7 "
                                           r"expected 10"):
        cell(lw.zeros(2, 7))
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        nn.LSTMCell(3, 4)(lw.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match=r"RNNCell: Expected hx of shape \(2, 4\) \(the input "
                                           r"is batched\), got \(3, 4\)"):
        nn.RNNCell(3, 4)(lw.zeros(2, 3), lw.zeros(3, 4))
    with pytest.raises(RuntimeError, match=r"LSTMCell: Expected hx\[1\] of shape \(4,\)"):
        nn.LSTMCell(3, 4)(lw.zeros(3), (lw.zeros(4), lw.zeros(5)))
