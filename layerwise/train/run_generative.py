"""Training runs of the unsupervised families, as ``layerwise train --model NAME`` performs them.

Same shape as the classifiers' run (``train/run.py``): load the dataset, hold out a
validation split, train with a progress bar, write ``last``/``best`` safetensors
checkpoints (whose config records the model name and its hyperparameters, so
``layerwise sample`` can rebuild it), ``history.csv``, the pictures, ``results.json``
and ``report.html`` into a run directory.

- autoencoder, conv-autoencoder, denoising-autoencoder, sparse-autoencoder, vae: here;
- gan, dcgan: ``run_gan.py``;  rbm, dbn: ``run_rbm.py``.
"""
import json
import time
from pathlib import Path

import numpy as np

from ..autograd.factories import tensor
from ..autograd.grad_mode import no_grad
from ..autograd.random import get_rng_state, manual_seed
from ..data import get_dataset
from ..models.generative import build_generative
from .callbacks import CSVLogger, History, ModelCheckpoint, ProgressBar, TerminateOnNaN
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import Mean
from .run import _split, make_optimizer
from .tasks import register_task
from .trainer import _json_rng

AUTOENCODERS = ("autoencoder", "conv-autoencoder", "denoising-autoencoder", "sparse-autoencoder")


# ------------------------------------------------------------------ shared pieces
def hyperparameters(args):
    """The model hyperparameters given on the command line (only those set)."""
    options = {}
    latent = getattr(args, "latent_dim", None)
    if latent is not None:
        options["latent_dim" if args.model in ("vae", "gan", "dcgan") else "code_dim"] = latent
    hidden = getattr(args, "hidden_units", None)
    if hidden:
        sizes = [int(s) for s in str(hidden).split(",") if s.strip()]
        options["n_hidden" if args.model == "rbm" else "hidden"] = \
            sizes[0] if args.model == "rbm" else sizes
    for name in ("noise", "noise_level", "sparsity_target", "sparsity_weight", "visible"):
        if getattr(args, name, None) is not None:
            options[name] = getattr(args, name)
    return options


def prepare(args, default_lr, default_epochs=5):
    """(config, train images, val images, test set, resume checkpoint or None)."""
    resume = load_checkpoint(args.resume) if getattr(args, "resume", None) else None
    if resume:
        config = dict(resume.config)
        if args.epochs is not None:
            config["epochs"] = args.epochs
    else:
        config = dict(model=args.model, dataset=args.dataset, batch_size=args.batch_size,
                      epochs=args.epochs or default_epochs, optimizer=args.optimizer,
                      lr=args.lr if args.lr is not None else default_lr,
                      momentum=args.momentum, weight_decay=args.weight_decay, seed=args.seed,
                      val_split=args.val_split, k=getattr(args, "k", 1),
                      persistent=bool(getattr(args, "persistent", False)))
    manual_seed(config["seed"])
    train_set = get_dataset(config["dataset"], train=True, root=args.data_dir)
    test_set = get_dataset(config["dataset"], train=False, root=args.data_dir)
    limit = getattr(args, "limit", None)
    if limit:
        train_set.arrays = tuple(a[:limit] for a in train_set.arrays)
        test_set.arrays = tuple(a[:max(limit // 6, 100)] for a in test_set.arrays)
    _, channels, size, _ = train_set.images.shape
    if not resume:
        config["model_args"] = dict(hyperparameters(args), in_channels=channels, image_size=size)
        config["classes"] = list(train_set.classes)
    fit_set, val_set = _split(train_set, config["val_split"], config["seed"])
    indices = getattr(fit_set, "indices", np.arange(len(train_set)))
    train_images = train_set.images[indices]
    val_images = train_set.images[val_set.indices] if val_set is not None else None
    return config, train_images, val_images, test_set, resume


def run_directory(args, config, resume):
    if resume:
        return Path(args.resume).parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(args.out or Path("runs") / f"{config['model']}-{config['dataset']}-{stamp}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def batches(images, batch_size, seed, epoch):
    """Shuffled mini-batches of ``images`` (the same order for a given seed and epoch)."""
    order = np.random.default_rng([seed, epoch]).permutation(len(images))
    for start in range(0, len(images), batch_size):
        yield images[order[start:start + batch_size]]


class GenerativeLoop:
    """The part of ``Trainer`` the callbacks use (progress bar, CSV log, checkpoints),
    for loops that are not "loss(model(x), y)": the runner gives one epoch's function."""

    def __init__(self, model, optimizer, config, run_dir, progress=True, monitor="val_loss",
                 resume=None):
        self.model, self.optimizer, self.config, self.scheduler = model, optimizer, config, None
        self.history = History()
        self.callbacks = [self.history, TerminateOnNaN(),
                          CSVLogger(Path(run_dir) / "history.csv", append=bool(resume)),
                          ModelCheckpoint(run_dir, monitor=monitor, mode="min")]
        if progress:
            self.callbacks.append(ProgressBar())
        self.start_epoch, self.epoch, self.epochs, self.steps_per_epoch = 0, 0, 0, 0
        self.stop_training = False
        if resume is not None:
            resume.restore(model, optimizer)
            self.start_epoch = resume.epoch
            if resume.history is not None:
                self.history.load_state(resume.history)

    def current_lr(self):
        return float(self.optimizer.param_groups[0]["lr"]) if self.optimizer else float("nan")

    def save_checkpoint(self, path):
        return save_checkpoint(path, self.model, self.optimizer, epoch=self.start_epoch,
                               rng_state=_json_rng(get_rng_state()), history=self.history.state(),
                               config=self.config)

    def batch_end(self, batch, logs):
        for cb in self.callbacks:
            cb.on_batch_end(self, batch, logs)

    def run(self, epochs, steps_per_epoch, train_epoch):
        """``train_epoch(epoch) -> logs`` (calling ``batch_end`` per batch) for each epoch."""
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        for cb in self.callbacks:
            cb.on_train_begin(self)
        for epoch in range(self.start_epoch, epochs):
            self.epoch = epoch
            self.model.train()
            for cb in self.callbacks:
                cb.on_epoch_begin(self, epoch)
            logs = train_epoch(epoch)
            logs["lr"] = self.current_lr()
            self.start_epoch = epoch + 1
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)
            if self.stop_training:
                break
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history.history


def finish(run_dir, config, results, figures, model, out, wall):
    """results.json and report.html; print the summary."""
    from ..viz.generative_report import write_generative_report
    results = dict(results, wall_seconds=wall, config=config)
    (Path(run_dir) / "results.json").write_text(json.dumps(
        {k: v for k, v in results.items() if k != "cards"}, indent=2, default=float))
    try:
        report = write_generative_report(run_dir, config, results, figures, repr(model))
    except Exception as err:  # noqa: BLE001 - the results are saved already
        report = f"not written ({type(err).__name__}: {err})"
    shown = ", ".join(f"{k} {v:.4f}" for k, v in results.items()
                      if isinstance(v, float) and k != "wall_seconds")
    out(f"\n{config['model']} on {config['dataset']}: {shown} (trained in {wall:.0f} s)")
    out(f"Run directory: {run_dir}\n  checkpoints: {run_dir / 'best.safetensors'}, "
        f"{run_dir / 'last.safetensors'}\n  pictures:    " +
        ", ".join(name for _, name, _ in figures) + f"\n  report:      {report}")
    return results


# ------------------------------------------------------------------ autoencoders and VAE
@no_grad()
def evaluate_terms(model, images, batch_size=500):
    """Mean of every loss term over ``images`` in eval mode (a seeded ε for the VAE)."""
    model.eval()
    means, rng = {}, np.random.default_rng(0)
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size]
        if config_is_vae(model):
            terms = model.losses(tensor(x), rng.standard_normal(
                (len(x), model.latent_dim)).astype(np.float32))
        else:
            terms = model.losses(tensor(x))
        for key, value in terms.items():
            means.setdefault(key, Mean()).update(float(value.item() if hasattr(value, "item")
                                                       else value), len(x))
    model.train()
    return {k: m.value for k, m in means.items()}


def config_is_vae(model):
    return hasattr(model, "fc_logvar")


@no_grad()
def codes_of(model, images, batch_size=500):
    model.eval()
    parts = []
    for start in range(0, len(images), batch_size):
        code = model.encode(tensor(images[start:start + batch_size]))
        parts.append((code[0] if isinstance(code, tuple) else code).data)
    return np.concatenate(parts)


@no_grad()
def reconstruct(model, images):
    model.eval()
    if config_is_vae(model):
        mu, _ = model.encode(tensor(images))
        return model.decode(mu).data
    return model(tensor(images)).data


@register_task(*AUTOENCODERS, "vae")
def train_autoencoder(args, out=print):
    """Train an autoencoder or the VAE; returns (run_dir, results)."""
    from ..viz import generative as viz
    config, train_images, val_images, test_set, resume = prepare(args, default_lr=1e-3)
    model = build_generative(config)
    optimizer = make_optimizer(config["optimizer"], model.parameters(), lr=config["lr"],
                               momentum=config["momentum"], weight_decay=config["weight_decay"])
    run_dir = run_directory(args, config, resume)
    loop = GenerativeLoop(model, optimizer, config, run_dir, args.progress,
                          "val_loss" if val_images is not None else "loss", resume)
    size = config["batch_size"]

    def train_epoch(epoch):
        means = {}
        for b, x in enumerate(batches(train_images, size, config["seed"], epoch)):
            terms = model.losses(tensor(x))
            optimizer.zero_grad()
            terms["loss"].backward()
            optimizer.step()
            logs = {k: float(v.item() if hasattr(v, "item") else v) for k, v in terms.items()}
            for key, value in logs.items():
                means.setdefault(key, Mean()).update(value, len(x))
            loop.batch_end(b, dict(logs, size=len(x)))
        logs = {k: m.value for k, m in means.items()}
        if val_images is not None:
            logs.update({f"val_{k}": v for k, v in evaluate_terms(model, val_images).items()})
        return logs

    out(f"training {config['model']} on {config['dataset']} ({len(train_images):,} images) for "
        f"{config['epochs']} epochs, batch {size}, {config['optimizer']} lr {config['lr']}")
    start = time.perf_counter()
    history = loop.run(config["epochs"], -(-len(train_images) // size), train_epoch)
    wall = time.perf_counter() - start
    test_images, labels = test_set.images, test_set.labels
    results = {f"test_{k}": v for k, v in evaluate_terms(model, test_images).items()}
    recon = reconstruct(model, test_images[:2000])
    results["test_mse_per_pixel"] = float(np.mean((recon - test_images[:2000]) ** 2))
    keys = [k for k in history if not k.startswith(("val_", "lr", "mean_"))]
    viz.plot_curves(history, keys + [f"val_{k}" for k in keys if f"val_{k}" in history],
                    run_dir / "curves.png", f"{config['model']}: loss terms per epoch")
    shown = test_images[:12]
    rows, names = [shown], ["input"]
    if hasattr(model, "noise"):
        noisy = model.corrupt(shown).data
        rows, names = rows + [noisy], names + [f"{model.noise} noise"]
        model.eval()
        with no_grad():
            rows.append(model(tensor(noisy)).data)
    else:
        rows.append(reconstruct(model, shown))
    names.append("reconstruction")
    viz.plot_reconstructions(rows, run_dir / "reconstructions.png",
                             f"{config['model']}: test images and their reconstructions", names)
    viz.plot_latent_map(codes_of(model, test_images[:5000]), labels[:5000],
                        run_dir / "latent_map.png", f"{config['model']}: codes of test images",
                        config.get("classes"))
    figures = [("Training", "curves.png", "Loss terms per epoch (training and validation)."),
               ("Reconstructions", "reconstructions.png", "Top: test inputs; bottom: the "
                "model's reconstructions."),
               ("Latent space", "latent_map.png", "Codes of 5,000 test images coloured by "
                "class (their first two principal components when the code has more than 2 "
                "numbers).")]
    if config_is_vae(model):
        results.update({"test_elbo": -results["test_loss"]})
        viz.plot_image_grid(model.sample(64, np.random.default_rng(config["seed"])),
                            run_dir / "samples.png", "VAE: images decoded from z ~ N(0, I)")
        viz.plot_latent_lattice(lambda z: model.decode(tensor(z)).data,
                                run_dir / "latent_lattice.png", "VAE: decoded latent lattice",
                                model.latent_dim)
        viz.plot_image_grid(model.interpolate(test_images[0], test_images[1], 10),
                            run_dir / "interpolation.png", "VAE: interpolation between two "
                            "test images' means", columns=10, xlabel="t = 0 ... 1")
        figures += [("Generation", "samples.png", "Samples from the prior."),
                    ("Generation", "latent_lattice.png", "Decoded images on a lattice of "
                     "normal quantiles of (z₁, z₂)."),
                    ("Generation", "interpolation.png", "Decoded means along a straight line.")]
    if hasattr(model, "sparsity_target"):
        viz.plot_filters_grid(model.encoder[1].weight.data, run_dir / "filters.png",
                              "Sparse autoencoder: encoder weights of the first 64 code units")
        figures.append(("Features", "filters.png", "What each sparse code unit responds to."))
    results["cards"] = [("test loss", f"{results['test_loss']:.2f}"),
                        ("MSE per pixel", f"{results['test_mse_per_pixel']:.4f}")]
    results = finish(run_dir, config, results, figures, model, out, wall)
    return run_dir, results


from . import run_gan, run_rbm  # noqa: E402,F401  (register the other families' runners)
