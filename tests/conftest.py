"""Fixtures shared by all test packages."""
from tests.tiny_data import offline, tiny_dataset  # noqa: F401
