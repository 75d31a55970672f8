"""The global random number generator: ``lw.manual_seed(s)`` makes runs repeatable.

Everything random in layerwise (initialization, dropout masks, shuffling,
augmentation) draws from ``get_rng()`` unless given its own generator.
"""
import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed):
    """Reseed the global generator; returns it."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


seed = manual_seed


def get_rng():
    """The global ``numpy.random.Generator``."""
    return _rng


def get_rng_state():
    return _rng.bit_generator.state


def set_rng_state(state):
    _rng.bit_generator.state = state


def normal_(array, mean=0.0, std=1.0, generator=None):
    """Fill ``array`` in place with N(mean, std²) samples."""
    rng = generator or _rng
    if array.dtype in (np.float32, np.float64):
        rng.standard_normal(out=array) if array.flags.c_contiguous else \
            array.__setitem__(..., rng.standard_normal(array.shape, dtype=array.dtype))
    else:
        array[...] = rng.standard_normal(array.shape)
    if std != 1.0:
        array *= std
    if mean != 0.0:
        array += mean
    return array


def uniform_(array, low=0.0, high=1.0, generator=None):
    """Fill ``array`` in place with U(low, high) samples."""
    rng = generator or _rng
    array[...] = rng.random(array.shape, dtype=np.float64) * (high - low) + low
    return array
