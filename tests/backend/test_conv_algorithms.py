"""Every convolution algorithm equals the direct reference; the per-shape choice works."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise.backend import conv_select
from layerwise.backend.conv import conv2d_direct, conv2d_direct_backward
from tests.backend.test_conv import CONFIGS, _operands
from tests.helpers import assert_gradcheck, assert_matches_torch, random


def _cases():
    for name, config in CONFIGS.items():
        (n, c, _, _), (o, kh, kw), stride, padding, dilation, groups = config
        for algorithm in conv_select.ALGORITHMS:
            if conv_select.applicable(algorithm, stride, dilation, groups, padding,
                                      (o, c // groups, kh, kw)):
                yield name, algorithm


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config,algorithm", list(_cases()))
def test_algorithm_matches_direct_forward_and_backward(config, algorithm, dtype):
    x, weight, bias, geometry = _operands(CONFIGS[config], dtype)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    conv = conv_select.make(algorithm, x, weight, geometry["stride"], geometry["padding"],
                            geometry["dilation"], geometry["groups"])
    y = conv.forward(bias)
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, conv2d_direct(x, weight, bias, **geometry), **tol)
    g = random(*y.shape, seed=4, dtype=dtype)
    grad_x, grad_w = conv.backward(g)
    ref_x, ref_w, _ = conv2d_direct_backward(x, weight, g, **geometry)
    assert grad_x.dtype == dtype and grad_w.dtype == dtype
    np.testing.assert_allclose(grad_x, ref_x, **tol)
    np.testing.assert_allclose(grad_w, ref_w, **tol)
    conv.release()


@pytest.mark.parametrize("algorithm", conv_select.ALGORITHMS)
def test_each_algorithm_through_the_op_matches_torch_and_gradcheck(algorithm):
    x, w, b = random(2, 3, 7, 6, seed=1), random(4, 3, 3, 3, seed=2), random(4, seed=3)
    with conv_select.algorithm(algorithm):
        assert_matches_torch(lambda *t: lw.nn.functional.conv2d(*t, padding=1),
                             lambda *t: torch.nn.functional.conv2d(*t, padding=1), x, w, b)
        assert_gradcheck(lambda *t: lw.nn.functional.conv2d(*t, padding=(2, 1)), x, w, b)


def test_backward_only_what_is_needed():
    x, w = random(2, 3, 9, 9, seed=1), random(4, 3, 5, 5, seed=2)
    padding = ((2, 2), (2, 2))
    for algorithm in conv_select.ALGORITHMS:
        if not conv_select.applicable(algorithm, (1, 1), (1, 1), 1, padding, w.shape, x.dtype):
            continue                       # the direct loops without numba
        conv = conv_select.make(algorithm, x, w, (1, 1), padding, (1, 1), 1)
        y = conv.forward()
        grad_x, grad_w = conv.backward(y, need_input=False)
        assert grad_x is None and grad_w.shape == w.shape
        conv.release()


def test_auto_measures_once_per_shape_and_remembers(monkeypatch):
    monkeypatch.setattr(conv_select, "_forced", None)
    monkeypatch.setattr(conv_select, "_choices", {})
    monkeypatch.setattr(conv_select, "_sightings", {})
    monkeypatch.setattr(conv_select, "MIN_MEASURED_FLOPS", 0)
    calls = []
    original = conv_select._time
    monkeypatch.setattr(conv_select, "_time", lambda name, *a, **k: calls.append(name) or
                        original(name, *a, **k))
    x = lw.tensor(random(2, 3, 10, 10), requires_grad=True)
    conv = lw.nn.Conv2d(3, 4, 5, padding=2)
    conv(x).sum().backward()
    assert calls == [] and not conv_select.choices()   # first sighting: a default, no timing
    for _ in range(3):
        conv(x).sum().backward()
    applicable = [a for a in conv_select.ALGORITHMS
                  if conv_select.applicable(a, (1, 1), (1, 1), 1, ((2, 2), (2, 2)), (4, 3, 5, 5))]
    assert sorted(calls) == sorted(applicable)   # each timed once, then cached
    (key, choice), = conv_select.choices().items()
    assert choice in conv_select.ALGORITHMS and key[0] == (2, 3, 10, 10)
    with lw.no_grad():   # inference is a different workload, measured once it repeats
        for _ in range(conv_select.INFERENCE_SIGHTINGS - 1):
            conv(x)
        assert len(conv_select.choices()) == 1
        conv(x)
    assert len(conv_select.choices()) == 2


def test_frequency_methods_are_not_tried_where_they_cannot_win():
    assert not conv_select._worth_trying("fft", (8, 16, 14, 14), (32, 16, 1, 1), ((0, 0), (0, 0)))
    assert not conv_select._worth_trying("dft", (8, 3, 224, 224), (64, 3, 7, 7), ((3, 3), (3, 3)))
    assert not conv_select._worth_trying("fft", (8, 64, 112, 112), (64, 64, 3, 3), ((1, 1), (1, 1)))
    assert conv_select._worth_trying("dft", (64, 32, 14, 14), (64, 32, 5, 5), ((2, 2), (2, 2)))


def test_strided_or_dilated_convolutions_never_use_fft():
    assert not conv_select.applicable("fft", (2, 2), (1, 1), 1)
    assert not conv_select.applicable("fft", (1, 1), (2, 2), 1)
    assert not conv_select.applicable("dft", (2, 1), (1, 1), 1)
    assert not conv_select.applicable("gemm", (1, 1), (1, 1), 2)
    with conv_select.algorithm("fft"):
        choice = conv_select.choose((1, 2, 8, 8), (2, 2, 3, 3), np.float32, (2, 2),
                                    ((0, 0), (0, 0)), (1, 1), 1, True)
    assert choice == "gemm_batched"


def test_unknown_algorithm_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown convolution algorithm 'winograd'"):
        conv_select.set_algorithm("winograd")


def test_large_inference_batches_are_convolved_in_pieces():
    from layerwise.nn.functional import conv as conv_module
    x, w, b = random(conv_module.INFERENCE_CHUNK + 7, 2, 6, 6, seed=1), random(3, 2, 3, 3), random(3)
    with lw.no_grad():
        y = lw.nn.functional.conv2d(lw.tensor(x), lw.tensor(w), lw.tensor(b), padding=1)
    np.testing.assert_allclose(y.numpy(), conv2d_direct(x, w, b, (1, 1), ((1, 1), (1, 1))),
                               rtol=1e-5, atol=1e-5)
