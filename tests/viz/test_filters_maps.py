"""Filters, feature maps and mistakes: the right numbers, files with the expected panels."""
import numpy as np
import pytest
from PIL import Image

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn
from layerwise.viz.feature_maps import feature_maps, plot_feature_maps
from layerwise.viz.filters import filter_images, plot_filters
from layerwise.viz.mistakes import confident_mistakes, plot_mistakes


def small_cnn(in_channels=1):
    lw.manual_seed(0)
    return nn.Sequential(nn.Conv2d(in_channels, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 10, 3), nn.ReLU(), nn.Flatten(), nn.Linear(90, 3))


IMAGE = np.random.default_rng(0).random((1, 12, 12)).astype(np.float32)


def test_filters_grid(tmp_path):
    model = small_cnn()
    saved = plot_filters(model, tmp_path / "f.png")
    assert saved.panels == 6 and Image.open(saved.path).width > 200
    assert plot_filters(model, tmp_path / "f4.png", max_filters=4).panels == 4
    assert plot_filters(model, tmp_path / "f2.png", layer="3").panels == 10
    rgb = plot_filters(small_cnn(3), tmp_path / "rgb.png")
    assert rgb.panels == 6
    images, how = filter_images(small_cnn(3)[0].weight.data)
    assert images.shape == (6, 3, 3, 3) and images.min() == 0 and "RGB" in how


def test_filters_need_a_conv_layer(tmp_path):
    with pytest.raises(ValueError, match="has no Conv2d layer"):
        plot_filters(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), tmp_path / "f.png")
    with pytest.raises(ValueError, match="not a conv layer"):
        plot_filters(small_cnn(), tmp_path / "f.png", layer="1")


def test_feature_maps_of_every_conv_layer(tmp_path):
    model = small_cnn()
    maps = feature_maps(model, IMAGE)
    assert [(name, m.shape) for name, m in maps] == [("0", (6, 10, 10)), ("3", (10, 3, 3))]
    conv = model[0]
    with lw.no_grad():
        direct = F.conv2d(lw.tensor(IMAGE[None]), conv.weight, conv.bias).numpy()[0]
    np.testing.assert_allclose(maps[0][1], direct, rtol=1e-6)
    saved = plot_feature_maps(model, IMAGE, tmp_path / "maps", max_maps=8)
    assert [s.panels for s in saved] == [6, 8]
    assert [s.path.name for s in saved] == ["feature_maps_1_0.png", "feature_maps_2_3.png"]
    assert all(s.path.is_file() for s in saved)


def test_mistakes_most_confident_first(tmp_path):
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.3, 0.7]])
    labels = np.array([0, 0, 1, 0, 1])
    # wrong: 1 (0.8), 2 (0.6), 3 (0.95)
    assert confident_mistakes(probabilities, labels).tolist() == [3, 1, 2]
    assert confident_mistakes(probabilities, labels, 2).tolist() == [3, 1]
    images = np.random.default_rng(0).random((5, 1, 6, 6))
    saved = plot_mistakes(images, labels, probabilities, tmp_path / "m.png", ["a", "b"])
    assert saved.panels == 3 and saved.path.is_file()
    none = plot_mistakes(images, probabilities.argmax(1), probabilities, tmp_path / "n.png")
    assert none.panels == 0 and none.path.is_file()
