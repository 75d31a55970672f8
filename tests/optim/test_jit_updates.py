"""The compiled optimizer updates (numba) give bit-identical results to the NumPy code."""
import numpy as np
import pytest

from layerwise import nn, optim
from layerwise.backend import jit
from tests.optim.parity import run, two_groups

pytestmark = pytest.mark.skipif(not jit.available(), reason="numba is in the [test] extra")

CASES = [
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (optim.Adam, dict(lr=0.01, maximize=True, betas=(0.8, 0.99), eps=1e-6)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.SGD, dict(lr=0.05)),
    (optim.SGD, dict(lr=0.05, weight_decay=0.01, maximize=True)),
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    (optim.SGD, dict(lr=0.05, momentum=0.8, ema=True)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, maximize=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.Adagrad, dict(lr=0.1)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2)),
    (optim.Adagrad, dict(lr=0.1, maximize=True)),
]


def assert_histories_equal(compiled, reference):
    for step, (a, b) in enumerate(zip(compiled, reference)):
        for name in b:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{name} after step {step + 1}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer_class, options", CASES)
def test_compiled_update_equals_numpy_update(optimizer_class, options, dtype):
    compiled = run("lw", optimizer_class, options, dtype=dtype, steps=8)
    with jit.disabled():
        reference = run("lw", optimizer_class, options, dtype=dtype, steps=8)
    assert_histories_equal(compiled, reference)


@pytest.mark.parametrize("optimizer_class, options", CASES[::3])
def test_compiled_update_with_param_groups(optimizer_class, options):
    compiled = run("lw", optimizer_class, options, steps=4, groups=two_groups)
    with jit.disabled():
        reference = run("lw", optimizer_class, options, steps=4, groups=two_groups)
    assert_histories_equal(compiled, reference)


def big_run(optimizer_class, options, steps=3):
    """A parameter big enough for the multi-threaded split, with gradients that vary."""
    rng = np.random.default_rng(0)
    weight = nn.Parameter(rng.standard_normal((600, 700)).astype(np.float32))
    optimizer = optimizer_class([weight], **options)
    for step in range(steps):
        weight.grad = nn.Parameter(rng.standard_normal(weight.shape).astype(np.float32))
        optimizer.step()
    state = optimizer.state_dict()["state"][0]
    return weight.data.copy(), {k: v.copy() for k, v in state.items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("optimizer_class, options", [CASES[1], CASES[9], CASES[12], CASES[16]])
def test_compiled_update_of_a_large_parameter_on_several_threads(optimizer_class, options):
    weight, state = big_run(optimizer_class, options)
    with jit.disabled():
        reference_weight, reference_state = big_run(optimizer_class, options)
    np.testing.assert_array_equal(weight, reference_weight)
    assert state.keys() == reference_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], reference_state[key], err_msg=key)


def test_noncontiguous_gradient_takes_the_numpy_path():
    weight = nn.Parameter(np.ones((4, 3), np.float32))
    weight.grad = nn.Parameter(np.arange(12, dtype=np.float32).reshape(3, 4).T)
    optim.SGD([weight], lr=0.5).step()
    np.testing.assert_array_equal(weight.data, 1 - 0.5 * np.arange(12.0).reshape(3, 4).T)
