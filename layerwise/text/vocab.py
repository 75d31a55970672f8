"""Vocabularies: the mapping between tokens (characters or words) and integer ids.

A model sees ids; a vocabulary turns text into ids (``encode``) and back
(``decode``). Built from a corpus, it keeps the tokens seen at least ``min_count``
times (most frequent first, ties in code-point order, so the same text always gives
the same ids); any other token maps to the unknown token. Special tokens come first:
``unk_token`` (and ``pad_token`` if any, id 0, for padding variable-length batches).

A vocabulary is saved as JSON (``save`` / ``load_vocab``, or ``to_dict`` inside a
checkpoint's configuration), so a trained model always travels with its ids.

- ``CharVocab``: one token per Unicode character (character-level language models);
  unknown characters become U+FFFD (the replacement character) by default.
- ``WordVocab``: words and punctuation marks (``tokenize``), optionally lowercased;
  unknown words become ``<unk>``.
"""
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

FORMAT = "layerwise-vocab/1"


class Vocab:
    """Tokens in id order, with an optional unknown and padding token."""

    kind = None

    def __init__(self, tokens, unk_token=None, pad_token=None, min_count=1):
        self.itos = list(tokens)
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError(f"{type(self).__name__}: tokens must be distinct")
        for name, token in (("unk_token", unk_token), ("pad_token", pad_token)):
            if token is not None and self.itos and token not in self.stoi:
                raise ValueError(f"{type(self).__name__}: {name} {token!r} is not among the "
                                 f"tokens")
        self.unk_token, self.pad_token, self.min_count = unk_token, pad_token, min_count
        self.unk_id = self.stoi.get(unk_token)     # None while an empty vocab is being built
        self.pad_id = self.stoi.get(pad_token)

    @classmethod
    def build(cls, text, min_count=1, max_size=None, **options):
        """The vocabulary of ``text`` (a string, or an iterable of strings)."""
        if min_count < 1:
            raise ValueError(f"{cls.__name__}.build: min_count must be at least 1, got "
                             f"{min_count}")
        vocab = cls(tokens=(), **options)          # knows the specials and the tokenizer
        texts = [text] if isinstance(text, str) else list(text)
        counts = Counter()
        for piece in texts:
            counts.update(vocab.tokenize(piece))
        specials = vocab.specials()
        kept = sorted((t for t, n in counts.items() if n >= min_count and t not in specials),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max(0, max_size - len(specials))]
        if not kept:
            raise ValueError(f"{cls.__name__}.build: no token occurs at least {min_count} "
                             f"times in the text")
        return cls(tokens=specials + kept, min_count=min_count, **options)

    # subclasses define tokenize(text) -> list of tokens and join(tokens) -> text
    def specials(self):
        return [t for t in (self.pad_token, self.unk_token) if t is not None]

    def encode(self, text):
        """The ids of ``text``'s tokens, an int64 array."""
        stoi, unk = self.stoi, self.unk_id
        tokens = self.tokenize(text)
        if unk is None:
            missing = [t for t in tokens if t not in stoi]
            if missing:
                raise KeyError(f"{type(self).__name__}: token {missing[0]!r} is not in the "
                               f"vocabulary of {len(self)} tokens and there is no unknown token")
        return np.fromiter((stoi.get(t, unk) for t in tokens), dtype=np.int64,
                           count=len(tokens))

    def decode(self, ids, skip_pad=True):
        """The text of ``ids`` (any iterable of ints or an integer array)."""
        ids = np.asarray(getattr(ids, "data", ids)).reshape(-1).tolist()
        bad = [i for i in ids if not 0 <= i < len(self.itos)]
        if bad:
            raise IndexError(f"{type(self).__name__}: id {bad[0]} is out of range for "
                             f"{len(self)} tokens")
        return self.join([self.itos[i] for i in ids if not (skip_pad and i == self.pad_id)])

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        if token in self.stoi:
            return self.stoi[token]
        if self.unk_id is None:
            raise KeyError(f"{type(self).__name__}: token {token!r} is not in the vocabulary")
        return self.unk_id

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} tokens, unk_token={self.unk_token!r}, "
                f"min_count={self.min_count})")

    # ------------------------------------------------------------ saving
    def options(self):
        return {"unk_token": self.unk_token, "pad_token": self.pad_token}

    def to_dict(self):
        return {"format": FORMAT, "kind": self.kind, "tokens": self.itos,
                "min_count": self.min_count, **self.options()}

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1),
                        encoding="utf-8")
        return path


class CharVocab(Vocab):
    """Characters as tokens: ``CharVocab.build(text, min_count=1)``."""

    kind = "char"

    def __init__(self, tokens=(), unk_token="\ufffd", pad_token=None, min_count=1):
        for t in tokens:
            if len(t) != 1:
                raise ValueError(f"CharVocab: tokens must be single characters, got {t!r}")
        super().__init__(tokens, unk_token, pad_token, min_count)

    def tokenize(self, text):
        return list(text)

    def join(self, tokens):
        return "".join(tokens)


WORD_PATTERN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}'’])")
_SPACE_AFTER = re.compile(r"([(\[{$]) ")


class WordVocab(Vocab):
    """Words and punctuation marks as tokens: ``WordVocab.build(text, min_count=2)``."""

    kind = "word"

    def __init__(self, tokens=(), unk_token="<unk>", pad_token="<pad>", min_count=1,
                 lower=True):
        self.lower = bool(lower)
        super().__init__(tokens, unk_token, pad_token, min_count)

    def tokenize(self, text):
        """Words (with inner apostrophes) and single punctuation marks, in order."""
        return WORD_PATTERN.findall(text.lower() if self.lower else text)

    def join(self, tokens):
        text = " ".join(tokens)
        return _SPACE_AFTER.sub(r"\1", _SPACE_BEFORE.sub(r"\1", text))

    def options(self):
        return {**super().options(), "lower": self.lower}


KINDS = {"char": CharVocab, "word": WordVocab}


def vocab_from_dict(record):
    """The vocabulary described by ``to_dict()``'s output."""
    if not isinstance(record, dict) or record.get("kind") not in KINDS:
        raise ValueError(f"not a layerwise vocabulary (expected a dict with kind 'char' or "
                         f"'word', got {str(record)[:80]})")
    options = {k: v for k, v in record.items() if k not in ("format", "kind", "tokens")}
    return KINDS[record["kind"]](tokens=record["tokens"], **options)


def load_vocab(path):
    """A vocabulary saved with ``Vocab.save``."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a JSON vocabulary ({err})") from None
    return vocab_from_dict(record)
