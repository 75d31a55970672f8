"""Character and word vocabularies: ids by frequency, min_count and the unknown token,
round trips, JSON save/load, and clear errors."""
import json

import numpy as np
import pytest

from layerwise.text import CharVocab, WordVocab, load_vocab, vocab_from_dict

TEXT = "abracadabra! a cab."


def test_char_vocab_orders_by_frequency_then_code_point():
    vocab = CharVocab.build(TEXT)
    assert vocab.itos[0] == "\ufffd"                      # the unknown token comes first
    assert vocab.itos[1:6] == ["a", "b", " ", "c", "r"]   # 7, 3, then 2 each by code point
    ids = vocab.encode("abba")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "abba"
    assert vocab.decode(vocab.encode(TEXT)) == TEXT


def test_min_count_maps_rare_characters_to_unknown():
    vocab = CharVocab.build(TEXT, min_count=2)
    assert "d" not in vocab and "!" not in vocab and "a" in vocab
    assert vocab.decode(vocab.encode("dab")) == "\ufffdab"
    assert vocab["z"] == vocab.unk_id == 0
    with pytest.raises(ValueError, match="no token occurs at least 100 times"):
        CharVocab.build(TEXT, min_count=100)


def test_word_vocab_tokenizes_words_and_punctuation():
    vocab = WordVocab.build("The cat sat. The cat's hat, the end!", min_count=1)
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and vocab.pad_id == 0
    assert vocab.tokenize("Don't stop, (now)!") == ["don't", "stop", ",", "(", "now", ")", "!"]
    ids = vocab.encode("The cat sat on the mat.")
    assert vocab.decode(ids) == "the cat sat <unk> the <unk>."
    assert vocab.itos[2] == "the"                            # most frequent word first
    assert vocab.decode([0, vocab["cat"], 0]) == "cat"       # padding is skipped


def test_word_vocab_min_count_and_max_size():
    text = "a a a b b c"
    assert WordVocab.build(text, min_count=2).itos == ["<pad>", "<unk>", "a", "b"]
    assert WordVocab.build(text, max_size=3).itos == ["<pad>", "<unk>", "a"]
    assert WordVocab.build("A a", lower=False).itos[2:] == ["A", "a"]


@pytest.mark.parametrize("kind", [CharVocab, WordVocab])
def test_save_and_load_round_trip_as_json(tmp_path, kind):
    vocab = kind.build("héllo wörld, héllo!", min_count=1)
    path = vocab.save(tmp_path / "vocab.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["kind"] == vocab.kind and record["tokens"] == vocab.itos
    loaded = load_vocab(path)
    assert loaded == vocab and type(loaded) is kind
    assert vocab_from_dict(vocab.to_dict()) == vocab
    np.testing.assert_array_equal(loaded.encode("héllo"), vocab.encode("héllo"))


def test_errors_are_clear(tmp_path):
    no_unk = CharVocab(tokens=["a", "b"], unk_token=None)
    with pytest.raises(KeyError, match="token 'c' is not in the vocabulary of 2 tokens"):
        no_unk.encode("abc")
    with pytest.raises(IndexError, match="id 5 is out of range for 2 tokens"):
        no_unk.decode([0, 5])
    with pytest.raises(ValueError, match="single characters"):
        CharVocab(tokens=["ab"])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON vocabulary"):
        load_vocab(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="not a layerwise vocabulary"):
        vocab_from_dict({"kind": "bpe"})
