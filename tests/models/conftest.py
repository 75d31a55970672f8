"""The zoo's tests check architectures, not the choice of convolution algorithm: skip the
per-shape measurement of ``layerwise.backend.conv_select`` (seconds per new shape) by
using one algorithm throughout, when that module offers the switch."""
import contextlib

import pytest


@pytest.fixture(autouse=True, scope="package")
def one_convolution_algorithm():
    try:
        from layerwise.backend import conv_select
        context = conv_select.algorithm("gemm_batched")
    except (ImportError, AttributeError, ValueError):
        context = contextlib.nullcontext()
    with context:
        yield
