"""Same convolution algorithm throughout, as in tests/models (no per-shape measurement)."""
from tests.models.conftest import one_convolution_algorithm  # noqa: F401
