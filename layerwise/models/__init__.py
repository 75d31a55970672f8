"""The model zoo: the seeds' networks and the classic architectures."""
from .lenet import lenet5  # noqa: F401
from .registry import MODELS, get_model, list_models, register_model  # noqa: F401
from .seeds import mlp, seed003_cnn, seed003_cnn_bn, seed004_cnn  # noqa: F401
from .summary import summary  # noqa: F401
