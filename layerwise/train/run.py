"""A complete training run, as ``layerwise train`` performs it.

Load the dataset (found on disk or fetched), normalize it, hold out a validation
split, build the model and optimizer, train with a progress bar, keep the best and
last checkpoints, then measure the test set and draw the curves and the confusion
matrix into the run directory.
"""
import json
import time
from pathlib import Path

import numpy as np

from .. import nn, optim
from ..autograd.random import manual_seed
from ..data import DataLoader, get_dataset, random_split, transforms
from ..models import get_model
from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar
from .checkpoint import load_checkpoint
from .metrics import confusion_matrix
from .trainer import Trainer, predict

OPTIMIZERS = {
    "sgd": lambda p, a: optim.SGD(p, lr=a["lr"], momentum=a.get("momentum", 0.0),
                                  weight_decay=a.get("weight_decay", 0.0)),
    "adam": lambda p, a: optim.Adam(p, lr=a["lr"], weight_decay=a.get("weight_decay", 0.0)),
    "adamw": lambda p, a: optim.AdamW(p, lr=a["lr"], weight_decay=a.get("weight_decay", 0.01)),
    "rmsprop": lambda p, a: optim.RMSprop(p, lr=a["lr"], momentum=a.get("momentum", 0.0),
                                          weight_decay=a.get("weight_decay", 0.0)),
    "adagrad": lambda p, a: optim.Adagrad(p, lr=a["lr"], weight_decay=a.get("weight_decay", 0.0)),
}


def make_optimizer(name, parameters, **hyper):
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](parameters, hyper)


def make_scheduler(name, optimizer, epochs):
    if name in (None, "none"):
        return None
    if name == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "plateau":
        return optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    raise ValueError(f"unknown lr schedule {name!r}; choose none, step, cosine or plateau")


class Normalizer:
    """The input normalization of a run, stored in its config: rescale only, or standardize."""

    def __init__(self, mean=None, std=None):
        self.mean, self.std = mean, std

    @classmethod
    def fit(cls, kind, images):
        if kind == "rescale":
            return cls()
        if kind == "standardize":
            return cls(float(images.mean()), float(images.std()))
        raise ValueError(f"unknown normalization {kind!r}; choose rescale or standardize")

    def __call__(self, images):
        if self.mean is None:
            return images
        return ((images - np.float32(self.mean)) / np.float32(self.std)).astype(np.float32)

    def config(self):
        return {"mean": self.mean, "std": self.std}


def _split(dataset, val_split, seed):
    if not val_split:
        return dataset, None
    n_val = int(round(len(dataset) * val_split))
    return tuple(random_split(dataset, [len(dataset) - n_val, n_val], seed=seed))


def build_model(config):
    """The model a checkpoint's config describes (its builder's own settings if recorded)."""
    if "model_kwargs" in config:
        return get_model(config["model"], **config["model_kwargs"])
    return get_model(config["model"], num_classes=config["num_classes"],
                     in_channels=config["in_channels"], image_size=config["image_size"])


def train_run(args, out=print):
    """Run ``layerwise train`` with parsed ``args``; returns (run_dir, test metrics)."""
    group = dist = None
    if getattr(args, "distributed", False):  # issue 11: data-parallel over MPI
        from ..distributed import training as dist
        group = dist.start(args)
        out = dist.rank0_printer(group, out)
    def load(what, fn):  # distributed: a rank that fails is named on every rank
        return fn() if group is None else dist.load(group, what, fn)
    resume = load("read the checkpoint", lambda: load_checkpoint(args.resume)) \
        if args.resume else None
    config = dict(resume.config) if resume else {}
    if not resume:
        config.update(model=args.model, dataset=args.dataset, epochs=args.epochs,
                      batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                      momentum=args.momentum, weight_decay=args.weight_decay,
                      augment=args.augment or "", seed=args.seed, val_split=args.val_split,
                      normalize=args.normalize, lr_schedule=args.lr_schedule)
    elif args.epochs is not None:
        config["epochs"] = args.epochs
    if config["epochs"] is None:
        config["epochs"] = 5
    manual_seed(config["seed"])
    train_set = load("load the training set",
                     lambda: get_dataset(config["dataset"], train=True, root=args.data_dir))
    test_set = load("load the test set",
                    lambda: get_dataset(config["dataset"], train=False, root=args.data_dir))
    if group is not None:
        dist.check_datasets(group, train_set, test_set)
    normalizer = Normalizer(**config["normalization"]) if "normalization" in config else \
        Normalizer.fit(config["normalize"], train_set.images)
    for ds in (train_set, test_set):
        ds.arrays = (normalizer(ds.images), ds.labels)
    _, channels, height, _ = train_set.images.shape
    config.update(num_classes=len(train_set.classes), in_channels=channels, image_size=height,
                  classes=list(train_set.classes), normalization=normalizer.config())
    fit_set, val_set = _split(train_set, config["val_split"], config["seed"])

    model = build_model(config)
    optimizer = make_optimizer(config["optimizer"], model.parameters(), lr=config["lr"],
                               momentum=config["momentum"], weight_decay=config["weight_decay"])
    scheduler = make_scheduler(config["lr_schedule"], optimizer, config["epochs"])
    augment = transforms.from_spec(config["augment"], (height, height)) \
        if config["augment"] else None
    train_loader = DataLoader(fit_set, config["batch_size"], shuffle=True, seed=config["seed"],
                              transform=augment)
    val_loader = DataLoader(val_set, 512) if val_set is not None else None
    trained = model
    if group is not None:  # shards of B/N samples per rank, SyncBatchNorm, DDP
        train_loader, val_loader = dist.loaders(group, fit_set, val_set, config, augment)
        trained = dist.wrap(group, model)
    main_rank = group is None or group.rank == 0

    run_dir = Path(args.resume).parent if resume else Path(args.out or _default_run_dir(config))
    monitor = "val_accuracy" if val_loader is not None else "accuracy"
    callbacks = []
    if main_rank:  # rank 0 alone writes the run directory and shows progress
        run_dir.mkdir(parents=True, exist_ok=True)
        callbacks = [ModelCheckpoint(run_dir, monitor=monitor),
                     CSVLogger(run_dir / "history.csv", append=bool(resume))]
    if args.progress and main_rank:
        callbacks.append(ProgressBar())
    if getattr(args, "patience", None):
        callbacks.append(EarlyStopping(monitor="val_loss" if val_loader else "loss",
                                       patience=args.patience))
    trainer = Trainer(trained, optimizer, nn.CrossEntropyLoss(), ("accuracy",), callbacks,
                      scheduler, clip_grad_norm=getattr(args, "clip_grad_norm", None),
                      config=config)
    if resume:
        trainer.load_checkpoint(args.resume)
        out(f"resuming {args.resume} after epoch {trainer.start_epoch}")
    if group is not None:
        dist.decorrelate_rng(group, config["seed"], trainer.start_epoch)
        out(dist.describe(group, config))
    out(f"training {config['model']} on {config['dataset']} ({len(fit_set):,} images"
        f"{f', {len(val_set):,} for validation' if val_set else ''}) for {config['epochs']} "
        f"epochs, batch {config['batch_size']}, {config['optimizer']} lr {config['lr']}"
        f"{', augment ' + config['augment'] if config['augment'] else ''}")
    start = time.perf_counter()
    trainer.fit(train_loader, config["epochs"], val_loader)
    wall = time.perf_counter() - start
    if not main_rank:  # rank 0 measures the test set and writes the report
        return run_dir, None

    logits = predict(model, test_set.images, batch_size=512)
    test = {"loss": cross_entropy_of_logits(logits, test_set.labels),
            "accuracy": float(np.mean(logits.argmax(axis=1) == test_set.labels))}
    report = write_outputs(run_dir, model, test_set, trainer.history.history, config, test, wall,
                           logits=logits)
    out(report)
    return run_dir, test


def _default_run_dir(config):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config['model']}-{config['dataset']}-{stamp}"


def cross_entropy_of_logits(logits, labels):
    """Mean cross-entropy of (N, C) logits against class indices (log-sum-exp, stable)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def write_outputs(run_dir, model, test_set, history, config, test, wall_seconds, logits=None):
    """Curves, confusion matrix, results.json and report.html in ``run_dir``; returns a
    readable summary."""
    from ..viz import plot_confusion_matrix, plot_history

    if logits is None:
        logits = predict(model, test_set.images, batch_size=512)
    predictions = logits.argmax(axis=1)
    matrix = confusion_matrix(predictions, test_set.labels, config["num_classes"])
    plot_history(history, run_dir / "curves.png",
                 title=f"{config['model']} on {config['dataset']}")
    plot_confusion_matrix(matrix, config["classes"], run_dir / "confusion_matrix.png")
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    results = {"test_loss": test["loss"], "test_accuracy": test["accuracy"],
               "per_class_accuracy": dict(zip(config["classes"], per_class.tolist())),
               "wall_seconds": wall_seconds, "epochs": len(history.get("loss", [])),
               "config": config}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    try:  # the run's results are saved already: a failing report must not hide them
        from ..viz.report import write_report
        report = write_report(run_dir, model, config, test_set, logits, history)
    except Exception as err:  # noqa: BLE001
        report = f"not written ({type(err).__name__}: {err}); try `layerwise report {run_dir}`"
    lines = [f"\nTest accuracy: {test['accuracy']:.2%}  (loss {test['loss']:.4f}, "
             f"{len(test_set):,} test images, trained in {wall_seconds:.0f} s)",
             "Per class: " + ", ".join(f"{c} {a:.0%}" for c, a in
                                        zip(config["classes"], per_class)),
             f"Run directory: {run_dir}",
             f"  checkpoints: {run_dir / 'best.safetensors'}, {run_dir / 'last.safetensors'}",
             f"  curves:      {run_dir / 'curves.png'}",
             f"  confusion:   {run_dir / 'confusion_matrix.png'}",
             f"  history:     {run_dir / 'history.csv'}",
             f"  report:      {report}"]
    return "\n".join(lines)
