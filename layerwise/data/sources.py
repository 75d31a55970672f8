"""Where dataset files are looked for, checked, and (as a last resort) downloaded.

Search order for a dataset called NAME:

1. an explicit directory (``--data-dir`` / the ``root`` argument);
2. ``$LAYERWISE_DATA/NAME``;
3. the user cache, ``$XDG_CACHE_HOME/layerwise/NAME`` (default ``~/.cache/layerwise/NAME``);
4. the system location ``/usr/share/datasets/NAME`` (Debian's ``dataset-fashion-mnist``);
5. a download from the official mirrors into the user cache: the archive's MD5
   is checked against the official value, then the file is moved into place
   atomically (written to a temporary name in the same directory, then renamed).

A file found on disk is accepted when its content matches the published checksum
of the decompressed file (so a recompressed copy, like Debian's, is fine) or, for
an archive, the checksum of the official archive. Where no checksum is known, the
IDX header and size checks still apply (``idx.parse_idx``).
"""
import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .idx import CorruptFileError, decompress, is_gzip

SYSTEM_DIR = Path("/usr/share/datasets")


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its official name and checksums."""
    name: str                 # e.g. "train-images-idx3-ubyte.gz"
    archive_md5: str = None   # MD5 of the official (compressed) file
    content_md5: str = None   # MD5 of the decompressed content


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    mirrors: tuple
    files: dict               # role ("train_images", ...) -> FileSpec
    classes: tuple
    install_hint: str = ""
    aliases: tuple = field(default=())


class DatasetNotFoundError(FileNotFoundError):
    """The files are nowhere on disk and could not be downloaded."""


def user_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "layerwise"


def candidate_dirs(name, root=None):
    """The directories searched for dataset ``name``, in order."""
    dirs = []
    if root is not None:
        dirs.append(Path(root))
        dirs.append(Path(root) / name)
    if os.environ.get("LAYERWISE_DATA"):
        dirs.append(Path(os.environ["LAYERWISE_DATA"]) / name)
    dirs.append(user_cache_dir() / name)
    dirs.append(SYSTEM_DIR / name)
    return dirs


def _md5(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verified_content(path, spec):
    """The decompressed bytes of ``path`` after checking them against ``spec``'s checksums."""
    path = Path(path)
    raw = path.read_bytes()
    content = decompress(raw, str(path))
    compressed = is_gzip(raw)
    if spec.content_md5 and _md5(content) == spec.content_md5:
        return content
    if spec.archive_md5 and compressed and _md5(raw) == spec.archive_md5:
        return content
    if spec.content_md5 or (spec.archive_md5 and compressed):
        raise CorruptFileError(
            f"{path}: checksum mismatch (content MD5 {_md5(content)}, expected "
            f"{spec.content_md5 or 'n/a'}; archive MD5 {_md5(raw)}, expected "
            f"{spec.archive_md5 or 'n/a'}). The file is damaged or not the official one: "
            f"delete it and fetch it again")
    return content


def _find_on_disk(spec, file, root):
    stem = file.name[:-3] if file.name.endswith(".gz") else file.name
    for directory in candidate_dirs(spec.name, root):
        for candidate in (directory / file.name, directory / stem):
            if candidate.is_file():
                return candidate
    return None


def _download(spec, file, timeout=30):
    """Fetch ``file`` from the first mirror that answers; verify; move atomically."""
    target_dir = user_cache_dir() / spec.name
    target_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in spec.mirrors:
        url = mirror.rstrip("/") + "/" + file.name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
        except OSError as err:
            errors.append(f"{url}: {err}")
            continue
        if file.archive_md5 and _md5(data) != file.archive_md5:
            errors.append(f"{url}: MD5 {_md5(data)} != official {file.archive_md5}")
            continue
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=file.name, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target_dir / file.name)
        return target_dir / file.name
    raise DatasetNotFoundError("; ".join(errors) or "no mirror configured")


def locate(spec, role, root=None, download=True):
    """Path of the ``role`` file of dataset ``spec``, searching then downloading."""
    file = spec.files[role]
    found = _find_on_disk(spec, file, root)
    if found is not None:
        return found
    download_error = None
    if download:
        try:
            return _download(spec, file)
        except DatasetNotFoundError as err:
            download_error = str(err)
    looked = "\n  ".join(str(d) for d in candidate_dirs(spec.name, root))
    message = (f"{spec.name}: {file.name} not found. Looked in:\n  {looked}\n"
               f"Download from {', '.join(spec.mirrors)} "
               f"{'failed: ' + download_error if download_error else 'was disabled'}.\n")
    if spec.install_hint:
        message += spec.install_hint + "\n"
    message += ("Or put the files in one of the directories above, or pass --data-dir DIR "
                "(or set LAYERWISE_DATA).")
    raise DatasetNotFoundError(message)
