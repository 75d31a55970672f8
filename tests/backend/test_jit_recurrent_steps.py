"""The compiled step loops of the LSTM and the GRU (``backend.jit_lstm_steps``,
``jit_gru_steps``) give the same outputs, final states and gradients as the
step-by-step path they replace, packed batches and both directions included."""
import numpy as np
import pytest

import layerwise as lw
import layerwise.nn.functional.gru as gru_module
import layerwise.nn.functional.lstm as lstm_module
from layerwise import nn
from layerwise.backend import fast_tanh, jit, native
from layerwise.nn.utils import rnn as rnn_utils
from tests.helpers import random

pytestmark = pytest.mark.skipif(not (jit.enabled() and fast_tanh.usable(np.zeros(1, np.float32))),
                                reason="needs numba's compiled kernels")


def _step_by_step(monkeypatch):
    for module in (lstm_module, gru_module):
        monkeypatch.setattr(module, "gemm_function", lambda dtype: None)


def _run(layer, x, state=None, lengths=None, train=False):
    """(outputs, h_n, c_n, gradients of inputs and weights) as arrays."""
    x = lw.tensor(x, requires_grad=train)
    inputs = x if lengths is None else rnn_utils.pack_padded_sequence(x, lengths,
                                                                      enforce_sorted=False)
    for p in layer.parameters():
        p.grad = None
    if isinstance(layer, nn.GRU) and state is not None:
        state = state[0]
    if not train:
        with lw.no_grad():
            out, final = layer(inputs, state)
    else:
        out, final = layer(inputs, state)
    h, c = final if isinstance(final, tuple) else (final, final)
    out = out if lengths is None else rnn_utils.pad_packed_sequence(out)[0]
    grads = []
    if train:
        ((out * out).sum() + (h * c).sum()).backward()
        grads = [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
    return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy()] + grads


CASES = [  # (input, hidden, layers, bidirectional, bias, batch, length, packed, state)
    (8, 16, 1, False, True, 4, 6, False, False),
    (5, 7, 2, True, True, 3, 5, True, True),          # odd sizes, packed, both directions
    (4, 33, 1, True, False, 5, 4, True, False),        # no bias: no column of ones
    (6, 12, 1, False, True, 1, 3, False, True),        # batch 1
    (64, 96, 1, False, True, 40, 20, False, False),    # enough work for both threads
    (6, 40, 1, True, True, 20, 7, True, True),         # rows per thread, packed, reversed
    (3, 70, 1, True, True, 4, 6, True, True),          # units per thread (3 panels), packed
]


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("train", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", CASES)
def test_compiled_steps_equal_the_step_by_step_path(case, train, kind, monkeypatch):
    size, hidden, layers, bidirectional, bias, batch, length, packed, with_state = case
    lw.manual_seed(0)
    layer = getattr(nn, kind)(size, hidden, layers, bias=bias, bidirectional=bidirectional)
    x = random(length, batch, size, seed=1)
    directions = 2 if bidirectional else 1
    state = (lw.tensor(random(layers * directions, batch, hidden, seed=2)),
             lw.tensor(random(layers * directions, batch, hidden, seed=3))) if with_state else None
    lengths = list(np.random.default_rng(4).integers(1, length + 1, batch)) if packed else None
    if packed:
        lengths[0] = length
    compiled = _run(layer, x, state, lengths, train)
    _step_by_step(monkeypatch)
    reference = _run(layer, x, state, lengths, train)
    for got, expected in zip(compiled, reference):    # float32 sums in another order
        np.testing.assert_allclose(got, expected, rtol=1e-5,
                                   atol=1e-6 * max(1.0, np.abs(expected).max()))


def _count_steps(monkeypatch, module, name, table_at):
    """Patch ``module.name`` (a compiled step loop) to record how many steps each call runs
    (the length of its argument ``table_at``, the table of steps)."""
    calls = []
    original = getattr(module, name)
    monkeypatch.setattr(module, name,
                        lambda *args: calls.append(args[table_at].shape[0]) or original(*args))
    return calls


needs_pool = pytest.mark.skipif(not native.active(), reason="the compiled loops run on the "
                                "native pool (not started with LAYERWISE_NUM_THREADS=1)")


@needs_pool
def test_the_compiled_loop_is_what_runs(monkeypatch):
    calls = _count_steps(monkeypatch, lstm_module.jit_lstm_steps, "lstm_steps", 0)
    layer = nn.LSTM(8, 16)
    with lw.no_grad():
        layer(lw.tensor(random(20, 64, 8)))                   # 20 steps of 64 rows
    assert calls == [20]                                      # one call for all steps
    calls.clear()
    layer(lw.tensor(random(5, 2, 8))).__getitem__(0).sum().backward()
    assert calls == [5]                                       # training too


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_float64_backward_loop_equals_the_step_by_step_path(kind, monkeypatch):
    """float64 runs the forward step by step (no fast tanh) and the compiled backward loop."""
    lw.manual_seed(0)
    layer = getattr(nn, kind)(5, 7, 2, bidirectional=True).to(lw.float64)
    x = random(6, 3, 5, seed=1, dtype=np.float64)
    compiled = _run(layer, x, None, [6, 2, 4], train=True)
    _step_by_step(monkeypatch)
    reference = _run(layer, x, None, [6, 2, 4], train=True)
    for got, expected in zip(compiled, reference):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)


@needs_pool
def test_gru_compiled_loop_is_what_runs(monkeypatch):
    calls = _count_steps(monkeypatch, gru_module.jit_gru_steps, "gru_steps", 2)
    with lw.no_grad():
        nn.GRU(8, 16)(lw.tensor(random(20, 64, 8)))
    assert sum(calls) == 20 and len(calls) == 3


def test_no_compiled_loop_without_the_native_pool(monkeypatch):
    """After a fork or with another threading layer, the parallel loops must not run."""
    from layerwise.backend import blas, native
    assert blas.gemm_function(np.float32) is not None or not native.active()
    monkeypatch.setattr(native, "active", lambda: False)
    assert blas.gemm_function(np.float32) is None
    called = []
    monkeypatch.setattr(lstm_module.jit_lstm_steps, "lstm_steps", lambda *a: called.append(1))
    with lw.no_grad():
        out, _ = nn.LSTM(4, 8)(lw.tensor(random(3, 2, 4)))
    assert not called and out.shape == (3, 2, 8)


@pytest.mark.parametrize("hidden, size, bias", [(16, 8, True), (33, 5, False), (70, 1, True)])
def test_weight_panels_packed_in_one_pass_equal_the_per_gate_reference(hidden, size, bias):
    from layerwise.backend import jit_lstm_steps
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4 * hidden, size)).astype(np.float32)
    b = rng.standard_normal(4 * hidden).astype(np.float32)
    order, scale = np.array(lstm_module.ORDER), lstm_module.SCALE.astype(np.float32)
    blocks = (w.reshape(4, hidden, size)[order] * scale[:, None, None]).transpose(0, 2, 1)
    if bias:
        blocks = np.concatenate([blocks, (b.reshape(4, hidden)[order] * scale[:, None])[:, None]],
                                axis=1)
    expected = jit_lstm_steps.pack_gate_panels(blocks)
    got = np.full(expected.shape, np.nan, np.float32)
    jit_lstm_steps.pack_weight_panels(w, b if bias else b[:0], order, scale, got)
    np.testing.assert_array_equal(got, expected)
    assert got.shape == (4, -(-hidden // 32), size + bias, 32)


@pytest.mark.parametrize("hidden, state", [(256, 256), (40, 70), (5, 1), (33, 32)])
def test_backward_panels_packed_from_the_rows_equal_the_per_gate_reference(hidden, state):
    """pack_gate_rows(W_hh) == pack_gate_panels(gate_blocks(W_hh)): the panels of the
    backward's dA_k W_hh,k, straight from PyTorch's (4H, P) rows, zero-padded past P."""
    w = np.random.default_rng(1).standard_normal((4 * hidden, state)).astype(np.float32)
    order = np.array(lstm_module.ORDER)
    expected = lstm_module.jit_lstm_steps.pack_gate_panels(w.reshape(4, hidden, state)[order])
    got = np.full(expected.shape, np.nan, np.float32)
    lstm_module.jit_lstm_steps.pack_gate_rows(w, order, got)
    np.testing.assert_array_equal(got, expected)
    assert got.shape == (4, -(-state // 32), hidden, 32)


@pytest.mark.parametrize("batch", [1, 3, 4, 8, 17])
@pytest.mark.parametrize("save", [False, True])
def test_the_three_ways_of_sharing_the_lstm_steps_give_the_same_bits(batch, save):
    """steps_by_rows, steps_by_gates and steps_by_units (what lstm_steps picks from by
    the batch) on the same packed sequences (lengths 6 down to 2), 2 threads."""
    from layerwise.backend import jit_lstm_steps as steps
    hidden, inputs, length = 70, 5, 6
    rng = np.random.default_rng(batch)
    w_hh = (rng.standard_normal((4 * hidden, hidden)) * 0.2).astype(np.float32)
    w_ih = (rng.standard_normal((4 * hidden, inputs)) * 0.2).astype(np.float32)
    bias = rng.standard_normal(4 * hidden).astype(np.float32)
    order, scale = np.array(lstm_module.ORDER), lstm_module.SCALE.astype(np.float32)
    panels_h = np.empty((4, 3, hidden + 1, 32), np.float32)
    panels_x = np.empty((4, 3, inputs, 32), np.float32)
    steps.pack_weight_panels(w_hh, bias, order, scale, panels_h)
    steps.pack_weight_panels(w_ih, bias[:0], order, scale, panels_x)
    sizes = [batch] * 3 + [max(1, batch - 1)] * 2 + [max(1, batch // 2)]
    meta = np.array([(sum(sizes[:t]), sum(sizes[:t + 1]), n) for t, n in enumerate(sizes)],
                    dtype=np.int64)
    rows = sum(sizes)
    x = rng.standard_normal((rows, inputs)).astype(np.float32)
    h0 = rng.standard_normal((batch, hidden)).astype(np.float32)
    results = []
    for run in (steps.steps_by_rows, steps.steps_by_gates, steps.steps_by_units):
        h = np.ones((batch, hidden + 1), np.float32)                 # [h 1]
        h[:, :hidden] = h0
        c = np.linspace(-1, 1, batch * hidden, dtype=np.float32).reshape(batch, hidden)
        sums = np.zeros((4, batch, 96), np.float32)
        gates = np.zeros((4, rows, hidden), np.float32)
        out = np.zeros((rows, hidden), np.float32)
        keep = [np.zeros((rows, hidden), np.float32) for _ in range(3)]
        if not save:
            keep[2] = np.zeros((batch, hidden), np.float32)
        run(meta, x, panels_h, panels_x, h, c, sums, gates, out, *keep, save, 2)
        results.append([out, h, c] + ([gates] + keep if save else []))
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            np.testing.assert_array_equal(got, expected)
    assert np.abs(results[0][0]).max() > 0.1                  # the outputs were written
