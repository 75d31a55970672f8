"""``layerwise train`` for the transformer family: gpt-mini, seq2seq, text-classifier.

- ``gpt-mini``: a decoder-only language model on a UTF-8 file (``--text``) or the
  fortunes; ``--tokenizer char|word|bpe``; the last ``--val-split`` of the text is held
  out; each epoch reads the training text once in random windows of ``--block-size``
  tokens; the validation loss (nats per token; bits per character for char) picks
  the best checkpoint, which then writes a sample (``layerwise generate`` continues).
- ``seq2seq``: an encoder-decoder (``--arch gru|gru-attention|lstm|lstm-attention|
  transformer``) on a task generated offline (``--task reverse|sort|dates``, input
  lengths ``--min-length``..``--max-length``); exact-match accuracy on fresh test pairs,
  by input length.
- ``text-classifier``: which fortunes file (``--categories``) a quote comes from.
"""
import json
import math
import time

import numpy as np

from ..autograd.random import manual_seed
from ..autograd.tensor import Tensor
from ..data import ArrayDataset, DataLoader
from ..data.sources import DatasetNotFoundError
from ..data.synthetic_tasks import PAD, CharCodec, Seq2SeqData, make_pairs
from ..models import get_model
from ..nn import CrossEntropyLoss
from ..nn.functional import cross_entropy
from ..text import CorpusNotFoundError, build_tokenizer, load_corpus, tokenizer_from_dict
from .run_sequence import _base_config, _option, _resume, _run_dir, _start, _trainer_parts
from .sequence_trainer import TextProgressBar, sequence_loss
from .callbacks import ProgressBar
from .checkpoint import load_checkpoint
from .tasks import register_task
from .trainer import Trainer

LN2 = math.log(2.0)
FORTUNE_CATEGORIES = ("computers", "definitions", "politics", "science", "songs-poems", "zippy")


def _read_text(config):
    try:
        text = load_corpus(config["text"])
    except CorpusNotFoundError as err:
        raise DatasetNotFoundError(str(err)) from None
    return text[:config["limit"]] if config.get("limit") else text


class TokenWindows:
    """(x, y) batches of ``block`` tokens, y = x shifted by one. Training: every epoch the
    windows start at a new random offset and come shuffled; evaluation: fixed, in order."""

    def __init__(self, ids, block, batch_size, shuffle=False, seed=0):
        self.ids, self.block, self.batch_size = np.asarray(ids, np.int64), block, batch_size
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        if len(self.ids) < block + 1:
            raise ValueError(f"gpt-mini: {len(self.ids)} tokens are too few for one window of "
                             f"block size {block} (+1)")

    def set_epoch(self, epoch):
        self.epoch = epoch

    def starts(self):
        if not self.shuffle:
            return np.arange(0, len(self.ids) - self.block, self.block)
        rng = np.random.default_rng((self.seed, self.epoch))
        offset = int(rng.integers(self.block))
        starts = np.arange(offset, len(self.ids) - self.block, self.block)
        return rng.permutation(starts) if len(starts) else np.array([0])

    def __len__(self):
        return -(-len(self.starts()) // self.batch_size)

    def __iter__(self):
        starts, steps = self.starts(), np.arange(self.block + 1)
        for k in range(0, len(starts), self.batch_size):
            rows = self.ids[starts[k:k + self.batch_size, None] + steps]
            yield Tensor(rows[:, :-1].copy()), Tensor(rows[:, 1:].copy())

    @property
    def tokens(self):
        return len(self.starts()) * self.block


def language_model_data(config, text):
    """(tokenizer, training windows, validation windows or None) of a gpt-mini config."""
    cut = int(len(text) * (1 - config["val_split"]))
    train_text, val_text = text[:cut], text[cut:]
    if "tokenizer" in config:
        tokenizer = tokenizer_from_dict(config["tokenizer"])
    else:
        tokenizer = build_tokenizer(config["tokenizer_kind"], train_text,
                                    vocab_size=config.get("vocab_size"),
                                    min_count=config["min_count"])
        config["tokenizer"] = tokenizer.to_dict()
        config["model_kwargs"]["vocab_size"] = len(tokenizer)
    block, batch = config["block_size"], config["batch_size"]
    train = TokenWindows(tokenizer.encode(train_text), block, batch, True, config["seed"])
    val_ids = tokenizer.encode(val_text) if val_text else np.zeros(0, np.int64)
    val = TokenWindows(val_ids, block, batch) if len(val_ids) > block else None
    return tokenizer, train, val


@register_task("gpt-mini")
def train_gpt_mini(args, out=print):
    def fresh():
        config = _base_config(args, "gpt-mini", epochs=5, lr=1e-3, clip=1.0)
        config.update(text=_option(args, "text", "fortunes"),
                      tokenizer_kind=_option(args, "tokenizer", "char"),
                      vocab_size=_option(args, "vocab_size", None),
                      min_count=_option(args, "min_count", 1),
                      block_size=_option(args, "block_size", 128))
        config["model_kwargs"] = dict(
            block_size=config["block_size"], n_layer=_option(args, "num_layers", 4),
            n_head=_option(args, "nhead", 4), d_model=_option(args, "d_model", 128),
            dim_feedforward=_option(args, "dim_feedforward", None),
            dropout=_option(args, "dropout", 0.1),
            positional=_option(args, "positional", "learned"))
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    tokenizer, train, val = language_model_data(config, _read_text(config))
    model = get_model("gpt-mini", **config["model_kwargs"])
    object.__setattr__(model, "tokens_per_row", config["block_size"])
    run_dir = _run_dir(args, config, resume)
    tokenizer.save(run_dir / "tokenizer.json")
    monitor = "val_loss" if val is not None else "loss"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, TextProgressBar)
    trainer = Trainer(model, optimizer, sequence_loss, (), callbacks, scheduler,
                      clip_grad_norm=config["clip_grad_norm"] or None,
                      clip_grad_value=config.get("clip_grad_value"), config=config)
    _resume(trainer, args, resume, out)
    kw = config["model_kwargs"]
    out(f"training gpt-mini ({kw['n_layer']} layers, {kw['n_head']} heads, d_model "
        f"{kw['d_model']}, block {config['block_size']}; {tokenizer.kind} tokenizer of "
        f"{len(tokenizer)} tokens) on {config['text']}: {train.tokens:,} training tokens"
        f"{f', {val.tokens:,} for validation' if val else ''}, {len(train)} batches of "
        f"{config['batch_size']} per epoch, {config['epochs']} epochs, {config['optimizer']} "
        f"lr {config['lr']}")
    start = time.perf_counter()
    trainer.fit(train, config["epochs"], val)
    wall = time.perf_counter() - start
    best = run_dir / "best.safetensors"
    if best.exists():
        model.load_state_dict(load_checkpoint(best).model_state)
    from ..models.generation import sample
    text = sample(model, tokenizer, "", 300, temperature=0.8, top_k=40, seed=config["seed"])
    history = trainer.history.history
    key = "val_loss" if val is not None else "loss"
    results = {"best_" + key: min(history[key]), "final_" + key: history[key][-1],
               "best_bits_per_token": min(history[key]) / LN2, "wall_seconds": wall,
               "tokens_per_second": train.tokens * len(history[key]) / max(wall, 1e-9),
               "epochs": len(history[key]), "sample": text, "config": config}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (run_dir / "sample.txt").write_text(text, encoding="utf-8")
    out(f"\nBest {key.replace('_', ' ')}: {results['best_' + key]:.4f} nats per token "
        f"({results['best_bits_per_token']:.3f} bits; trained in {wall:.0f} s)\n"
        f"Sample (temperature 0.8, top-k 40):\n{text}\n\nRun directory: {run_dir}\n"
        f"  generate: layerwise generate {best} --prompt \"...\" --length 300 --top-p 0.9")
    return run_dir, results


# ------------------------------------------------------------------ seq2seq
class PairInput:
    """A seq2seq model seen by the Trainer as ``model(x)`` with x = (source, decoder input)."""

    def __init__(self, module):
        self.module = module

    def __call__(self, x):
        return self.module(*x)

    def __getattr__(self, name):
        return getattr(self.module, name)


class Seq2SeqBatches:
    def __init__(self, data, batch_size, shuffle, seed=0):
        self.data, self.batch_size, self.shuffle, self.seed, self.epoch = \
            data, batch_size, shuffle, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        for src, dec, tgt in self.data.batches(self.batch_size, self.shuffle, rng):
            yield (Tensor(src), Tensor(dec)), Tensor(tgt)


def seq2seq_loss(logits, targets):
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                         ignore_index=PAD)


def token_accuracy(logits, targets):
    mask = targets != PAD
    return float(((logits.argmax(axis=-1) == targets) & mask).sum() / max(mask.sum(), 1))


def exact_match_by_length(model, data, batch_size=256, buckets=None):
    """{'overall': accuracy, 'by_length': [(low, high, accuracy, count)]} with greedy decoding."""
    from ..models.seq2seq import greedy_decode
    lengths = np.array([len(s) for s, _ in data.pairs])
    correct = np.zeros(len(data), bool)
    for start in range(0, len(data), batch_size):
        rows = slice(start, start + batch_size)
        src = data.sources[rows, :int(data.source_lengths[rows].max())]
        max_len = max(len(t) for _, t in data.pairs[rows]) + 2
        out = greedy_decode(model, src, max_len)
        correct[rows] = [data.codec.decode(o) == t for o, (_, t) in zip(out, data.pairs[rows])]
    edges = buckets or _length_buckets(lengths)
    table = [(lo, hi, float(correct[(lengths >= lo) & (lengths <= hi)].mean()),
              int(((lengths >= lo) & (lengths <= hi)).sum()))
             for lo, hi in edges if ((lengths >= lo) & (lengths <= hi)).any()]
    return {"overall": float(correct.mean()), "by_length": table}


def _length_buckets(lengths, count=6):
    lo, hi = int(lengths.min()), int(lengths.max())
    step = max(1, -(-(hi - lo + 1) // count))
    return [(a, min(a + step - 1, hi)) for a in range(lo, hi + 1, step)]


@register_task("seq2seq")
def train_seq2seq(args, out=print):
    def fresh():
        config = _base_config(args, "seq2seq", epochs=10, lr=1e-3, clip=1.0)
        config.update(task=_option(args, "task", "reverse"),
                      min_length=_option(args, "min_length", 1),
                      max_length=_option(args, "max_length", 24),
                      train_samples=_option(args, "train_samples", 20000),
                      test_samples=_option(args, "test_samples", 2000))
        config["model_kwargs"] = dict(
            arch=_option(args, "arch", "gru-attention"),
            hidden_size=_option(args, "hidden_size", 128), d_model=_option(args, "d_model", 128),
            nhead=_option(args, "nhead", 4), num_layers=_option(args, "num_layers", 2),
            dim_feedforward=_option(args, "dim_feedforward", 256),
            dropout=_option(args, "dropout", 0.1))
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    train_pairs = make_pairs(config["task"], config["train_samples"], config["min_length"],
                             config["max_length"], seed=config["seed"])
    test_pairs = make_pairs(config["task"], config["test_samples"], config["min_length"],
                            config["max_length"], seed=config["seed"] + 1)
    codec = CharCodec.from_dict(config["codec"]) if "codec" in config else \
        CharCodec.for_pairs(train_pairs + test_pairs)
    config["codec"] = codec.to_dict()
    config["model_kwargs"]["vocab_size"] = len(codec)
    n_val = int(len(train_pairs) * config["val_split"])
    fit = Seq2SeqData(train_pairs[n_val:], codec)
    val = Seq2SeqData(train_pairs[:n_val], codec) if n_val else None
    test = Seq2SeqData(test_pairs, codec)
    model = get_model("seq2seq", **config["model_kwargs"])
    config["dataset"] = config["task"]
    run_dir = _run_dir(args, config, resume)
    monitor = "val_loss" if val is not None else "loss"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, ProgressBar)
    trainer = Trainer(PairInput(model), optimizer, seq2seq_loss, (token_accuracy,), callbacks,
                      scheduler, clip_grad_norm=config["clip_grad_norm"] or None, config=config)
    _resume(trainer, args, resume, out)
    arch = config["model_kwargs"]["arch"]
    out(f"training seq2seq ({arch}) on {config['task']} (input lengths {config['min_length']}-"
        f"{config['max_length']}; {len(fit):,} pairs, {n_val:,} for validation, "
        f"{len(test):,} test) for {config['epochs']} epochs")
    start = time.perf_counter()
    trainer.fit(Seq2SeqBatches(fit, config["batch_size"], True, config["seed"]),
                config["epochs"], Seq2SeqBatches(val, 256, False) if val else None)
    wall = time.perf_counter() - start
    best = run_dir / "best.safetensors"
    if best.exists():
        model.load_state_dict(load_checkpoint(best).model_state)
    scores = exact_match_by_length(model, test)
    results = {"exact_match": scores["overall"], "by_length": scores["by_length"],
               "wall_seconds": wall, "config": config}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    lines = [f"\nExact match on {len(test):,} test pairs ({arch}): {scores['overall']:.1%}",
             "| input length | exact match | pairs |", "|---|---|---|"]
    lines += [f"| {lo}-{hi} | {acc:.1%} | {n} |" for lo, hi, acc, n in scores["by_length"]]
    out("\n".join(lines) + f"\n\nRun directory: {run_dir}")
    return run_dir, results


# ------------------------------------------------------------------ text-classifier
def fortune_classification(categories, tokenizer_kind="word", min_count=2, vocab_size=None,
                           max_len=128, test_fraction=0.2, seed=0):
    """(tokenizer, (train ids, labels), (test ids, labels), categories): quotes by file."""
    from ..text import read_fortunes
    texts, labels = [], []
    for label, category in enumerate(categories):
        cookies = read_fortunes(categories=[category])
        texts += cookies
        labels += [label] * len(cookies)
    order = np.random.default_rng(seed).permutation(len(texts))
    n_test = int(len(texts) * test_fraction)
    test_idx, train_idx = order[:n_test], order[n_test:]
    tokenizer = build_tokenizer(tokenizer_kind, [texts[i] for i in train_idx],
                                vocab_size=vocab_size, min_count=min_count)
    shift = 0 if getattr(tokenizer, "pad_id", None) == 0 else 1     # id 0 = padding

    def encode(indices):
        ids = np.zeros((len(indices), max_len), np.int64)
        for row, i in enumerate(indices):
            tokens = tokenizer.encode(texts[i])[:max_len] + shift
            ids[row, :len(tokens)] = tokens
        return ids, np.array([labels[i] for i in indices], np.int64)
    return tokenizer, shift, encode(train_idx), encode(test_idx)


@register_task("text-classifier")
def train_text_classifier(args, out=print):
    def fresh():
        config = _base_config(args, "text-classifier", epochs=10, lr=5e-4, clip=1.0)
        cats = _option(args, "categories", None)
        config.update(categories=list(cats.split(",") if cats else FORTUNE_CATEGORIES),
                      tokenizer_kind=_option(args, "tokenizer", "word"),
                      vocab_size=_option(args, "vocab_size", None),
                      min_count=_option(args, "min_count", 2),
                      max_len=_option(args, "block_size", 128), dataset="fortunes")
        config["model_kwargs"] = dict(
            d_model=_option(args, "d_model", 64), nhead=_option(args, "nhead", 4),
            num_layers=_option(args, "num_layers", 2),
            dim_feedforward=_option(args, "dim_feedforward", 128),
            dropout=_option(args, "dropout", 0.1), max_len=config["max_len"])
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    try:
        tokenizer, shift, (x_train, y_train), (x_test, y_test) = fortune_classification(
            config["categories"], config["tokenizer_kind"], config["min_count"],
            config.get("vocab_size"), config["max_len"], seed=config["seed"])
    except CorpusNotFoundError as err:
        raise DatasetNotFoundError(str(err)) from None
    config.update(tokenizer=tokenizer.to_dict(), id_shift=shift,
                  classes=config["categories"], num_classes=len(config["categories"]))
    config["model_kwargs"].update(vocab_size=len(tokenizer) + shift,
                                  num_classes=len(config["categories"]))
    if config.get("limit"):
        x_train, y_train = x_train[:config["limit"]], y_train[:config["limit"]]
    n_val = int(len(x_train) * config["val_split"])
    model = get_model("text-classifier", **config["model_kwargs"])
    run_dir = _run_dir(args, config, resume)
    monitor = "val_accuracy" if n_val else "accuracy"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, ProgressBar)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), ("accuracy",), callbacks, scheduler,
                      clip_grad_norm=config["clip_grad_norm"] or None, config=config)
    _resume(trainer, args, resume, out)
    out(f"training text-classifier on fortunes {', '.join(config['categories'])}: "
        f"{len(x_train) - n_val:,} quotes, {n_val:,} for validation, {len(x_test):,} test; "
        f"{tokenizer.kind} tokenizer of {len(tokenizer)} tokens")
    start = time.perf_counter()
    trainer.fit(DataLoader(ArrayDataset(x_train[n_val:], y_train[n_val:]), config["batch_size"],
                           shuffle=True, seed=config["seed"]), config["epochs"],
                DataLoader(ArrayDataset(x_train[:n_val], y_train[:n_val]), 256) if n_val else None)
    wall = time.perf_counter() - start
    best = run_dir / "best.safetensors"
    if best.exists():
        model.load_state_dict(load_checkpoint(best).model_state)
    test = trainer.evaluate(DataLoader(ArrayDataset(x_test, y_test), 256))
    majority = float(np.bincount(y_test).max() / len(y_test))
    results = {"test_accuracy": test["accuracy"], "test_loss": test["loss"],
               "majority_baseline": majority, "wall_seconds": wall, "config": config}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    out(f"\nTest accuracy: {test['accuracy']:.2%} (majority class {majority:.2%}) on "
        f"{len(x_test):,} quotes\nRun directory: {run_dir}")
    return run_dir, results
