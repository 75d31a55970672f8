"""Corpus readers: UTF-8 files and a fake fortunes directory laid out like Debian's
(category files with '%' separators, .dat indexes, .u8 symlinks)."""
import pytest

from layerwise.text import (CorpusNotFoundError, fortune_files, fortunes_text, load_corpus,
                            read_fortunes, read_text)


@pytest.fixture
def fortunes_dir(tmp_path, monkeypatch):
    directory = tmp_path / "fortunes"
    directory.mkdir()
    (directory / "wisdom").write_text("Look before you leap.\n%\nHe who hesitates\nis lost.\n%\n")
    (directory / "art").write_text("  /\\_/\\\n ( o.o )\n%\n")
    (directory / "zippy").write_text("Are we having FUN yet?\n%\n\n%\nYow!\n")
    (directory / "wisdom.dat").write_bytes(b"\x00\x00\x00\x02binary index")
    (directory / "wisdom.u8").symlink_to(directory / "wisdom")
    monkeypatch.delenv("LAYERWISE_FORTUNES", raising=False)
    return directory


def test_fortune_files_skip_indexes_links_and_art(fortunes_dir):
    assert [p.name for p in fortune_files(fortunes_dir)] == ["wisdom", "zippy"]
    assert [p.name for p in fortune_files(fortunes_dir, exclude=())] == ["art", "wisdom", "zippy"]
    assert [p.name for p in fortune_files(fortunes_dir, categories=["art"])] == ["art"]
    with pytest.raises(ValueError, match=r"unknown fortune categories \['nope'\]"):
        fortune_files(fortunes_dir, categories=["nope"])


def test_read_fortunes_splits_on_percent_lines(fortunes_dir):
    assert read_fortunes(fortunes_dir) == ["Look before you leap.", "He who hesitates\nis lost.",
                                           "Are we having FUN yet?", "Yow!"]
    text = fortunes_text(fortunes_dir)
    assert text.startswith("Look before you leap.\n\nHe who hesitates\nis lost.\n\n")
    assert text.endswith("Yow!\n")


def test_load_corpus_default_is_fortunes_and_env_overrides(fortunes_dir, monkeypatch):
    monkeypatch.setenv("LAYERWISE_FORTUNES", str(fortunes_dir))
    assert load_corpus() == load_corpus("fortunes") == fortunes_text(fortunes_dir)


def test_utf8_files_and_clear_errors(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("Übermäßig schön — naïve café\n", encoding="utf-8")
    assert load_corpus(str(path)) == "Übermäßig schön — naïve café\n"
    with pytest.raises(CorpusNotFoundError, match="missing.txt not found"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="is not utf-8 text"):
        read_text(tmp_path / "latin1.txt")
    with pytest.raises(CorpusNotFoundError, match="apt-get install fortunes"):
        fortune_files(tmp_path / "nowhere")
