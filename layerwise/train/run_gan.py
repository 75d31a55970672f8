"""``layerwise train --model gan|dcgan``: adversarial training with the non-saturating loss.

Images are scaled to [-1, 1]; G and D each get an Adam optimizer (lr 2e-4 by default,
β1 = 0.5, β2 = 0.999, as in DCGAN); per batch one D step then one G step
(``GAN.train_step``). Logged per epoch: L_D, L_G, mean D(x) and D(G(z)). Every epoch
the generator draws the same 64 noise vectors: ``samples/epoch_NNN.png``, and all the
epochs' grids make ``training.gif``. With ``--fid-classifier CHECKPOINT`` (a classifier
trained by ``layerwise train``), the classifier-FID of 2,000 samples against the test
set is reported beside the real-vs-real floor.
"""
import time

import numpy as np

from .. import optim
from ..autograd.factories import tensor
from .metrics import Mean
from .run_generative import (GenerativeLoop, batches, build_generative, finish, prepare,
                             run_directory)
from .tasks import register_task


def classifier_fid(checkpoint, generated, real, out=print):
    """(FID of generated vs real, FID of real vs real) with the classifier of ``checkpoint``."""
    from ..models.fid import ClassifierFID
    from ..train.run import build_model
    from .checkpoint import load_checkpoint
    ckpt = load_checkpoint(checkpoint)
    classifier = build_model(ckpt.config)
    classifier.load_state_dict(ckpt.model_state)
    fid = ClassifierFID(classifier)
    half = len(real) // 2
    return fid.distance(generated, real[:half]), fid.distance(real[half:], real[:half])


@register_task("gan", "dcgan")
def train_gan(args, out=print):
    """Train an MLP GAN or a DCGAN; returns (run_dir, results)."""
    from ..viz import generative as viz
    config, train_images, _, test_set, resume = prepare(args, default_lr=2e-4)
    model = build_generative(config)
    beta1 = getattr(args, "beta1", None) or 0.5
    config.setdefault("betas", [beta1, 0.999])
    optimizer_g = optim.Adam(model.generator.parameters(), lr=config["lr"],
                             betas=tuple(config["betas"]))
    optimizer_d = optim.Adam(model.discriminator.parameters(), lr=config["lr"],
                             betas=tuple(config["betas"]))
    run_dir = run_directory(args, config, resume)
    (run_dir / "samples").mkdir(exist_ok=True)
    both = optim.OptimizerGroup(generator=optimizer_g, discriminator=optimizer_d)
    loop = GenerativeLoop(model, both, config, run_dir, args.progress, "loss_g", resume)
    fixed_noise = model.latent(64, np.random.default_rng(config["seed"] + 1))
    scaled = train_images * 2 - 1
    size, frames, captions = config["batch_size"], [], []
    steps = {"loss_d": [], "loss_g": [], "d_real": [], "d_fake": []}

    def train_epoch(epoch):
        means = {}
        for b, x in enumerate(batches(scaled, size, config["seed"], epoch)):
            logs = model.train_step(tensor(x), optimizer_g, optimizer_d)
            for key, value in logs.items():
                means.setdefault(key, Mean()).update(value, len(x))
                if b % 20 == 0:
                    steps[key].append(value)
            loop.batch_end(b, dict(logs, loss=logs["loss_d"], size=len(x)))
        grid = model.sample(64, z=fixed_noise)
        viz.plot_image_grid(grid, run_dir / "samples" / f"epoch_{epoch + 1:03d}.png",
                            f"{config['model']}: fixed-noise samples after epoch {epoch + 1}")
        frames.append(viz.tile_images(grid))
        captions.append(f"epoch {epoch + 1}")
        logs = {k: m.value for k, m in means.items()}
        logs["loss"] = logs["loss_d"]
        return logs

    out(f"training {config['model']} on {config['dataset']} ({len(train_images):,} images) for "
        f"{config['epochs']} epochs, batch {size}, Adam lr {config['lr']} betas "
        f"{tuple(config['betas'])}, non-saturating loss")
    start = time.perf_counter()
    history = loop.run(config["epochs"], -(-len(scaled) // size), train_epoch)
    wall = time.perf_counter() - start
    if frames:
        viz.save_gif(frames, run_dir / "training.gif", captions)
    viz.plot_image_grid(model.sample(64, z=fixed_noise), run_dir / "samples.png",
                        f"{config['model']}: samples from the fixed noise")
    viz.plot_gan_history(history, run_dir / "curves.png",
                         f"{config['model']}: losses and discriminator outputs per epoch")
    viz.plot_gan_history(dict(steps, step_unit="logged step (every 20 batches)"),
                         run_dir / "curves_steps.png", f"{config['model']}: within epochs")
    results = {k: float(v[-1]) for k, v in history.items() if k in steps and v}
    figures = [("Samples", "samples.png", "64 images from the same fixed noise vectors."),
               ("Samples", "training.gif", "The fixed-noise samples epoch after epoch."),
               ("Training", "curves.png", "L_D and L_G; D(x) and D(G(z)) per epoch."),
               ("Training", "curves_steps.png", "The same every 20 batches.")]
    fid_checkpoint = getattr(args, "fid_classifier", None)
    if fid_checkpoint:
        generated = model.sample(2000, np.random.default_rng(config["seed"] + 2))
        results["classifier_fid"], results["classifier_fid_real_vs_real"] = classifier_fid(
            fid_checkpoint, generated, test_set.images[:4000])
    results["cards"] = [("D(x)", f"{results.get('d_real', float('nan')):.3f}"),
                        ("D(G(z))", f"{results.get('d_fake', float('nan')):.3f}")]
    results = finish(run_dir, config, results, figures, model, out, wall)
    return run_dir, results
