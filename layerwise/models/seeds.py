"""The course's own networks (the "seeds"), for 28x28 grey images and 10 classes.

- ``seed003-cnn``: conv 5x5x32 'same' + ReLU + 2x2 max pool, conv 5x5x64 'same' +
  ReLU + 2x2 max pool, FC 1024 + ReLU + dropout 0.5, FC 10.
  Shapes: 1x28x28 -> 32x28x28 -> 32x14x14 -> 64x14x14 -> 64x7x7 -> 3136 -> 1024 -> 10.
- ``seed003-cnn-bn``: the same with batch normalization after each conv and the
  hidden FC layer (before the ReLU), for the augmentation + batch norm variant.
- ``seed004-cnn``: conv 10 filters 5x5 + ReLU + 2x2 max pool, FC 200 (+ ReLU: the
  notes list only "FC 200, FC 10"; without a nonlinearity the two FC layers would
  collapse into one linear map), FC 10.
  Shapes: 1x28x28 -> 10x24x24 -> 10x12x12 -> 1440 -> 200 -> 10.
- ``mlp``: 784-256-128-10 with ReLU.
"""
from .. import nn


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


def mlp(num_classes=10, in_channels=1, image_size=28, hidden=(256, 128)):
    layers, width = [nn.Flatten()], in_channels * image_size * image_size
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
