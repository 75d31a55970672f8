"""The IDX file format of the MNIST family (LeCun et al.), read and written.

Layout: two zero bytes, a type code, the number of dimensions d, then d
big-endian uint32 sizes, then the values in row-major order, big-endian::

    0x00 0x00 | type | d | size_1 ... size_d | data

Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
Files may be gzipped (``.gz``). Every read checks the header and that the data has
exactly the announced size, so a truncated or padded file is reported, not used.
"""
import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

TYPE_CODES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODE_OF = {np.dtype(v).newbyteorder("=").str: k for k, v in TYPE_CODES.items()}


class CorruptFileError(ValueError):
    """A data file is truncated, padded, damaged or not what its checksum says."""


def is_gzip(raw):
    return raw[:2] == b"\x1f\x8b"


def decompress(raw, source="<bytes>"):
    """``raw`` itself, or its gzip decompression; gzip's CRC check catches damage."""
    if not is_gzip(raw):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise CorruptFileError(f"{source}: the gzip stream is damaged or truncated ({err}); "
                               f"delete the file and fetch it again") from None


def read_bytes(path):
    """The (decompressed, for ``.gz``) content of the file at ``path``."""
    return decompress(Path(path).read_bytes(), str(path))


def parse_idx(content, source="<bytes>"):
    """An ndarray from the bytes of an IDX file (validated header and size)."""
    if len(content) < 4:
        raise CorruptFileError(f"{source}: {len(content)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or code not in TYPE_CODES or ndim == 0:
        raise CorruptFileError(f"{source}: not an IDX file (header bytes "
                               f"{content[:4].hex(' ')}; expected 00 00, a type code in "
                               f"{sorted(hex(c) for c in TYPE_CODES)}, and a dimension count)")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise CorruptFileError(f"{source}: truncated in the header ({len(content)} bytes)")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    dtype = TYPE_CODES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    actual = len(content) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise CorruptFileError(f"{source}: {what}: header announces shape {shape} "
                               f"({expected} bytes of data), found {actual} bytes")
    array = np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path):
    """Read an IDX file (gzipped or not) into an ndarray."""
    return parse_idx(read_bytes(path), str(path))


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped when ``path`` ends with ``.gz``)."""
    array = np.asarray(array)
    code = CODE_OF.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(TYPE_CODES[code], copy=False).tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content, mtime=0) if path.suffix == ".gz" else content)
    return path
