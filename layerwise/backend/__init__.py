"""Array kernels on plain ndarrays, with no autograd.

This is the one place that picks the array module. Today it is NumPy; a CuPy
port would change :func:`get_array_module` and nothing above this package.
Importing it also tunes malloc for array workloads (see ``memory``).
"""
import numpy

from .memory import tune_malloc

xp = numpy
tune_malloc()


def get_array_module(*arrays):
    """Return the array module (``numpy``) that owns ``arrays`` (Chainer's idiom)."""
    return xp
