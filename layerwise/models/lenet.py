"""LeNet-5 (LeCun et al., 1998), in its common modern form.

conv 6@5x5 (padding 2, so 28x28 inputs keep the 32x32 geometry of the paper) +
tanh + 2x2 average pool; conv 16@5x5 + tanh + 2x2 average pool; FC 120 + tanh,
FC 84 + tanh, FC 10. Shapes: 1x28x28 -> 6x28x28 -> 6x14x14 -> 16x10x10 -> 16x5x5
-> 400 -> 120 -> 84 -> 10; 61,706 parameters (the notes' "60k").
(The paper's sparse C3 connection table and RBF output layer are replaced by full
connections and a linear layer, as in most implementations.)
"""
from .. import nn


def lenet5(num_classes=10, in_channels=1, image_size=28):
    pad = 2 if image_size == 28 else 0
    side = ((image_size + 2 * pad - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=pad), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes))
