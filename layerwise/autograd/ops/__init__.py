"""The differentiable tensor operations (each a ``Function`` with its backward)."""
from .arithmetic import add, div, matmul, mul, neg, pow, sub  # noqa: F401
from .elementwise import (abs, clamp, clip, exp, log, maximum, minimum, relu,  # noqa: F401
                          sigmoid, sqrt, tanh, where)
from .reduction import (amax, amin, argmax, argmin, logsumexp, max, mean, min,  # noqa: F401
                        norm, std, sum, var)
from .shape import (cast, cat, chunk, clone, concatenate, expand, flatten, flip,  # noqa: F401
                    getitem, pad, permute, repeat, reshape, split, squeeze, stack,
                    swapaxes, transpose, unbind, unsqueeze)
