"""The float32 rational tanh stays within 7 ulp of the exact function and keeps NaN, ±inf, ±0."""
import numpy as np

from layerwise.backend import fast_tanh


def _ulp_error(approx, x):
    exact = np.tanh(x.astype(np.float64))
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(approx.astype(np.float64) - exact) / spacing


def test_error_is_below_seven_ulp_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-12, 12, 1 << 21, dtype=np.float32),
                        (rng.standard_normal(1 << 16) * 1e-3).astype(np.float32),
                        np.float32([1e-30, -1e-40, 3.9e-4, 4.1e-4, 7.9, 8.9, 9.1, 88.0])])
    error = _ulp_error(fast_tanh.tanh(x), x)
    assert error.max() <= 7.0
    assert np.median(error) <= 1.0


def test_special_values():
    x = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45])
    y = fast_tanh.tanh(x)
    np.testing.assert_array_equal(y[:4], np.float32([0.0, -0.0, 1.0, -1.0]))
    assert np.signbit(y[1]) and np.isnan(y[4]) and y[5] == np.float32(1e-45)


def test_odd_and_bounded_and_split_over_threads_like_one_call():
    x = np.random.default_rng(1).standard_normal((3, 300_001)).astype(np.float32) * 4
    y = fast_tanh.tanh(x)
    np.testing.assert_array_equal(fast_tanh.tanh(-x), -y)
    assert np.all(np.abs(y) <= 1)
    one_call = np.empty_like(x)
    fast_tanh._tanh(one_call.reshape(-1), x.reshape(-1))
    np.testing.assert_array_equal(y, one_call)


def test_usable_only_for_contiguous_float32():
    a = np.zeros((4, 4), np.float32)
    assert fast_tanh.usable(a, a) == fast_tanh.jit.enabled()
    assert not fast_tanh.usable(a.astype(np.float64))
    assert not fast_tanh.usable(a[:, ::2])


def test_the_activation_takes_the_faster_tanh_of_this_machine(monkeypatch):
    a = np.ones((4, 5), np.float32)
    assert fast_tanh.preferred(a) in (True, False)
    assert not fast_tanh.preferred(a.astype(np.float64))
    monkeypatch.setattr(fast_tanh, "_beats_numpy", True)
    assert fast_tanh.preferred(a) == fast_tanh.usable(a)
    monkeypatch.setattr(fast_tanh, "_beats_numpy", False)
    assert not fast_tanh.preferred(a)
