"""One tokenizer interface over characters, words and BPE: build, round trip, JSON."""
import numpy as np
import pytest

from layerwise.text import (BPETokenizer, CharTokenizer, WordTokenizer, build_tokenizer,
                            load_tokenizer, tokenizer_from_dict)
from layerwise.text.vocab import CharVocab

TEXT = "the cat sat on the mat. the dog sat on the log! a cat, a dog.\n" * 5


@pytest.mark.parametrize("kind, cls", [("char", CharTokenizer), ("word", WordTokenizer),
                                       ("bpe", BPETokenizer)])
def test_build_encode_decode_save_load(kind, cls, tmp_path):
    tok = build_tokenizer(kind, TEXT, vocab_size=300 if kind == "bpe" else None)
    assert isinstance(tok, cls) and tok.vocab_size == len(tok)
    ids = tok.encode("the cat sat on the log.")
    assert ids.dtype == np.int64
    assert tok.decode(ids) == "the cat sat on the log."
    assert tok.id_to_token(int(ids[0])) is not None
    again = load_tokenizer(tok.save(tmp_path / f"{kind}.json"))
    assert type(again) is cls and again.encode("a dog sat").tolist() == tok.encode("a dog sat").tolist()
    assert tokenizer_from_dict(tok.to_dict()) == tok


def test_word_tokenizer_min_count_and_unknown_token():
    tok = build_tokenizer("word", TEXT, min_count=6)            # 'log', 'mat' seen 5 times
    assert "log" not in tok and "the" in tok
    ids = tok.encode("the log")
    assert ids[1] == tok.token_to_id("<unk>") and tok.decode(ids) == "the <unk>"
    assert tok.token_to_id("<pad>") == 0


def test_char_tokenizer_unknown_and_old_vocab_files_load(tmp_path):
    tok = build_tokenizer("char", TEXT)
    assert tok.decode(tok.encode("cat?")) == "cat\ufffd"
    path = CharVocab.build(TEXT).save(tmp_path / "vocab.json")     # a char-lstm vocabulary
    assert isinstance(load_tokenizer(path), CharTokenizer)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown tokenizer 'sentencepiece'"):
        build_tokenizer("sentencepiece", TEXT)
    with pytest.raises(ValueError, match="not a layerwise tokenizer"):
        tokenizer_from_dict({"kind": "nope"})
