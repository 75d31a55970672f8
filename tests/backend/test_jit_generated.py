"""Generated kernel sources: written once to the cache directory, imported from there."""
import os

import pytest

from layerwise.backend import jit

SOURCE = "def twice(x):\n    return 2 * x\n"


def test_generated_source_is_written_once_and_imported(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_CACHE_DIR", str(tmp_path))
    module = jit.generated_module("example", SOURCE)
    assert module.twice(21) == 42 and module.__cached_on_disk__
    files = [f for f in os.listdir(tmp_path / "kernels") if f.endswith(".py")]
    assert len(files) == 1 and files[0].startswith("example_")
    again = jit.generated_module("example", SOURCE)
    assert again.twice(1) == 2
    assert [f for f in os.listdir(tmp_path / "kernels") if f.endswith(".py")] == files
    jit.generated_module("example", SOURCE + "\n")      # other source, other file
    assert len([f for f in os.listdir(tmp_path / "kernels") if f.endswith(".py")]) == 2


def test_unwritable_cache_directory_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LAYERWISE_CACHE_DIR", str(blocker))
    module = jit.generated_module("example", SOURCE)
    assert module.twice(3) == 6 and not module.__cached_on_disk__


@pytest.mark.skipif(not jit.available(), reason="numba is in the [test] extra")
def test_generated_kernels_compile_from_the_cached_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERWISE_CACHE_DIR", str(tmp_path))
    module = jit.generated_module("example_numba", SOURCE)
    compiled = jit.numba.njit(cache=True)(module.twice)
    assert compiled(4) == 8
    assert os.listdir(tmp_path / "kernels" / "__pycache__")   # numba's index and code
