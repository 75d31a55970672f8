"""``layerwise sample CHECKPOINT --n 64``: new images from a trained generative model, as a PNG grid.

Works with the checkpoints of ``layerwise train --model vae|gan|dcgan|rbm|dbn`` (VAE:
decoded z ~ N(0, I); GANs: G(z); RBM and DBN: Gibbs chains, ``--gibbs-steps``).
"""
from pathlib import Path


def _add_sample(sub):
    p = sub.add_parser("sample", help="draw new images from a generative checkpoint",
                       description="Draw N images from a VAE, GAN, DCGAN, RBM or DBN checkpoint "
                                   "written by `layerwise train` and save them as a PNG grid.")
    p.add_argument("checkpoint", help="a .safetensors checkpoint (or its run directory)")
    p.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    p.add_argument("-o", "--out", default=None, help="PNG file (default samples-<model>.png)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--latent-dim", type=int, default=None,
                   help="expected latent size (checked against the checkpoint)")
    p.add_argument("--gibbs-steps", type=int, default=1000,
                   help="Gibbs steps for rbm/dbn (default 1000)")
    p.add_argument("--columns", type=int, default=8, help="images per row (default 8)")
    return p


GENERATIVE = ("vae", "gan", "dcgan", "rbm", "dbn")


def load_generative(path, latent_dim=None):
    """(config, model) of a generative checkpoint, with clear errors for anything else."""
    from ..io import CheckpointError
    from ..models.generative import build_generative
    from ..train.checkpoint import load_checkpoint
    path = Path(path)
    if path.is_dir():
        path = path / "last.safetensors"
    if not path.is_file():
        raise ValueError(f"no such checkpoint: {str(path)!r}")
    ckpt = load_checkpoint(path)
    name = ckpt.config.get("model")
    if name not in GENERATIVE:
        raise CheckpointError(f"{path}: model {name!r} cannot generate images; `layerwise sample` "
                              f"needs a checkpoint of {', '.join(GENERATIVE)}")
    model = build_generative(ckpt.config)
    if latent_dim is not None and hasattr(model, "latent_dim") and latent_dim != model.latent_dim:
        raise ValueError(f"{path}: --latent-dim {latent_dim} does not match the checkpoint's "
                         f"{name} latent size {model.latent_dim}")
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return ckpt.config, model


def cmd_sample(args):
    import numpy as np

    from ..viz.generative import plot_image_grid
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    config, model = load_generative(args.checkpoint, args.latent_dim)
    rng = np.random.default_rng(args.seed)
    name = config["model"]
    args_ = config.get("model_args", {})
    shape = (args_.get("in_channels", 1), args_.get("image_size", 28), args_.get("image_size", 28))
    if name in ("rbm", "dbn"):
        images = model.sample(args.n, k=args.gibbs_steps, generator=rng)
    else:
        images = model.sample(args.n, generator=rng)
    images = np.asarray(images).reshape((args.n,) + shape)
    out = Path(args.out or f"samples-{name}.png")
    plot_image_grid(images, out, f"{args.n} samples of {name} ({Path(args.checkpoint).name})",
                    columns=args.columns)
    print(f"wrote {args.n} samples of {name} to {out}")


def register(sub):
    _add_sample(sub).set_defaults(func=cmd_sample)
