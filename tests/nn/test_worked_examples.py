"""The course's hand-worked examples, reproduced digit for digit with layerwise's layers."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn


def test_sigmoid_network_2_2_2_forward_and_one_backprop_step():
    """The classic 2-2-2 sigmoid network worked by hand (squared error, learning rate 0.5).

    i1 = 0.05, i2 = 0.10;  w1..w4 into h1, h2 with b1 = 0.35;  w5..w8 into o1, o2 with
    b2 = 0.60;  targets 0.01, 0.99;  E = Σ ½ (target - out)².
    """
    hidden, output = nn.Linear(2, 2, dtype=np.float64), nn.Linear(2, 2, dtype=np.float64)
    network = nn.Sequential(hidden, nn.Sigmoid(), output, nn.Sigmoid())
    with lw.no_grad():
        hidden.weight.copy_(np.array([[0.15, 0.20], [0.25, 0.30]]))    # rows: h1, h2
        hidden.bias.copy_(np.array([0.35, 0.35]))
        output.weight.copy_(np.array([[0.40, 0.45], [0.50, 0.55]]))    # rows: o1, o2
        output.bias.copy_(np.array([0.60, 0.60]))
    x = lw.tensor(np.array([[0.05, 0.10]]))
    target = lw.tensor(np.array([[0.01, 0.99]]))

    out_hidden = network[1](network[0](x))
    np.testing.assert_allclose(out_hidden.detach().numpy(), [[0.593269992, 0.596884378]],
                               rtol=0, atol=1e-8)
    out = network(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), [[0.75136507, 0.772928465]],
                               rtol=0, atol=1e-8)
    error = 0.5 * nn.MSELoss(reduction="sum")(out, target)
    assert error.item() == pytest.approx(0.298371109, abs=1e-8)

    network.zero_grad()
    error.backward()
    learning_rate = 0.5
    with lw.no_grad():                       # plain gradient descent; biases stay as they are
        for layer in (hidden, output):
            layer.weight.sub_(learning_rate * layer.weight.grad.data)
    np.testing.assert_allclose(output.weight.detach().numpy(),
                               [[0.35891648, 0.408666186], [0.511301270, 0.561370121]],
                               rtol=0, atol=1e-8)
    np.testing.assert_allclose(hidden.weight.detach().numpy(),
                               [[0.149780716, 0.19956143], [0.24975114, 0.29950229]],
                               rtol=0, atol=1e-8)
    np.testing.assert_array_equal(hidden.bias.detach().numpy(), [0.35, 0.35])
    np.testing.assert_array_equal(output.bias.detach().numpy(), [0.60, 0.60])


def test_perceptron_with_step_activation_computes_logical_and():
    """One neuron with the Heaviside step fires only when w·x + b > 0 (w = (1, 1), b = -1.5)."""
    neuron = nn.Sequential(nn.Linear(2, 1), nn.Step())
    with lw.no_grad():
        neuron[0].weight.copy_(np.array([[1.0, 1.0]]))
        neuron[0].bias.copy_(np.array([-1.5]))
    inputs = lw.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(neuron(inputs).detach().numpy().ravel(), [0, 0, 0, 1])
