"""Corpora that work offline: any UTF-8 text file, and Debian's ``fortunes`` package.

``apt-get install fortunes`` puts a few MB of English text (quotations, jokes, poems,
short stories: "fortune cookies") under ``/usr/share/games/fortunes/``, one file per
category, each cookie ended by a line holding a single ``%``. The ``.dat`` files are
``strfile`` indexes and the ``.u8`` names are symlinks to the same text; both are
skipped. The ``art`` and ``ascii-art`` categories (pictures made of characters) are
left out by default: they are not language.

    read_fortunes()          -> list of cookies (str), in file order
    fortunes_text()          -> the cookies joined by blank lines, one string
    load_corpus("fortunes")  -> the same; load_corpus("book.txt") -> that file's text
"""
import os
from pathlib import Path

FORTUNES_DIR = Path("/usr/share/games/fortunes")
EXCLUDED_CATEGORIES = ("art", "ascii-art")
INSTALL_HINT = ("On Debian/Ubuntu: sudo apt-get install fortunes (plain English text in "
                "/usr/share/games/fortunes/). Or pass any UTF-8 text file instead.")


class CorpusNotFoundError(FileNotFoundError):
    """The text file or the fortunes directory does not exist."""


def read_text(path, encoding="utf-8"):
    """The whole text of ``path``, with a clear error when it is missing or not text."""
    path = Path(path)
    if not path.is_file():
        raise CorpusNotFoundError(f"text file {path} not found")
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not {encoding} text (byte 0x{err.object[err.start]:02x} "
                         f"at position {err.start}); convert it to UTF-8 first") from None


def fortunes_directory(directory=None):
    """The fortunes directory: ``directory``, ``$LAYERWISE_FORTUNES``, or the system one."""
    return Path(directory or os.environ.get("LAYERWISE_FORTUNES") or FORTUNES_DIR)


def fortune_files(directory=None, categories=None, exclude=EXCLUDED_CATEGORIES):
    """The category files (text, not ``.dat`` indexes or ``.u8`` links), sorted by name."""
    directory = fortunes_directory(directory)
    if not directory.is_dir():
        raise CorpusNotFoundError(f"fortunes not found: {directory} does not exist. "
                                  f"{INSTALL_HINT}")
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and not p.is_symlink() and not p.suffix)
    if categories is not None:
        wanted = set(categories)
        unknown = wanted - {p.name for p in files}
        if unknown:
            raise ValueError(f"unknown fortune categories {sorted(unknown)}; available: "
                             f"{', '.join(p.name for p in files)}")
        files = [p for p in files if p.name in wanted]
    else:
        files = [p for p in files if p.name not in set(exclude or ())]
    if not files:
        raise CorpusNotFoundError(f"no fortune files in {directory}. {INSTALL_HINT}")
    return files


def split_cookies(text):
    """The cookies of one fortune file: blocks ended by a line holding only '%'."""
    cookies, current = [], []
    for line in text.splitlines():
        if line.strip() == "%":
            cookies.append("\n".join(current).strip("\n"))
            current = []
        else:
            current.append(line.rstrip())
    cookies.append("\n".join(current).strip("\n"))
    return [c for c in cookies if c.strip()]


def read_fortunes(directory=None, categories=None, exclude=EXCLUDED_CATEGORIES):
    """Every cookie of the chosen categories, in file order (files sorted by name)."""
    cookies = []
    for path in fortune_files(directory, categories, exclude):
        cookies.extend(split_cookies(path.read_text(encoding="utf-8", errors="replace")))
    return cookies


def fortunes_text(directory=None, categories=None, exclude=EXCLUDED_CATEGORIES,
                  separator="\n\n"):
    """All cookies joined by ``separator`` (a blank line): one training text."""
    return separator.join(read_fortunes(directory, categories, exclude)) + "\n"


def load_corpus(source="fortunes", encoding="utf-8"):
    """The text of ``source``: 'fortunes' (the default corpus) or a path to a text file."""
    if source in (None, "fortunes"):
        return fortunes_text()
    return read_text(source, encoding)
