"""Fixtures shared by all test packages."""
import pytest

from layerwise.backend import parallel
from tests.tiny_data import offline, tiny_dataset  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def unscaled_thread_splits():
    """Split work at the callers' own thresholds, whatever this machine's hand-off costs,
    so the tests that feed arrays just above a threshold exercise the multi-threaded path."""
    parallel.set_split_scale(1)
    yield
    parallel.set_split_scale(None)
