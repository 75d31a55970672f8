"""Where dataset files are looked for, checksums, and the message when they are missing."""
import numpy as np
import pytest

from layerwise.data import (CorruptFileError, DatasetNotFoundError, get_dataset, load_idx_pair,
                            write_idx)
from layerwise.data.datasets import SPECS, spec_for
from layerwise.data.sources import candidate_dirs
from tests.tiny_data import NAMES, tiny_arrays, write_tiny


def test_search_order(offline, monkeypatch):
    monkeypatch.setenv("LAYERWISE_DATA", str(offline / "env"))
    dirs = candidate_dirs("fashion-mnist", root=offline / "explicit")
    assert dirs == [offline / "explicit", offline / "explicit" / "fashion-mnist",
                    offline / "env" / "fashion-mnist", offline / "cache" / "layerwise" / "fashion-mnist",
                    offline / "system" / "fashion-mnist"]


def test_the_first_place_that_has_the_files_wins(tiny_dataset, offline):
    other = tiny_arrays(seed=1)
    write_tiny(offline / "explicit", other)          # explicit --data-dir comes first ...
    spec = SPECS["tiny"]
    # ... but its checksums differ from the registered ones, so it is rejected loudly
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        load_idx_pair("tiny", train=True, root=offline / "explicit")
    images, labels = load_idx_pair("tiny", train=True)   # $LAYERWISE_DATA
    np.testing.assert_array_equal(images, tiny_dataset["train_images"])
    assert spec.name == "tiny"


def test_system_directory_is_searched_last(tiny_dataset, offline, monkeypatch):
    monkeypatch.delenv("LAYERWISE_DATA")
    write_tiny(offline / "system" / "tiny", tiny_dataset)
    ds = get_dataset("tiny", train=False)
    assert len(ds) == 60 and ds.images.shape == (60, 1, 8, 8)
    assert ds.images.dtype == np.float32 and 0 <= ds.images.min() and ds.images.max() <= 1


def test_uncompressed_copies_are_accepted(tiny_dataset, offline, monkeypatch):
    monkeypatch.delenv("LAYERWISE_DATA")
    for role, array in tiny_dataset.items():
        write_idx(offline / "cache" / "layerwise" / "tiny" / NAMES[role][:-3], array)
    assert len(get_dataset("tiny")) == 300


def test_missing_files_offline_give_one_clear_message(offline):
    with pytest.raises(DatasetNotFoundError) as err:
        get_dataset("fashion-mnist", root=offline / "nowhere")
    text = str(err.value)
    assert "train-images-idx3-ubyte.gz not found" in text
    assert str(offline / "system" / "fashion-mnist") in text
    assert "network is unreachable" in text
    assert "apt-get install dataset-fashion-mnist" in text
    assert "--data-dir" in text


def test_corrupt_file_is_never_trained_on(tiny_dataset, offline):
    path = offline / "data" / "tiny" / NAMES["train_labels"]
    write_idx(path, np.zeros(300, np.uint8))  # valid IDX, wrong content
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        get_dataset("tiny")


def test_official_checksums_are_known():
    fashion = spec_for("Fashion_MNIST")
    assert fashion.files["train_images"].archive_md5 == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fashion.files["train_images"].content_md5 == "f4a8712d7a061bf5bd6d2ca38dc4d50a"
    assert spec_for("mnist").files["test_labels"].archive_md5 == "ec29112dd5afa0611ce80d1b7f02629c"
    with pytest.raises(KeyError, match="unknown dataset"):
        spec_for("cifar-1000")


def test_download_verifies_the_archive_and_moves_it_atomically(offline, monkeypatch):
    import gzip
    import hashlib
    import io
    import urllib.request

    from layerwise.data.sources import DatasetSpec, FileSpec, locate
    payload = gzip.compress(b"\0\0\x08\x01\0\0\0\x02\x05\x06", mtime=0)
    good = hashlib.md5(payload).hexdigest()
    served = []

    def fake_urlopen(url, timeout=None):
        served.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    spec = DatasetSpec("dl", ("http://mirror.invalid/a/",), {"x": FileSpec("x-idx1.gz", good)}, ())
    path = locate(spec, "x")
    assert served == ["http://mirror.invalid/a/x-idx1.gz"]
    assert path == offline / "cache" / "layerwise" / "dl" / "x-idx1.gz"
    assert not list(path.parent.glob("*.part"))
    bad = DatasetSpec("dl2", ("http://mirror.invalid/a/",), {"x": FileSpec("x-idx1.gz", "0" * 32)}, ())
    with pytest.raises(DatasetNotFoundError, match="MD5"):
        locate(bad, "x")
    assert not (offline / "cache" / "layerwise" / "dl2" / "x-idx1.gz").exists()
