"""Small synthetic IDX datasets written by the tests, and an offline network (fixtures)."""
import gzip
import hashlib
import urllib.request

import numpy as np
import pytest

from layerwise.data import DatasetSpec, FileSpec, register_dataset, write_idx
from layerwise.data import sources

NAMES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def tiny_arrays(n_train=300, n_test=60, size=8, classes=3, seed=0):
    """Images whose mean brightness encodes the class, so tiny models can learn them."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, classes, size=n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, size, size)) + labels[:, None, None] * 90
        out[f"{split}_images"] = images.astype(np.uint8)
        out[f"{split}_labels"] = labels
    return out


def write_tiny(directory, arrays):
    directory.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for role, array in arrays.items():
        path = write_idx(directory / NAMES[role], array)
        md5[role] = hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest()
    return md5


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, an empty user cache and an empty system directory."""
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LAYERWISE_DATA", raising=False)
    monkeypatch.setattr(sources, "SYSTEM_DIR", tmp_path / "system")
    return tmp_path


@pytest.fixture
def tiny_dataset(offline, monkeypatch):
    """A registered 3-class dataset 'tiny' of 8x8 images in $LAYERWISE_DATA/tiny."""
    arrays = tiny_arrays()
    md5 = write_tiny(offline / "data" / "tiny", arrays)
    register_dataset(DatasetSpec(
        name="tiny", mirrors=("http://example.invalid/tiny/",),
        files={role: FileSpec(NAMES[role], None, md5[role]) for role in NAMES},
        classes=("dark", "medium", "bright")))
    monkeypatch.setenv("LAYERWISE_DATA", str(offline / "data"))
    return arrays
