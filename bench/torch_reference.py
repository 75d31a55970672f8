"""The reference models written in PyTorch, layer for layer the same as layerwise's.

Used by the benchmarks only (torch is a test/benchmark dependency, never imported by
the library). Module names match, so state_dicts move between the two as is.
"""
import torch
from torch import nn


def seed003_cnn(num_classes=10, in_channels=1, image_size=28, dropout=0.5):
    side = image_size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * side * side, 1024), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(1024, num_classes))


def seed003_cnn_bn(num_classes=10, in_channels=1, image_size=28, dropout=0.5):
    side = image_size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 5, padding="same", bias=False), nn.BatchNorm2d(32),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding="same", bias=False), nn.BatchNorm2d(64),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * side * side, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(1024, num_classes))


def seed004_cnn(num_classes=10, in_channels=1, image_size=28):
    side = (image_size - 4) // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, 10, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(10 * side * side, 200), nn.ReLU(),
        nn.Linear(200, num_classes))


def lenet5(num_classes=10, in_channels=1, image_size=28):
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes))


def mlp(num_classes=10, in_channels=1, image_size=28, hidden=(256, 128)):
    layers, width = [nn.Flatten()], in_channels * image_size * image_size
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


MODELS = {"seed003-cnn": seed003_cnn, "seed003-cnn-bn": seed003_cnn_bn,
          "seed004-cnn": seed004_cnn, "lenet5": lenet5, "mlp": mlp}


def get_model(name, **kwargs):
    return MODELS[name](**kwargs)


def copy_weights(layerwise_model, torch_model):
    """Give the torch model the layerwise model's weights (same keys, strict)."""
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in
             layerwise_model.state_dict().items()}
    torch_model.load_state_dict(state, strict=True)
    return torch_model
