"""Saliency and Grad-CAM computed by the library's backward pass, on models whose answer
is known by hand."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.viz.saliency import grad_cam, plot_saliency, saliency_map

PIXEL = (3, 5)


def one_pixel_model(size=8):
    """Class 1's score depends on pixel PIXEL only (through a ReLU layer); class 0's on none."""
    lw.manual_seed(0)
    hidden, out = nn.Linear(size * size, 4), nn.Linear(4, 2)
    with lw.no_grad():
        hidden.weight.zero_()
        hidden.weight[:, PIXEL[0] * size + PIXEL[1]] = lw.tensor([1.0, 2.0, -1.0, 0.5])
        hidden.bias.fill_(0.1)
        out.weight.copy_(np.array([[0, 0, 0, 0], [1.0, 1.0, 1.0, 1.0]], np.float32))
    return nn.Sequential(nn.Flatten(), hidden, nn.ReLU(), out)


def test_saliency_of_a_one_pixel_model_lights_that_pixel_only():
    model = one_pixel_model()
    image = np.full((1, 8, 8), 0.5, np.float32)
    result = saliency_map(model, image, target=1)
    assert result.map.shape == (8, 8) and result.target == 1
    expected = np.zeros((8, 8), np.float32)
    expected[PIXEL] = 1.0 + 2.0 + 0.5        # the ReLU units that are on: 0.6, 1.1, 0.35 > 0
    np.testing.assert_allclose(result.map, expected, rtol=1e-6)
    np.testing.assert_array_equal(saliency_map(model, image, target=0).map, 0)


def test_saliency_leaves_the_model_as_it_was():
    model = one_pixel_model()
    model.train()
    saliency_map(model, np.zeros((1, 8, 8), np.float32))
    assert model.training
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_grad_cam_of_an_identity_conv_is_the_relu_of_the_image():
    conv, linear = nn.Conv2d(1, 1, 1, bias=False), nn.Linear(16, 2)
    with lw.no_grad():
        conv.weight.fill_(1.0)
        linear.weight.copy_(np.stack([np.zeros(16), np.ones(16)]).astype(np.float32))
        linear.bias.zero_()
    model = nn.Sequential(conv, nn.Flatten(), linear)
    image = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 4, 4)
    # score_1 = Σ A, so ∂score/∂A = 1 everywhere, α = 1 and Grad-CAM = ReLU(A) = ReLU(image)
    result = grad_cam(model, image, target=1)
    np.testing.assert_allclose(result.map, np.maximum(image[0], 0), atol=1e-6)
    assert result.layer == "0" and result.coarse.shape == (4, 4)


def test_grad_cam_shape_and_sign_on_a_small_cnn(tmp_path):
    lw.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(6 * 6 * 6, 3))
    image = np.random.default_rng(0).random((1, 12, 12)).astype(np.float32)
    result = grad_cam(model, image)
    assert result.map.shape == (12, 12) and result.coarse.shape == (6, 6)
    assert (result.map >= 0).all() and (result.coarse >= 0).all()
    assert result.target == int(np.argmax(result.probabilities))
    first_layer = grad_cam(model, image, layer="0")
    assert first_layer.coarse.shape == (12, 12)
    saved = plot_saliency(image, [saliency_map(model, image), result], tmp_path / "s.png",
                          ["a", "b", "c"], true_label=2)
    assert saved.path.is_file() and saved.panels == 2
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        grad_cam(model, image, layer="nope")
    with pytest.raises(ValueError, match="outside 0..2"):
        saliency_map(model, image, target=3)
    with pytest.raises(ValueError, match="no Conv2d layer"):
        grad_cam(one_pixel_model(), np.zeros((1, 8, 8), np.float32))
