"""The differentiable operations of neural networks (PyTorch's ``torch.nn.functional``).

    import layerwise.nn.functional as F
    y = F.relu(F.conv2d(x, weight, bias, stride=1, padding='same'))

Each op is a ``Function`` (forward and backward side by side) in the file of its
family; this package only gathers them under one name.
"""
from ...autograd.ops import pad as _pad_widths  # noqa: F401
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .multi_head_attention import *  # noqa: F401,F403  (attention, issue 9)
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
