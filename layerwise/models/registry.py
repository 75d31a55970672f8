"""Models by name: ``get_model('seed003-cnn', num_classes=10, in_channels=1)``.

Names are matched case-insensitively with ``_`` and ``-`` alike (``vgg16_bn`` is
``vgg16-bn``). Every builder takes ``num_classes``, ``in_channels`` and ``image_size``
(which the ImageNet architectures only check against their smallest usable input).
"""
from .alexnet import alexnet, zfnet
from .densenet import densenet121, densenet161, densenet169, densenet201, densenet_bc
from .googlenet import googlenet
from .lenet import lenet5
from .resnet import resnet18, resnet34, resnet50, resnet101, resnet152
from .resnet_cifar import resnet20, resnet32, resnet44, resnet56, resnet110
from .seeds import mlp, seed003_cnn, seed003_cnn_bn, seed004_cnn
from .vgg import (vgg11, vgg11_bn, vgg11_cifar, vgg13, vgg13_bn, vgg13_cifar, vgg16, vgg16_bn,
                  vgg16_cifar, vgg19, vgg19_bn, vgg19_cifar)


def _key(name):
    return name.lower().replace("_", "-")


MODELS = {
    "seed003-cnn": seed003_cnn,
    "seed003-cnn-bn": seed003_cnn_bn,
    "seed004-cnn": seed004_cnn,
    "lenet5": lenet5,
    "mlp": mlp,
}
MODELS.update({_key(builder.__name__): builder for builder in (
    # the classic ImageNet CNNs (torchvision's structure and state_dict keys)
    alexnet, zfnet, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
    googlenet, resnet18, resnet34, resnet50, resnet101, resnet152,
    densenet121, densenet161, densenet169, densenet201,
    # small-input (28x28 / 32x32) variants
    resnet20, resnet32, resnet44, resnet56, resnet110,
    vgg11_cifar, vgg13_cifar, vgg16_cifar, vgg19_cifar, densenet_bc)})


# the unsupervised families: autoencoders, VAE, GANs, RBM, DBN (models/generative.py)
from .generative import GENERATIVE_BUILDERS  # noqa: E402

MODELS.update(GENERATIVE_BUILDERS)

# the sequence models: char-lstm, rnn-classifier, lstm-forecaster (models/sequence.py)
from .sequence import SEQUENCE_BUILDERS  # noqa: E402

MODELS.update(SEQUENCE_BUILDERS)

# the transformer family: gpt-mini, seq2seq, text-classifier (issue 9)
from .gpt import gpt_mini  # noqa: E402
from .seq2seq import seq2seq  # noqa: E402
from .text_classifier import text_classifier  # noqa: E402

MODELS.update({"gpt-mini": gpt_mini, "seq2seq": seq2seq, "text-classifier": text_classifier})


def register_model(name, builder):
    MODELS[_key(name)] = builder
    return builder


def list_models():
    return sorted(MODELS)


def get_model(name, **kwargs):
    """Build the named model; keyword arguments go to its builder (num_classes, ...)."""
    key = _key(name)
    if key not in MODELS:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    model = MODELS[key](**kwargs)
    model.name = key
    return model
