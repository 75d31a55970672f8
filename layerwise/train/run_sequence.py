"""``layerwise train`` for the sequence models: char-lstm, rnn-classifier, lstm-forecaster.

- ``char-lstm``: a character-level (``--vocab word``: word-level) language model on a
  UTF-8 file (``--text FILE``) or Debian's fortunes (the default). The last
  ``--val-split`` of the text is held out; training runs truncated BPTT over
  ``--seq-len`` steps with the state carried across batches, shows loss and bits per
  character live, keeps the checkpoint with the best validation bpc (the vocabulary
  is in its config, and in vocab.json), and ends with a generated sample.
- ``rnn-classifier``: an LSTM/GRU/RNN (``--cell``) reading Fashion-MNIST images row
  by row (sequential Fashion-MNIST); test accuracy, curves and confusion matrix as
  for the image models.
- ``lstm-forecaster``: windows of a shipped time series (``--series sunspots|co2``)
  to its next ``--horizon`` values, anchored at each window's last value
  (``data.sequences.forecast_windows``); the last 20% of the series is the held-out
  tail, scored against the last-value and seasonal-naive forecasts.
"""
import json
import time
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.random import manual_seed
from ..autograd.tensor import Tensor
from ..data import ArrayDataset, DataLoader, get_dataset, random_split
from ..data.sequences import TextStream, forecast_windows, load_series
from ..data.sources import DatasetNotFoundError
from ..models import get_model
from ..text import CharVocab, CorpusNotFoundError, WordVocab, load_corpus, vocab_from_dict
from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar
from .checkpoint import load_checkpoint
from .run import make_optimizer, make_scheduler, write_outputs
from .sequence_trainer import (LanguageModelTrainer, TextProgressBar,
                               forecast_errors, naive_forecasts)
from .tasks import register_task
from .trainer import Trainer

TEST_FRACTION = 0.2     # the forecaster's held-out tail


def _option(args, name, default):
    value = getattr(args, name, None)
    return default if value is None else value


def _base_config(args, model, epochs, lr, clip=None):
    return dict(model=model, epochs=_option(args, "epochs", epochs),
                batch_size=args.batch_size, optimizer=args.optimizer,
                lr=_option(args, "lr", lr), momentum=args.momentum,
                weight_decay=args.weight_decay, lr_schedule=args.lr_schedule, seed=args.seed,
                val_split=args.val_split, clip_grad_norm=_option(args, "clip_grad_norm", clip),
                clip_grad_value=getattr(args, "clip_grad_value", None),
                limit=getattr(args, "limit", None))


def _start(args, fresh_config):
    """(config, resumed checkpoint or None): a new run's config, or the resumed run's."""
    resume = load_checkpoint(args.resume) if args.resume else None
    if resume is None:
        return fresh_config(), None
    config = dict(resume.config)
    if args.epochs is not None:
        config["epochs"] = args.epochs
    return config, resume


def _run_dir(args, config, resume):
    if resume:
        return Path(args.resume).parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    source = config.get("dataset") or config.get("series") or Path(str(config.get("text"))).stem
    path = Path(args.out or Path("runs") / f"{config['model']}-{source}-{stamp}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _trainer_parts(args, model, config, run_dir, resume, monitor, progress_bar):
    optimizer = make_optimizer(config["optimizer"], model.parameters(), lr=config["lr"],
                               momentum=config["momentum"], weight_decay=config["weight_decay"])
    scheduler = make_scheduler(config["lr_schedule"], optimizer, config["epochs"])
    callbacks = [ModelCheckpoint(run_dir, monitor=monitor),
                 CSVLogger(run_dir / "history.csv", append=bool(resume))]
    if args.progress:
        callbacks.append(progress_bar())
    if getattr(args, "patience", None):
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience))
    return optimizer, scheduler, callbacks


def _resume(trainer, args, resume, out):
    if resume:
        trainer.load_checkpoint(args.resume)
        out(f"resuming {args.resume} after epoch {trainer.start_epoch}")


# ------------------------------------------------------------------ char-lstm
@register_task("char-lstm")
def train_char_lstm(args, out=print):
    """Train the language model; returns (run_dir, results)."""
    def fresh():
        config = _base_config(args, "char-lstm", epochs=5, lr=2e-3, clip=5.0)
        config.update(text=_option(args, "text", "fortunes"),
                      vocab_kind=_option(args, "vocab", "char"),
                      min_count=_option(args, "min_count", 1),
                      seq_len=_option(args, "seq_len", 100))
        config["model_kwargs"] = dict(
            embedding_dim=_option(args, "embedding_dim", 64),
            hidden_size=_option(args, "hidden_size", 256),
            num_layers=_option(args, "num_layers", 2),
            dropout=_option(args, "dropout", 0.2), cell=_option(args, "cell", "lstm"))
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    try:
        text = load_corpus(config["text"])
    except CorpusNotFoundError as err:
        raise DatasetNotFoundError(str(err)) from None
    if config.get("limit"):
        text = text[:config["limit"]]
    cut = int(len(text) * (1 - config["val_split"]))
    train_text, val_text = text[:cut], text[cut:]
    if "vocab" in config:
        vocab = vocab_from_dict(config["vocab"])
    else:
        kind = {"char": CharVocab, "word": WordVocab}[config["vocab_kind"]]
        vocab = kind.build(train_text, min_count=config["min_count"])
        config["vocab"] = vocab.to_dict()
        config["model_kwargs"]["vocab_size"] = len(vocab)
    seq_len, batch = config["seq_len"], config["batch_size"]
    train_stream = TextStream(vocab.encode(train_text), batch, seq_len)
    val_ids = vocab.encode(val_text) if val_text else np.zeros(0, np.int64)
    val_stream = None
    if len(val_ids) > 1:
        val_stream = TextStream(val_ids, max(1, min(batch, (len(val_ids) - 1) // seq_len)),
                                seq_len)
    model = get_model("char-lstm", **config["model_kwargs"])
    run_dir = _run_dir(args, config, resume)
    vocab.save(run_dir / "vocab.json")
    monitor = "val_loss" if val_stream is not None else "loss"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, TextProgressBar)
    trainer = LanguageModelTrainer(model, optimizer, callbacks, scheduler,
                                   clip_grad_norm=config["clip_grad_norm"] or None,
                                   clip_grad_value=config.get("clip_grad_value"), config=config)
    _resume(trainer, args, resume, out)
    out(f"training char-lstm ({config['model_kwargs']['cell']}, {vocab.kind} vocabulary of "
        f"{len(vocab)} tokens) on {config['text']}: {train_stream.tokens:,} training tokens"
        f"{f', {val_stream.tokens:,} for validation' if val_stream else ''}, {len(train_stream)} "
        f"batches of {batch}x{seq_len} per epoch, {config['epochs']} epochs, "
        f"{config['optimizer']} lr {config['lr']}, clip {config['clip_grad_norm']}")
    start = time.perf_counter()
    trainer.fit(train_stream, config["epochs"], val_stream)
    wall = time.perf_counter() - start
    best = run_dir / "best.safetensors"
    if best.exists():
        model.load_state_dict(load_checkpoint(best).model_state)
    from ..models.text_generation import sample_text
    sample = sample_text(model, vocab, "", length=400, temperature=0.8, seed=config["seed"])
    history = trainer.history.history
    key = "val_bpc" if val_stream is not None else "bpc"
    results = {"best_" + key: min(history[key]), "final_" + key: history[key][-1],
               "train_bpc": history["bpc"][-1], "wall_seconds": wall,
               "tokens_per_second": train_stream.tokens * len(history["bpc"]) / max(wall, 1e-9),
               "epochs": len(history["bpc"]), "sample": sample, "config": config}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (run_dir / "sample.txt").write_text(sample, encoding="utf-8")
    _plot_bpc(history, run_dir / "curves.png", f"char-lstm on {config['text']}")
    out(f"\nBest {key.replace('_', ' ')}: {results['best_' + key]:.3f} bits per "
        f"{'character' if vocab.kind == 'char' else 'word'} (trained in {wall:.0f} s)\n"
        f"Sample (temperature 0.8):\n{sample}\n\nRun directory: {run_dir}\n"
        f"  checkpoints: {best}, {run_dir / 'last.safetensors'}\n"
        f"  generate:    layerwise generate {best} --prompt \"...\" --length 300")
    return run_dir, results


def _plot_bpc(history, path, title):
    from ..viz.plotting import plt, save
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, style, label in (("bpc", "-o", "training"), ("val_bpc", "-s", "validation")):
        if history.get(key):
            ax.plot(range(1, len(history[key]) + 1), history[key], style, label=label)
    ax.set_xlabel("Epoch")
    ax.set_ylabel("bits per character")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, path)


# ------------------------------------------------------------- rnn-classifier
@register_task("rnn-classifier")
def train_rnn_classifier(args, out=print):
    """Train on images read row by row (sequential Fashion-MNIST); returns (run_dir, test)."""
    def fresh():
        config = _base_config(args, "rnn-classifier", epochs=10, lr=1e-3)
        config["dataset"] = args.dataset
        config["model_kwargs"] = dict(cell=_option(args, "cell", "lstm"),
                                      hidden_size=_option(args, "hidden_size", 128),
                                      num_layers=_option(args, "num_layers", 1),
                                      bidirectional=bool(getattr(args, "bidirectional", False)),
                                      dropout=_option(args, "dropout", 0.0))
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    train_set = get_dataset(config["dataset"], train=True, root=args.data_dir)
    test_set = get_dataset(config["dataset"], train=False, root=args.data_dir)
    if config.get("limit"):
        train_set.arrays = tuple(a[:config["limit"]] for a in train_set.arrays)
    _, channels, height, width = train_set.images.shape
    config.update(num_classes=len(train_set.classes), in_channels=channels, image_size=height,
                  classes=list(train_set.classes), normalization={"mean": None, "std": None})
    config["model_kwargs"].update(num_classes=len(train_set.classes), in_channels=channels,
                                  image_size=height, input_size=channels * width)
    n_val = int(round(len(train_set) * config["val_split"]))
    fit_set, val_set = (random_split(train_set, [len(train_set) - n_val, n_val],
                                     seed=config["seed"]) if n_val else (train_set, None))
    model = get_model("rnn-classifier", **config["model_kwargs"])
    run_dir = _run_dir(args, config, resume)
    monitor = "val_accuracy" if val_set is not None else "accuracy"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, ProgressBar)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), ("accuracy",), callbacks,
                              scheduler, clip_grad_norm=config["clip_grad_norm"],
                              clip_grad_value=config.get("clip_grad_value"), config=config)
    _resume(trainer, args, resume, out)
    kw = config["model_kwargs"]
    out(f"training rnn-classifier ({kw['cell']}, hidden {kw['hidden_size']}, {kw['num_layers']} "
        f"layer(s){', bidirectional' if kw['bidirectional'] else ''}) on sequential "
        f"{config['dataset']} ({height} steps of {channels * width} pixels; {len(fit_set):,} "
        f"images{f', {len(val_set):,} for validation' if val_set else ''}) for "
        f"{config['epochs']} epochs, batch {config['batch_size']}, {config['optimizer']} lr "
        f"{config['lr']}")
    start = time.perf_counter()
    trainer.fit(DataLoader(fit_set, config["batch_size"], shuffle=True, seed=config["seed"]),
                config["epochs"], DataLoader(val_set, 512) if val_set is not None else None)
    wall = time.perf_counter() - start
    test = trainer.evaluate(DataLoader(test_set, 512))
    out(write_outputs(run_dir, model, test_set, trainer.history.history, config, test, wall))
    return run_dir, test


# ------------------------------------------------------------ lstm-forecaster
@register_task("lstm-forecaster")
def train_lstm_forecaster(args, out=print):
    """Train on windows of a shipped series; score the held-out tail against baselines."""
    def fresh():
        config = _base_config(args, "lstm-forecaster", epochs=150, lr=3e-3)
        series = _option(args, "series", "sunspots")
        config.update(series=series, history=_option(args, "history",
                                                      {"sunspots": 24, "co2": 36}.get(series, 24)),
                      horizon=_option(args, "horizon", 1), test_fraction=TEST_FRACTION)
        config["model_kwargs"] = dict(input_size=2, hidden_size=_option(args, "hidden_size", 64),
                                      num_layers=_option(args, "num_layers", 1),
                                      horizon=config["horizon"], cell=_option(args, "cell", "lstm"),
                                      dropout=_option(args, "dropout", 0.0))
        return config
    config, resume = _start(args, fresh)
    manual_seed(config["seed"])
    times, values, period = load_series(config["series"])
    history_len, horizon = config["history"], config["horizon"]
    tail_start = len(values) - int(round(len(values) * config["test_fraction"]))
    train_part = values[:tail_start]
    norm = {"mean": float(train_part.mean()), "std": float(train_part.std()),
            "delta_std": float(np.diff(train_part).std())}
    config.update(period=period, normalization=norm)
    inputs, targets, anchors = forecast_windows(values, history_len, horizon, **norm)
    starts = np.arange(len(inputs))
    train_idx = starts[starts + history_len + horizon <= tail_start]
    test_idx = starts[starts + history_len >= tail_start]
    n_val = int(round(len(train_idx) * config["val_split"]))
    fit_idx, val_idx = train_idx[:len(train_idx) - n_val], train_idx[len(train_idx) - n_val:]
    model = get_model("lstm-forecaster", **config["model_kwargs"])
    run_dir = _run_dir(args, config, resume)
    monitor = "val_loss" if n_val else "loss"
    optimizer, scheduler, callbacks = _trainer_parts(args, model, config, run_dir, resume,
                                                     monitor, ProgressBar)
    trainer = Trainer(model, optimizer, nn.MSELoss(), (), callbacks, scheduler,
                              clip_grad_norm=config["clip_grad_norm"],
                              clip_grad_value=config.get("clip_grad_value"), config=config)
    _resume(trainer, args, resume, out)
    out(f"training lstm-forecaster on {config['series']} ({len(values)} values, period "
        f"{period}): windows of {history_len} -> next {horizon}, {len(fit_idx)} for training, "
        f"{n_val} for validation, {len(test_idx)} in the held-out tail (from "
        f"{times[tail_start]}); {config['epochs']} epochs, {config['optimizer']} lr "
        f"{config['lr']}")
    start = time.perf_counter()
    trainer.fit(DataLoader(ArrayDataset(inputs[fit_idx], targets[fit_idx]),
                           config["batch_size"], shuffle=True, seed=config["seed"]),
                config["epochs"],
                DataLoader(ArrayDataset(inputs[val_idx], targets[val_idx]), 512) if n_val
                else None)
    wall = time.perf_counter() - start
    best = run_dir / "best.safetensors"
    if best.exists():
        model.load_state_dict(load_checkpoint(best).model_state)
    results = evaluate_forecasts(model, values, inputs[test_idx], anchors[test_idx], test_idx,
                                 config)
    results.update(wall_seconds=wall, config=config)
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    out(forecast_table(results, config) + f"\n\nRun directory: {run_dir}")
    return run_dir, results


def evaluate_forecasts(model, values, windows, anchors, starts, config):
    """RMSE and MAE (original units) of the model and the two naive baselines."""
    model.eval()
    with no_grad():
        changes = model(Tensor(windows)).numpy()
    predictions = anchors[:, None] + changes * config["normalization"]["delta_std"]
    horizon, history = config["horizon"], config["history"]
    truth = values[starts[:, None] + history + np.arange(horizon)]
    last, seasonal = naive_forecasts(values, starts, history, horizon, config["period"])
    return {"model": forecast_errors(predictions, truth),
            "last_value": forecast_errors(last, truth),
            "seasonal_naive": forecast_errors(seasonal, truth),
            "test_windows": int(len(starts))}


def forecast_table(results, config):
    lines = [f"\nHeld-out tail of {config['series']} ({results['test_windows']} forecasts of "
             f"the next {config['horizon']} value(s)):",
             "| forecast | RMSE | MAE |", "|---|---|---|"]
    names = {"model": f"lstm-forecaster ({config['model_kwargs']['cell']})",
             "last_value": "naive: last value",
             "seasonal_naive": f"seasonal naive (period {config['period']})"}
    for key, name in names.items():
        lines.append(f"| {name} | {results[key]['rmse']:.3f} | {results[key]['mae']:.3f} |")
    return "\n".join(lines)
