"""Decaying optimizer buffers are flushed before they turn subnormal (10-100x slower maths)."""
import numpy as np
import pytest

from layerwise import nn, optim

TINY = np.finfo(np.float32).tiny


def subnormals(array):
    return int(((array != 0) & (np.abs(array) < TINY)).sum())


@pytest.mark.parametrize("optimizer_class, options, keys", [
    (optim.SGD, dict(lr=0.1, momentum=0.9), ["momentum_buffer"]),
    (optim.SGD, dict(lr=0.1, momentum=0.5, nesterov=True), ["momentum_buffer"]),
    (optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True),
     ["square_avg", "grad_avg", "momentum_buffer"]),
    (optim.Adam, dict(lr=0.01, betas=(0.8, 0.9)), ["exp_avg", "exp_avg_sq"]),
])
def test_a_dead_unit_leaves_no_subnormal_in_the_buffers(optimizer_class, options, keys):
    """One gradient, then zeros (a dead ReLU unit): the buffers decay geometrically."""
    weight = nn.Parameter(np.ones(8, np.float32))
    optimizer = optimizer_class([weight], **options)
    weight.grad = nn.Parameter(np.full(8, 1.0, np.float32))
    optimizer.step()
    weight.grad = nn.Parameter(np.zeros(8, np.float32))
    seen = 0
    for _ in range(3000):                     # 0.9^n passes float32's tiny after ~840 steps
        optimizer.step()
        state = optimizer.state[weight]
        seen += sum(subnormals(state[key]) for key in keys)
    assert seen == 0
    assert all(np.all(optimizer.state[weight][key] == 0) for key in keys)
