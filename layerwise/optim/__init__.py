"""Optimizers (PyTorch's ``torch.optim`` names and update rules) and lr schedulers."""
from . import lr_scheduler  # noqa: F401
from .adagrad import *  # noqa: F401,F403
from .adam import *  # noqa: F401,F403
from .combined import *  # noqa: F401,F403
from .optimizer import *  # noqa: F401,F403
from .rmsprop import *  # noqa: F401,F403
from .sgd import *  # noqa: F401,F403
