"""The compiled LSTM/GRU backward steps (numba) give the gradients of NumPy's code: bit for
bit, except the float32 LSTM's, whose register tiles add dA_k W_hh,k over the gates in
their own order (``jit_lstm_steps``): to float32 rounding."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.backend import fast_tanh, jit

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba (the [test] extra) turned on")


@pytest.fixture(autouse=True)
def exact_tanh():
    """Bit-identity of the backward kernels: both runs use NumPy's tanh in the forward."""
    with fast_tanh.exact():
        yield


def gradients(layer_class, dtype, **options):
    lw.manual_seed(0)
    layer = layer_class(5, 6, **options)
    if dtype == np.float64:
        layer.double()
    rng = np.random.default_rng(1)
    x = lw.tensor(rng.standard_normal((7, 3, 5)).astype(dtype), requires_grad=True)
    out, _ = layer(x)
    (out * lw.tensor(rng.standard_normal(out.shape).astype(dtype))).sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_class, options", [
    (nn.LSTM, {}), (nn.LSTM, dict(num_layers=2, bidirectional=True)),
    (nn.LSTM, dict(proj_size=4)), (nn.LSTM, dict(bias=False)),
    (nn.GRU, {}), (nn.GRU, dict(num_layers=2, bidirectional=True)), (nn.GRU, dict(bias=False)),
])
def test_recurrent_gradients_with_and_without_numba(layer_class, options, dtype):
    compiled = gradients(layer_class, dtype, **options)
    with jit.disabled():
        reference = gradients(layer_class, dtype, **options)
    tiled = layer_class is nn.LSTM and dtype == np.float32 and "proj_size" not in options
    for a, b in zip(compiled, reference):
        _assert_same(a, b, tiled)


def _assert_same(got, expected, tiled):
    if tiled:
        np.testing.assert_allclose(got, expected, rtol=1e-5,
                                   atol=1e-6 * max(1.0, np.abs(expected).max()))
        assert not np.array_equal(got, np.zeros_like(got))
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("layer_class", [nn.LSTM, nn.GRU])
def test_packed_sequences_with_and_without_numba(layer_class):
    from layerwise.nn.utils.rnn import pack_padded_sequence

    def run():
        lw.manual_seed(0)
        layer = layer_class(4, 5, batch_first=True)
        x = lw.tensor(np.random.default_rng(2).standard_normal((3, 6, 4)).astype(np.float32),
                      requires_grad=True)
        out, state = layer(pack_padded_sequence(x, [6, 4, 1], batch_first=True))
        h = state[0] if isinstance(state, tuple) else state
        (h * h).sum().backward()
        return [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]

    compiled = run()
    with jit.disabled():
        reference = run()
    for a, b in zip(compiled, reference):
        _assert_same(a, b, layer_class is nn.LSTM)


@pytest.mark.parametrize("layer_class, options", [
    (nn.LSTM, {}), (nn.LSTM, dict(bidirectional=True, bias=False)), (nn.GRU, {}),
    (nn.GRU, dict(num_layers=2, bias=False))])
@pytest.mark.parametrize("training", [True, False])
def test_fused_float32_forward_steps_stay_within_float32_rounding(layer_class, options,
                                                                  training):
    """The compiled forward step (rational tanh) against the NumPy step (exact tanh)."""
    def forward(fast):
        lw.manual_seed(0)
        layer = layer_class(5, 6, **options)
        x = lw.tensor(np.random.default_rng(1).standard_normal((9, 4, 5)).astype(np.float32) * 3,
                      requires_grad=training)
        fast_tanh.set_enabled(fast)
        try:
            if training:
                out, _ = layer(x)
                out.sum().backward()
            else:
                with lw.no_grad():          # inference: no gates kept for backward
                    out, _ = layer(x)
        finally:
            fast_tanh.set_enabled(False)
        return [out.detach().numpy()] + ([x.grad.numpy()] if training else [])

    for fast, exact in zip(forward(True), forward(False)):
        assert not np.array_equal(fast, exact)       # the compiled step did run
        np.testing.assert_allclose(fast, exact, rtol=1e-5, atol=2e-6)


def test_step_kernels_split_over_rows_give_the_same_results(monkeypatch):
    """The native pool's twins (a range of rows per thread) equal one call on all rows."""
    from layerwise.backend import jit, jit_recurrent, native
    if not (jit.available() and native.active()):
        pytest.skip("needs the native pool")
    rng = np.random.default_rng(0)
    blocks = [rng.standard_normal((37, 16)).astype(np.float32) for _ in range(11)]
    split = [b.copy() for b in blocks]
    jit_recurrent.lstm_forward_step_f32(*blocks)
    jit_recurrent.lstm_forward_step_f32_parallel(*split, 3)
    for whole, parts in zip(blocks, split):
        np.testing.assert_array_equal(whole, parts)
    monkeypatch.setattr(jit_recurrent, "MIN_ROWS", 1)
    grads = [rng.standard_normal((37, 16)).astype(np.float32) for _ in range(11)]
    copies = [g.copy() for g in grads]
    jit_recurrent.gru_backward_step(*grads, np.float32(1))
    jit_recurrent.rows(jit_recurrent.gru_backward_step, *copies, np.float32(1))
    for whole, parts in zip(grads, copies):
        np.testing.assert_array_equal(whole, parts)
