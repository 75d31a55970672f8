"""The IDX reader: round trip, and truncated / padded / damaged files rejected."""
import gzip

import numpy as np
import pytest

from layerwise.data import CorruptFileError, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) % 100).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a-idx3{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_with_the_mnist_magic(tmp_path):
    path = write_idx(tmp_path / "labels-idx1", np.array([7, 2, 1], np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_truncated_file_is_reported(tmp_path):
    path = write_idx(tmp_path / "images-idx3", np.zeros((10, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CorruptFileError, match=r"truncated: header announces shape \(10, 4, 4\) "
                                               r"\(160 bytes of data\), found 155 bytes"):
        read_idx(path)


def test_padded_file_is_reported(tmp_path):
    path = write_idx(tmp_path / "images-idx3", np.zeros((2, 2), np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(CorruptFileError, match="longer than its header says"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(CorruptFileError, match="not an IDX file"):
        read_idx(path)


def test_truncated_gzip_is_reported(tmp_path):
    path = write_idx(tmp_path / "images-idx3.gz", np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptFileError, match="gzip stream is damaged or truncated"):
        read_idx(path)


def test_damaged_gzip_fails_its_crc(tmp_path):
    content = write_idx(tmp_path / "raw-idx1", np.arange(5000, dtype=np.int32)).read_bytes()
    packed = bytearray(gzip.compress(content))
    packed[-6] ^= 0xFF  # flip bits of the CRC32 trailer
    path = tmp_path / "bad-idx1.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(CorruptFileError, match="damaged"):
        read_idx(path)
