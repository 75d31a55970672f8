"""Fixtures of the backend tests."""
import pytest

from layerwise.backend import parallel


@pytest.fixture
def two_threads():
    """layerwise's work on two threads (whatever pool runs it), restored afterwards."""
    previous = parallel.get_num_threads()
    parallel.set_num_threads(2)
    yield
    parallel.set_num_threads(previous)
