"""Finding the parts of a model to look at: its conv layers, a layer by name, and a
single image as a batch, with the model in evaluation mode while we look."""
from contextlib import contextmanager

import numpy as np

from .. import nn
from ..autograd.factories import tensor

__all__ = ["conv_layers", "require_conv_layers", "get_layer", "as_batch", "evaluation",
           "frozen_parameters", "class_name"]


def conv_layers(model):
    """[(name, Conv2d)] in registration order (the forward order of a Sequential)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def require_conv_layers(model, what):
    """``conv_layers(model)``, or a ValueError naming ``what`` needed them."""
    layers = conv_layers(model)
    if not layers:
        kind = getattr(model, "name", type(model).__name__)
        raise ValueError(f"{what}: the model ({kind}) has no Conv2d layer, so it has no "
                         f"filters or feature maps to show")
    return layers


def get_layer(model, name):
    """The submodule called ``name`` (as in ``named_modules``), or a clear ValueError."""
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        choices = ", ".join(repr(n) for n, _ in conv_layers(model)) or "none"
        raise ValueError(f"no layer named {name!r} in the model (its conv layers: {choices})")
    return modules[name]


def as_batch(image, requires_grad=False):
    """An image (C, H, W) or (H, W) as a float32 batch of one, (1, C, H, W)."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"expected one image shaped (C, H, W) or (H, W), got shape "
                         f"{array.shape}")
    return tensor(array[None].copy(), requires_grad=requires_grad)


@contextmanager
def evaluation(model):
    """Evaluation mode (dropout off, batch norm on running statistics), restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextmanager
def frozen_parameters(model):
    """Parameters that do not collect gradients (only the input's and activations' do)."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad = False
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad = flag


def class_name(classes, index):
    """``classes[index]`` when class names are known, else the index as text."""
    return str(classes[index]) if classes is not None and index < len(classes) else str(index)
