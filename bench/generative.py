"""The unsupervised models on Fashion-MNIST, each beside a reference trained the same way in
the same run; prints a Markdown block for BENCHMARKS.md and writes sample grids as PNG files
under bench/results/.

    vae    layerwise VAE vs the same VAE in PyTorch: same initial weights, batches and ε;
           test ELBO (nats per image, one seeded ε per image), wall time, sample grids.
    dcgan  layerwise DCGAN vs the same DCGAN in PyTorch: same initial weights, batches and
           noise; classifier-FID (features of a seed004-cnn trained by layerwise) of 5,000
           samples against 5,000 test images, the real-vs-real floor, fixed-noise grids.
    rbm    layerwise BernoulliRBM vs scikit-learn's, same hyperparameters, same binarized
           images: pseudo-likelihood, wall time, logistic-regression probe on the features.
    pca    dense autoencoder codes vs PCA at the same dimension: test reconstruction MSE,
           logistic-regression and 5-NN probe accuracy on the codes.
    dbn    DBN pre-trained on all training images then fine-tuned on 1,000 labels vs the
           same MLP from random initialization fine-tuned the same way.

    python bench/generative.py all                         # the full run (see BENCHMARKS.md)
    python bench/generative.py vae --epochs 1 --limit 2000 # a smoke test
"""
import argparse
import os
import sys
import time

COMPARISONS = ("vae", "dcgan", "rbm", "pca", "dbn")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("comparison", choices=COMPARISONS + ("all",))
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: vae 20, dcgan 5, rbm 10, pca 20, dbn 10 "
                        "per RBM)")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images")
    p.add_argument("--latent-dim", type=int, default=None,
                   help="vae latent size (2), dcgan noise size (64), pca/autoencoder code size (32)")
    p.add_argument("--labels", type=int, default=1000, help="dbn: labelled images (1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--data-dir", default=None)
    p.add_argument("--results", default=os.path.join(os.path.dirname(__file__), "results"))
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "LAYERWISE_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layerwise as lw  # noqa: E402
from layerwise.data import get_dataset  # noqa: E402

import generative_cases as cases  # noqa: E402


def load(args):
    train = get_dataset("fashion-mnist", train=True, root=args.data_dir)
    test = get_dataset("fashion-mnist", train=False, root=args.data_dir)
    x, y = train.images, train.labels
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    return x, y, test.images, test.labels


def main():
    args = ARGS
    os.makedirs(args.results, exist_ok=True)
    data = load(args)
    lw.manual_seed(args.seed)
    import torch
    torch.set_num_threads(args.threads)
    blocks = []
    for name in (COMPARISONS if args.comparison == "all" else (args.comparison,)):
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        blocks.append(getattr(cases, name)(args, *data))
        print(f"   ({(time.perf_counter() - start) / 60:.1f} min)", file=sys.stderr, flush=True)
    command = "python bench/generative.py " + " ".join(sys.argv[1:])
    print(f"\n{len(data[0]):,} training images, {len(data[2]):,} test images, seed {args.seed}, "
          f"{args.threads} threads. Command: `{command}`\n")
    print("\n\n".join(blocks))


if __name__ == "__main__":
    main()
