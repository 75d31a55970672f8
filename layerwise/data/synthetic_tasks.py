"""Sequence-to-sequence tasks generated offline, with inputs of chosen lengths.

- ``reverse``: a digit string -> the same digits backwards ("12345" -> "54321");
- ``sort``: a digit string -> its digits sorted ("31412" -> "11234");
- ``dates``: a date written out -> the ISO date ("Friday, March 4, 2011" -> "2011-03-04").

An encoder-decoder without attention must squeeze the whole input into one vector
before it writes the first output; with attention the decoder looks back at the input
positions it needs, so its accuracy holds up as inputs grow longer (the notes' point).
``make_pairs`` draws (source, target) strings; ``CharCodec`` turns them into padded id
arrays (0 = padding, 1 = start, 2 = end of sequence); ``Seq2SeqData`` holds a split.
"""
import datetime

import numpy as np

from .dataset import Dataset

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DATE_FORMATS = ("{day_name}, {month} {day}, {year}", "{month} {day}, {year}",
                "{day} {month} {year}", "{day_name} {day} {month} {year}",
                "{mon} {day} {year}", "{day}.{month_number}.{year}",
                "the {ordinal} of {month}, {year}")


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _date_pair(rng):
    day = datetime.date(1900, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 200 * 365)))
    fmt = DATE_FORMATS[int(rng.integers(len(DATE_FORMATS)))]
    text = fmt.format(day_name=DAYS[day.weekday()], month=MONTHS[day.month - 1],
                      mon=MONTHS[day.month - 1][:3], day=day.day, year=day.year,
                      month_number=day.month, ordinal=_ordinal(day.day))
    return text, day.isoformat()


def make_pairs(task, count, min_length=1, max_length=20, seed=0):
    """``count`` (source, target) string pairs of ``task`` (digit lengths drawn uniformly)."""
    rng = np.random.default_rng(seed)
    if task == "dates":
        return [_date_pair(rng) for _ in range(count)]
    if task not in ("reverse", "sort"):
        raise ValueError(f"unknown seq2seq task {task!r}; choose reverse, sort or dates")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"seq2seq task: need 1 <= min_length <= max_length, got {min_length} "
                         f"and {max_length}")
    lengths = rng.integers(min_length, max_length + 1, size=count)
    pairs = []
    for n in lengths:
        digits = "".join(map(str, rng.integers(0, 10, size=n)))
        pairs.append((digits, digits[::-1] if task == "reverse" else "".join(sorted(digits))))
    return pairs


class CharCodec:
    """Characters <-> ids with the three specials first: ``encode_batch`` pads with 0."""

    def __init__(self, characters):
        self.itos = list(SPECIALS) + sorted(set(characters) - set(SPECIALS))
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def for_pairs(cls, pairs):
        return cls("".join(s + t for s, t in pairs))

    def __len__(self):
        return len(self.itos)

    def encode(self, text, bos=False, eos=False):
        try:
            ids = [self.stoi[c] for c in text]
        except KeyError as err:
            raise KeyError(f"CharCodec: character {err.args[0]!r} is not in the task's "
                           f"alphabet") from None
        return [BOS] * bos + ids + [EOS] * eos

    def encode_batch(self, texts, bos=False, eos=False, length=None):
        """(ids (N, L) int64 padded with 0, lengths (N,))."""
        rows = [self.encode(t, bos, eos) for t in texts]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        out = np.zeros((len(rows), length or max(lengths.max(initial=1), 1)), dtype=np.int64)
        for i, row in enumerate(rows):
            out[i, :len(row)] = row[:out.shape[1]]
        return out, lengths

    def decode(self, ids):
        """Text of ids up to the first end-of-sequence (specials dropped)."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return "".join(out)

    def to_dict(self):
        return {"characters": self.itos[len(SPECIALS):]}

    @classmethod
    def from_dict(cls, record):
        return cls("".join(record["characters"]))


class Seq2SeqData(Dataset):
    """Encoded pairs: ``ds[i] = (source ids, decoder input <s> y, target y </s>)``, padded."""

    def __init__(self, pairs, codec):
        self.pairs, self.codec = list(pairs), codec
        self.sources, self.source_lengths = codec.encode_batch([s for s, _ in pairs])
        targets = [t for _, t in pairs]
        self.decoder_inputs, _ = codec.encode_batch(targets, bos=True)
        self.targets, _ = codec.encode_batch(targets, eos=True)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        return self.sources[index], self.decoder_inputs[index], self.targets[index]

    def batches(self, batch_size, shuffle=False, rng=None):
        """(sources, decoder inputs, targets) arrays, each trimmed to the batch's longest row."""
        order = rng.permutation(len(self)) if shuffle else np.arange(len(self))
        for start in range(0, len(self), batch_size):
            idx = order[start:start + batch_size]
            src_len = int(self.source_lengths[idx].max())
            tgt_len = int((self.targets[idx] != PAD).sum(axis=1).max())
            yield (self.sources[idx, :src_len], self.decoder_inputs[idx, :tgt_len],
                   self.targets[idx, :tgt_len])
