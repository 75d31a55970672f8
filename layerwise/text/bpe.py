"""Byte-pair encoding (Sennrich et al., 2016), byte-level as in GPT-2 (Radford et al., 2019).

Text is first split into pre-tokens (words with their leading space, numbers, runs of
punctuation, whitespace: GPT-2's pattern); each pre-token's UTF-8 bytes are written as
256 printable characters (``bytes_to_unicode``: no byte is unknown, so nothing ever
maps to an unknown token). **Training** starts from those 256 symbols and repeats

    (a, b) = the most frequent pair of adjacent symbols in the corpus' pre-tokens
    add the merge a + b -> ab to the merge list and the new symbol ab to the vocabulary

until the vocabulary has ``vocab_size`` entries (or no pair occurs ``min_frequency``
times). **Encoding** a pre-token repeats: among its adjacent pairs take the one whose
merge was learned first (lowest rank), merge it everywhere in the pre-token; stop when no
pair is a learned merge. Frequent words end as one token, rare ones as a few pieces.
Decoding joins the tokens and maps the characters back to bytes (UTF-8).

``BPETokenizer.from_files("vocab.json", "merges.txt")`` reads GPT-2's files (and those
written by Hugging Face ``tokenizers``' ByteLevelBPETokenizer.save_model); ``save_files``
writes them; ``save``/``load_tokenizer`` use one JSON file. Pre-tokenization uses the
``regex`` package when installed (GPT-2's exact ``\\p{L}``/``\\p{N}`` classes), else an
equivalent ``re`` pattern (identical except for rare non-decimal numerals such as ²).
"""
import heapq
import json
import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np

try:
    import regex as _regex
except ImportError:  # pragma: no cover - regex comes with the hf extra
    _regex = None

FORMAT = "layerwise-tokenizer/1"
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_FALLBACK_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
PRETOKENIZER = (_regex.compile(GPT2_PATTERN) if _regex is not None
                else re.compile(_FALLBACK_PATTERN))


@lru_cache(maxsize=1)
def bytes_to_unicode():
    """GPT-2's map byte -> printable character (printable bytes map to themselves)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
                 list(range(ord("®"), ord("ÿ") + 1)))
    codes, extra = printable[:], 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes)))


def pretokenize(text):
    """GPT-2's pre-tokens of ``text``, each written in byte characters."""
    table = bytes_to_unicode()
    return ["".join(table[b] for b in piece.encode("utf-8"))
            for piece in PRETOKENIZER.findall(text)]


def train_merges(word_counts, vocab_size, min_frequency=2, initial_size=256):
    """Learn merges from {pre-token: count} until ``vocab_size`` symbols (or too rare).

    Incremental: pair counts are updated only in the pre-tokens that contain the merged
    pair; a heap (lazily refreshed) yields the most frequent pair, ties broken by the
    pair itself, so the same corpus always gives the same merges.
    """
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts, where = Counter(), defaultdict(set)
    for index, (symbols, freq) in enumerate(zip(words, freqs)):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += freq
            where[pair].add(index)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while initial_size + len(merges) < vocab_size and heap:
        count, pair = heapq.heappop(heap)
        if -count != pair_counts.get(pair, 0):
            continue                                        # stale entry
        if -count < min_frequency:
            break
        merges.append(pair)
        merged, touched = pair[0] + pair[1], set()
        for index in where.pop(pair, ()):
            symbols, freq = words[index], freqs[index]
            for old in zip(symbols, symbols[1:]):
                pair_counts[old] -= freq
                touched.add(old)
            new, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
                    new.append(merged)
                    i += 2
                else:
                    new.append(symbols[i])
                    i += 1
            words[index] = new
            for p in zip(new, new[1:]):
                pair_counts[p] += freq
                where[p].add(index)
                touched.add(p)
        pair_counts.pop(pair, None)
        touched.discard(pair)
        for p in touched:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
    return merges


class BPETokenizer:
    """Byte-level BPE: ``vocab`` {token: id}, ``merges`` [(a, b), ...] in rank order."""

    kind = "bpe"

    def __init__(self, vocab, merges, special_tokens=()):
        self.vocab = dict(vocab)
        self.merges = [tuple(m) for m in merges]
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.itos = {i: t for t, i in self.vocab.items()}
        if len(self.itos) != len(self.vocab):
            raise ValueError("BPETokenizer: two tokens share one id in the vocabulary")
        specials = list(special_tokens) + [t for t in self.vocab
                                           if t.startswith("<|") and t.endswith("|>")]
        self.special_tokens = list(dict.fromkeys(specials))
        missing = [t for t in self.special_tokens if t not in self.vocab]
        if missing:
            raise ValueError(f"BPETokenizer: special tokens {missing} are not in the vocabulary")
        self._special_split = (re.compile("(" + "|".join(re.escape(t) for t in sorted(
            self.special_tokens, key=len, reverse=True)) + ")") if self.special_tokens else None)
        self._decoder = {c: b for b, c in bytes_to_unicode().items()}
        self._cache = {}
        for a, b in self.merges[:5]:
            if a + b not in self.vocab:
                raise ValueError(f"BPETokenizer: merge {a!r} + {b!r} makes {a + b!r}, which is "
                                 f"not in the vocabulary (vocab and merges do not belong together)")

    # ---------------------------------------------------------------- building
    @classmethod
    def train(cls, text, vocab_size=1000, min_frequency=2, special_tokens=("<|endoftext|>",)):
        """Learn a vocabulary of ``vocab_size`` tokens from ``text`` (a string or strings)."""
        texts = [text] if isinstance(text, str) else list(text)
        alphabet = sorted(bytes_to_unicode().values())
        if vocab_size < len(alphabet) + len(special_tokens):
            raise ValueError(f"BPETokenizer.train: vocab_size must be at least "
                             f"{len(alphabet) + len(special_tokens)} (256 bytes + special "
                             f"tokens), got {vocab_size}")
        counts = Counter()
        for piece in texts:
            counts.update(pretokenize(piece))
        merges = train_merges(counts, vocab_size - len(special_tokens), min_frequency,
                              initial_size=len(alphabet))
        tokens = list(special_tokens) + alphabet + [a + b for a, b in merges]
        return cls({t: i for i, t in enumerate(tokens)}, merges, special_tokens)

    @classmethod
    def from_files(cls, vocab_file, merges_file, special_tokens=()):
        """GPT-2's ``vocab.json`` ({token: id}) and ``merges.txt`` ("a b" per line)."""
        vocab = json.loads(Path(vocab_file).read_text(encoding="utf-8"))
        merges = []
        for number, line in enumerate(Path(merges_file).read_text(encoding="utf-8").split("\n")):
            if not line or (number == 0 and line.startswith("#version")):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{merges_file}: line {number + 1} is not a merge 'a b': "
                                 f"{line!r}")
            merges.append(tuple(parts))
        return cls(vocab, merges, special_tokens)

    @classmethod
    def from_directory(cls, directory):
        directory = Path(directory)
        return cls.from_files(directory / "vocab.json", directory / "merges.txt")

    # ---------------------------------------------------------------- using
    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.vocab)

    def bpe(self, pretoken):
        """The tokens of one pre-token (byte characters), merges applied by rank."""
        cached = self._cache.get(pretoken)
        if cached is not None:
            return cached
        symbols, ranks = list(pretoken), self.ranks
        while len(symbols) > 1:
            best = min(zip(symbols, symbols[1:]), key=lambda p: ranks.get(p, 1 << 60))
            if best not in ranks:
                break
            merged, i, new = best[0] + best[1], 0, []
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == best[0] and symbols[i + 1] == best[1]:
                    new.append(merged)
                    i += 2
                else:
                    new.append(symbols[i])
                    i += 1
            symbols = new
        if len(self._cache) < 100_000:
            self._cache[pretoken] = symbols
        return symbols

    def tokenize(self, text):
        """The token strings of ``text`` (special tokens kept whole)."""
        pieces = self._special_split.split(text) if self._special_split else [text]
        tokens = []
        for piece in pieces:
            if piece in self.vocab and piece in self.special_tokens:
                tokens.append(piece)
            elif piece:
                for pretoken in pretokenize(piece):
                    tokens.extend(self.bpe(pretoken))
        return tokens

    def encode(self, text):
        """The ids of ``text``, an int64 array."""
        vocab = self.vocab
        try:
            return np.array([vocab[t] for t in self.tokenize(text)], dtype=np.int64)
        except KeyError as err:
            raise KeyError(f"BPETokenizer: token {err.args[0]!r} is not in the vocabulary (the "
                           f"vocabulary lacks a byte or a merge result)") from None

    def decode(self, ids, errors="replace"):
        """The text of ``ids``; bytes that are not valid UTF-8 become U+FFFD."""
        ids = np.asarray(getattr(ids, "data", ids)).reshape(-1).tolist()
        bad = [i for i in ids if i not in self.itos]
        if bad:
            raise IndexError(f"BPETokenizer: id {bad[0]} is out of range for {len(self)} tokens")
        out, pending = [], []
        for i in ids:
            token = self.itos[i]
            if token in self.special_tokens:
                out.append(bytes(pending).decode("utf-8", errors))
                pending = []
                out.append(token)
            else:
                pending.extend(self._decoder[c] for c in token)
        out.append(bytes(pending).decode("utf-8", errors))
        return "".join(out)

    def token_to_id(self, token):
        return self.vocab.get(token)

    def id_to_token(self, index):
        return self.itos.get(index)

    # ---------------------------------------------------------------- saving
    def to_dict(self):
        return {"format": FORMAT, "kind": self.kind, "vocab": self.vocab,
                "merges": [" ".join(m) for m in self.merges],
                "special_tokens": self.special_tokens}

    @classmethod
    def from_dict(cls, record):
        return cls(record["vocab"], [tuple(m.split(" ")) for m in record["merges"]],
                   record.get("special_tokens", ()))

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        return path

    def save_files(self, directory):
        """GPT-2-style ``vocab.json`` and ``merges.txt`` in ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False),
                                              encoding="utf-8")
        (directory / "merges.txt").write_text(
            "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges), encoding="utf-8")
        return directory

    def __eq__(self, other):
        return isinstance(other, BPETokenizer) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return (f"BPETokenizer({len(self)} tokens, {len(self.merges)} merges, special tokens "
                f"{self.special_tokens})")
