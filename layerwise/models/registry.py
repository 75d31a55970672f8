"""Models by name: ``get_model('seed003-cnn', num_classes=10, in_channels=1)``."""
from .lenet import lenet5
from .seeds import mlp, seed003_cnn, seed003_cnn_bn, seed004_cnn

MODELS = {
    "seed003-cnn": seed003_cnn,
    "seed003-cnn-bn": seed003_cnn_bn,
    "seed004-cnn": seed004_cnn,
    "lenet5": lenet5,
    "mlp": mlp,
}


def register_model(name, builder):
    MODELS[name] = builder
    return builder


def list_models():
    return sorted(MODELS)


def get_model(name, **kwargs):
    """Build the named model; keyword arguments go to its builder (num_classes, ...)."""
    key = name.lower().replace("_", "-")
    if key not in MODELS:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    model = MODELS[key](**kwargs)
    model.name = key
    return model
