"""``layerwise train --model rbm|dbn``: contrastive divergence, then (DBN) fine-tuning.

RBM: pixels binarized at 0.5 (Bernoulli visible units; ``--visible gaussian`` standardizes
them instead), CD-k (``--k``) or persistent CD (``--persistent``), SGD with the given lr
(0.05 by default) and momentum; logged: reconstruction error and pseudo-likelihood.
DBN: greedy layer-wise pre-training of the RBM stack (``--hidden-units 500,250``), each
layer for ``--epochs`` epochs, then the unrolled MLP is fine-tuned with Adam on the labels
(``--labels N`` of them) for ``--finetune-epochs`` epochs; the test accuracy is reported.
"""
import time

import numpy as np

from .. import nn
from .metrics import Mean
from .run import make_optimizer
from .run_generative import (GenerativeLoop, batches, build_generative, finish, prepare,
                             run_directory)
from .tasks import register_task


def visible_data(images, visible):
    """(N, pixels) visible vectors: binarized for Bernoulli units, standardized for Gaussian."""
    flat = images.reshape(len(images), -1)
    if visible == "gaussian":
        return ((flat - flat.mean(axis=0)) / (flat.std(axis=0) + 0.1)).astype(np.float32)
    return (flat > 0.5).astype(np.float32)


def _pictures(rbm, data, run_dir, name, seed):
    from ..viz import generative as viz
    viz.plot_filters_grid(rbm.weight.data, run_dir / "filters.png",
                          f"{name}: weights of the first 64 hidden units (first layer)")
    shown = data[:12]
    recon = rbm.visible_mean(rbm.hidden_probabilities(shown))
    viz.plot_reconstructions([shown, recon], run_dir / "reconstructions.png",
                             f"{name}: binarized test images and E[v | p(h|v)]")
    return [("Features", "filters.png", "First-layer weights (red positive, blue negative)."),
            ("Reconstructions", "reconstructions.png", "Top: test input; bottom: one "
             "mean-field up-down pass.")]


@register_task("rbm")
def train_rbm(args, out=print):
    from ..viz import generative as viz
    config, train_images, val_images, test_set, resume = prepare(args, default_lr=0.05)
    if not resume:
        config["optimizer"] = "sgd"
        config["momentum"] = args.momentum or 0.5
    rbm = build_generative(config)
    train = visible_data(train_images, rbm.visible)
    val = visible_data(val_images, rbm.visible) if val_images is not None else None
    test = visible_data(test_set.images, rbm.visible)
    optimizer = make_optimizer("sgd", rbm.parameters(), lr=config["lr"],
                               momentum=config["momentum"], weight_decay=config["weight_decay"])
    run_dir = run_directory(args, config, resume)
    monitor = "val_reconstruction_error" if val is not None else "loss"
    loop = GenerativeLoop(rbm, optimizer, config, run_dir, args.progress, monitor, resume)
    size, rng = config["batch_size"], np.random.default_rng(config["seed"])

    def train_epoch(epoch):
        error = Mean()
        for b, v in enumerate(batches(train, size, config["seed"], epoch)):
            rbm.contrastive_divergence(v, k=config["k"], persistent=config["persistent"], rng=rng)
            optimizer.step()
            value = rbm.reconstruction_error(v)
            error.update(value, len(v))
            loop.batch_end(b, {"loss": value, "size": len(v)})
        logs = {"loss": error.value, "reconstruction_error": error.value}
        if val is not None:
            logs["val_reconstruction_error"] = rbm.reconstruction_error(val)
            if rbm.visible == "bernoulli":
                logs["val_pseudo_likelihood"] = float(rbm.pseudo_likelihood(val, rng).mean())
        return logs

    kind = f"PCD-{config['k']}" if config["persistent"] else f"CD-{config['k']}"
    out(f"training rbm ({rbm.n_visible} {rbm.visible} visible, {rbm.n_hidden} hidden) on "
        f"{config['dataset']} ({len(train):,} images) by {kind} for {config['epochs']} epochs, "
        f"batch {size}, SGD lr {config['lr']} momentum {config['momentum']}")
    start = time.perf_counter()
    history = loop.run(config["epochs"], -(-len(train) // size), train_epoch)
    wall = time.perf_counter() - start
    results = {"test_reconstruction_error": rbm.reconstruction_error(test)}
    if rbm.visible == "bernoulli":
        results["test_pseudo_likelihood"] = float(rbm.pseudo_likelihood(test, rng).mean())
        results["test_pseudo_likelihood_exact_1000"] = float(
            rbm.pseudo_likelihood(test[:1000], exact=True).mean())
    figures = _pictures(rbm, test, run_dir, "RBM", config["seed"])
    viz.plot_image_grid(rbm.sample(64, k=1000, generator=rng).reshape(64, *test_set.images.shape[1:]),
                        run_dir / "samples.png", "RBM: E[v|h] after 1,000 Gibbs steps from noise")
    viz.plot_curves(history, [k for k in ("reconstruction_error", "val_reconstruction_error")
                              if k in history], run_dir / "curves.png",
                    "RBM: reconstruction error per epoch", ylabel="mean squared error per pixel")
    figures += [("Samples", "samples.png", "64 Gibbs chains started from random pixels."),
                ("Training", "curves.png", "Reconstruction error per epoch.")]
    results["cards"] = [("reconstruction error", f"{results['test_reconstruction_error']:.4f}")]
    results = finish(run_dir, config, results, figures, rbm, out, wall)
    return run_dir, results


@register_task("dbn")
def train_dbn(args, out=print):
    from ..viz import generative as viz
    from .callbacks import ProgressBar
    from .trainer import Trainer
    config, train_images, val_images, test_set, resume = prepare(args, default_lr=0.05)
    if resume:
        raise ValueError("layerwise train --resume: not supported for dbn runs (pre-training "
                         "and fine-tuning are two stages); start a new run")
    config.update(momentum=args.momentum or 0.5, labels=getattr(args, "labels", None),
                  finetune_epochs=getattr(args, "finetune_epochs", None) or config["epochs"])
    dbn = build_generative(config)
    data = visible_data(train_images, dbn.visible)
    run_dir = run_directory(args, config, resume)
    loop = GenerativeLoop(dbn, None, config, run_dir, args.progress, "loss")
    layer_logs = []

    def on_batch(layer, batch, error, _):
        loop.batch_end(batch, {"loss": error, "size": config["batch_size"]})

    def pretrain_epoch(epoch):
        layer, layer_epoch = divmod(epoch, config["epochs"])
        x = dbn.transform(data, layers=layer) if layer else data
        logs = dbn.pretrain_layer(layer, x, 1, lr=config["lr"], k=config["k"],
                                  batch_size=config["batch_size"], persistent=config["persistent"],
                                  momentum=config["momentum"], seed=config["seed"] + layer_epoch,
                                  on_batch=on_batch)[-1]
        layer_logs.append(logs)
        return {"loss": logs["reconstruction_error"], "layer": layer + 1,
                **{k: v for k, v in logs.items() if k not in ("layer", "epoch")}}

    layers = len(dbn.rbms)
    out(f"pre-training dbn {dbn.sizes} greedily: {config['epochs']} epochs per layer, CD-"
        f"{config['k']}, SGD lr {config['lr']}; then fine-tuning for {config['finetune_epochs']} "
        f"epochs on {config['labels'] or len(data):,} labels")
    start = time.perf_counter()
    loop.run(config["epochs"] * layers, -(-len(data) // config["batch_size"]), pretrain_epoch)
    labels = test_set.labels
    count = config["labels"] or len(data)
    train_labels = get_train_labels(args, config, len(train_images))
    mlp = dbn.to_mlp(len(config["classes"]))
    trainer = Trainer(mlp, make_optimizer("adam", mlp.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                      callbacks=[ProgressBar()] if args.progress else [])
    from ..data import ArrayDataset, DataLoader
    trainer.fit(DataLoader(ArrayDataset(data[:count], train_labels[:count]), 64, shuffle=True,
                           seed=config["seed"]), config["finetune_epochs"])
    test = visible_data(test_set.images, dbn.visible)
    accuracy = trainer.evaluate(DataLoader(ArrayDataset(test, labels), 1000))["accuracy"]
    wall = time.perf_counter() - start
    from .checkpoint import save_checkpoint
    save_checkpoint(run_dir / "finetuned_mlp.safetensors", mlp,
                    config=dict(config, model="dbn-finetuned-mlp"))
    results = {"test_accuracy_finetuned": accuracy, "labels_used": count}
    results.update({f"layer{d['layer']}_{k}": v for d in layer_logs[-layers:] for k, v in d.items()
                    if k not in ("layer", "epoch")})
    figures = _pictures(dbn.rbms[0], test, run_dir, "DBN", config["seed"])
    viz.plot_image_grid(dbn.sample(64, k=500, generator=np.random.default_rng(config["seed"]))
                        .reshape(64, *test_set.images.shape[1:]), run_dir / "samples.png",
                        "DBN: top-RBM Gibbs chain (500 steps), then down the stack")
    figures.append(("Samples", "samples.png", "64 samples of the DBN's generative model."))
    results["cards"] = [("fine-tuned test accuracy", f"{accuracy:.2%}")]
    results = finish(run_dir, config, results, figures, dbn, out, wall)
    return run_dir, results


def get_train_labels(args, config, count):
    """The labels of the training images ``prepare`` kept (same split, same order)."""
    from ..data import get_dataset
    from .run import _split
    train_set = get_dataset(config["dataset"], train=True, root=args.data_dir)
    limit = getattr(args, "limit", None)
    if limit:
        train_set.arrays = tuple(a[:limit] for a in train_set.arrays)
    fit_set, _ = _split(train_set, config["val_split"], config["seed"])
    indices = getattr(fit_set, "indices", np.arange(len(train_set)))
    return train_set.labels[indices][:count]
