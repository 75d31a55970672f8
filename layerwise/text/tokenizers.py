"""Tokenizers: text -> token ids -> text, one interface over characters, words and BPE.

"Assign to each unique word a unique identifier": a tokenizer cuts text into tokens
and numbers them; a model only ever sees the numbers.

- ``CharTokenizer``: one token per character (small vocabulary, long sequences).
- ``WordTokenizer``: words and punctuation marks, those seen fewer than ``min_count``
  times become ``<unk>`` (short sequences, large vocabulary, unknown words).
- ``BPETokenizer`` (``bpe.py``): byte-level byte-pair encoding, GPT-2's scheme: common
  words are one token, rare words a few sub-word pieces, nothing is ever unknown.

All three offer ``encode(text) -> int64 ids``, ``decode(ids) -> text``, ``vocab_size``,
``token_to_id`` / ``id_to_token``, ``to_dict()`` and ``save(path)`` (JSON);
``load_tokenizer(path)`` / ``tokenizer_from_dict(record)`` read any of them back
(vocabularies saved by ``text/vocab.py`` too). ``build_tokenizer(kind, text, ...)``
trains one on a corpus.
"""
import json
from pathlib import Path

from .bpe import BPETokenizer
from .vocab import CharVocab, WordVocab

__all__ = ["CharTokenizer", "WordTokenizer", "BPETokenizer", "build_tokenizer",
           "load_tokenizer", "tokenizer_from_dict", "TOKENIZER_KINDS"]


class _VocabTokenizer:
    """The tokenizer interface on top of a ``Vocab`` (characters or words)."""

    @property
    def vocab_size(self):
        return len(self)

    def token_to_id(self, token):
        return self.stoi.get(token)

    def id_to_token(self, index):
        return self.itos[index] if 0 <= index < len(self.itos) else None


class CharTokenizer(_VocabTokenizer, CharVocab):
    """Characters as tokens: ``CharTokenizer.build(text)``."""


class WordTokenizer(_VocabTokenizer, WordVocab):
    """Words and punctuation as tokens: ``WordTokenizer.build(text, min_count=2)``."""


TOKENIZER_KINDS = {"char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}


def build_tokenizer(kind, text, vocab_size=None, min_count=1, **options):
    """A tokenizer of ``kind`` ('char', 'word' or 'bpe') learned from ``text``.

    char/word: tokens seen at least ``min_count`` times (at most ``vocab_size``);
    bpe: ``vocab_size`` tokens (default 1000), merges seen at least ``min_count`` (>= 2) times.
    """
    if kind not in TOKENIZER_KINDS:
        raise ValueError(f"unknown tokenizer {kind!r}; choose {', '.join(TOKENIZER_KINDS)}")
    if kind == "bpe":
        return BPETokenizer.train(text, vocab_size or 1000, max(2, min_count), **options)
    return TOKENIZER_KINDS[kind].build(text, min_count=min_count, max_size=vocab_size, **options)


def tokenizer_from_dict(record):
    """The tokenizer a ``to_dict()`` record describes (BPE, char or word)."""
    kind = record.get("kind") if isinstance(record, dict) else None
    if kind == "bpe":
        return BPETokenizer.from_dict(record)
    if kind not in ("char", "word"):
        raise ValueError(f"not a layerwise tokenizer (expected kind 'char', 'word' or 'bpe', "
                         f"got {str(record)[:80]})")
    options = {k: v for k, v in record.items() if k not in ("format", "kind", "tokens")}
    return TOKENIZER_KINDS[kind](tokens=record["tokens"], **options)


def load_tokenizer(path):
    """A tokenizer saved with ``save(path)`` (or a GPT-2 directory with vocab.json + merges.txt)."""
    path = Path(path)
    if path.is_dir():
        return BPETokenizer.from_directory(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a JSON tokenizer ({err})") from None
    return tokenizer_from_dict(record)


# word2vec embeddings are trained on WordTokenizer ids; exported with the tokenizers
from .word2vec import Word2Vec  # noqa: E402

__all__ += ["Word2Vec"]
