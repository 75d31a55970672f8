"""Byte-level BPE: training, round trips, JSON and GPT-2 files, and the same ids as a
tokenizer trained with Hugging Face ``tokenizers`` and saved to vocab.json/merges.txt."""
import json

import numpy as np
import pytest

from layerwise.text import BPETokenizer, load_tokenizer
from layerwise.text.bpe import bytes_to_unicode, pretokenize, train_merges

TEXT = ("The quick brown fox jumps over the lazy dog. The dog doesn't care; the fox's "
        "jumping is 100% pointless!\nIt's 2024 and naïve cafés serve crème brûlée. ") * 20
UNSEEN = "Foxes can't jump over 3 sleepy dogs — 日本語 ½ ² <|endoftext|>  spaced   out\n\n"


def test_bytes_to_unicode_is_a_bijection_onto_printable_characters():
    table = bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert table[ord("A")] == "A" and table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ"
    assert all(c.isprintable() for c in table.values())


def test_pretokenize_follows_gpt2_pattern():
    assert pretokenize("Hello world's  2024!!") == ["Hello", "Ġworld", "'s", "Ġ", "Ġ2024", "!!"]


def test_train_merges_picks_the_most_frequent_pair_first():
    merges = train_merges({"ab": 5, "abc": 3, "bc": 1}, vocab_size=258, min_frequency=1,
                          initial_size=256)
    assert merges == [("a", "b"), ("ab", "c")]


def test_training_round_trip_and_json(tmp_path):
    tok = BPETokenizer.train(TEXT, vocab_size=400)
    assert len(tok) <= 400 and tok.special_tokens == ["<|endoftext|>"]
    for text in (TEXT[:300], UNSEEN, ""):
        assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode("The quick brown fox")) < len("The quick brown fox") / 2
    assert tok.encode("<|endoftext|>").tolist() == [tok.token_to_id("<|endoftext|>")]
    again = load_tokenizer(tok.save(tmp_path / "bpe.json"))
    assert again == tok and again.encode(UNSEEN).tolist() == tok.encode(UNSEEN).tolist()
    files = BPETokenizer.from_directory(tok.save_files(tmp_path / "gpt2"))
    assert files.encode(UNSEEN).tolist() == tok.encode(UNSEEN).tolist()
    assert (tmp_path / "gpt2" / "merges.txt").read_text().startswith("#version: 0.2\n")


def test_reader_encodes_like_hugging_face_tokenizers(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT + UNSEEN, encoding="utf-8")
    trained = tokenizers.ByteLevelBPETokenizer()
    trained.train([str(corpus)], vocab_size=420, min_frequency=2,
                  special_tokens=["<|endoftext|>"], show_progress=False)
    trained.save_model(str(tmp_path))
    ours = BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert len(ours) == trained.get_vocab_size()
    for text in (TEXT[:500], UNSEEN, "Don't   stop\tme now!! 42 ... ünïcödé", "a" * 40):
        assert ours.encode(text).tolist() == trained.encode(text).ids, text
        assert ours.decode(trained.encode(text).ids) == trained.decode(trained.encode(text).ids,
                                                                       skip_special_tokens=False)


def test_bad_files_and_ids_are_clear_errors(tmp_path):
    tok = BPETokenizer.train(TEXT, vocab_size=300)
    with pytest.raises(IndexError, match="id 99999 is out of range for 300 tokens"):
        tok.decode([99999])
    (tmp_path / "vocab.json").write_text(json.dumps({"a": 0, "b": 1}))
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b\n")
    with pytest.raises(ValueError, match="vocab and merges do not belong together"):
        BPETokenizer.from_directory(tmp_path)
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b c\n")
    with pytest.raises(ValueError, match="line 2 is not a merge"):
        BPETokenizer.from_directory(tmp_path)
    with pytest.raises(ValueError, match="vocab_size must be at least 257"):
        BPETokenizer.train(TEXT, vocab_size=100)
    assert np.array_equal(tok.encode(""), np.zeros(0, np.int64))
