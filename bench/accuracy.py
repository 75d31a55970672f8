"""Test accuracy and wall time of a model trained on Fashion-MNIST, layerwise beside PyTorch.

Both frameworks train the same architecture from the same initial weights (PyTorch
receives a copy of layerwise's initialization), on the same mini-batches in the same
order (and the same augmented images: augmentation is done once per batch with
layerwise's transforms and fed to both), with the same optimizer and schedule. Only
dropout masks and float rounding differ. Each framework trains alone (one after the
other), and its wall time covers data preparation, training and the test evaluation.

    python bench/accuracy.py                                   # seed003-cnn, 12 epochs
    python bench/accuracy.py --model seed003-cnn-bn --epochs 30 --augment \
        hflip,translate=0.1,erase --lr-schedule cosine
    python bench/accuracy.py --frameworks layerwise --epochs 1 --limit 2000   # smoke test
"""
import argparse
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="seed003-cnn")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-schedule", default="none", choices=["none", "cosine"])
    p.add_argument("--augment", default="", help="layerwise augmentation spec (see --help of "
                                                 "`layerwise train`)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frameworks", default="layerwise,torch")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--limit", type=int, default=None, help="use only this many training images")
    p.add_argument("--data-dir", default=None)
    return p.parse_args()


ARGS = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "LAYERWISE_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.data import DataLoader, get_dataset, transforms  # noqa: E402
from layerwise.models import get_model  # noqa: E402


def batches(train, epoch):
    """The epoch's (x, y) batches as ndarrays: same order and augmentation for both."""
    augment = transforms.from_spec(ARGS.augment) if ARGS.augment else None
    loader = DataLoader(train, ARGS.batch_size, shuffle=True, seed=ARGS.seed,
                        transform=augment, as_tensors=False)
    loader.set_epoch(epoch)
    return loader


def cosine_lr(epoch):
    if ARGS.lr_schedule == "cosine":
        return ARGS.lr * 0.5 * (1 + np.cos(np.pi * epoch / ARGS.epochs))
    return ARGS.lr


def train_layerwise(model, train, test):
    opt = optim.Adam(model.parameters(), lr=ARGS.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(ARGS.epochs):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(epoch)
        model.train()
        for x, y in batches(train, epoch):
            opt.zero_grad()
            loss_fn(model(lw.tensor(x)), lw.tensor(y)).backward()
            opt.step()
        print(f"  layerwise epoch {epoch + 1}: test accuracy {evaluate_layerwise(model, test):.4f}",
              file=sys.stderr, flush=True)
    return evaluate_layerwise(model, test)


def evaluate_layerwise(model, test):
    model.eval()
    correct = 0
    with lw.no_grad():
        for x, y in DataLoader(test, 1000, as_tensors=False):
            correct += int((model(lw.tensor(x)).numpy().argmax(1) == y).sum())
    return correct / len(test)


def train_torch(model, train, test):
    import torch
    opt = torch.optim.Adam(model.parameters(), lr=ARGS.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(ARGS.epochs):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(epoch)
        model.train()
        for x, y in batches(train, epoch):
            opt.zero_grad()
            loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            opt.step()
        print(f"  torch epoch {epoch + 1}: test accuracy {evaluate_torch(model, test):.4f}",
              file=sys.stderr, flush=True)
    return evaluate_torch(model, test)


def evaluate_torch(model, test):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in DataLoader(test, 1000, as_tensors=False):
            correct += int((model(torch.from_numpy(x)).numpy().argmax(1) == y).sum())
    return correct / len(test)


def main():
    train = get_dataset(ARGS.dataset, train=True, root=ARGS.data_dir)
    test = get_dataset(ARGS.dataset, train=False, root=ARGS.data_dir)
    if ARGS.limit:
        train.arrays = tuple(a[:ARGS.limit] for a in train.arrays)
    lw.manual_seed(ARGS.seed)
    initial = get_model(ARGS.model)
    results = {}
    for framework in ARGS.frameworks.split(","):
        start = time.perf_counter()
        if framework == "layerwise":
            model = get_model(ARGS.model)
            model.load_state_dict(initial.state_dict())
            lw.manual_seed(ARGS.seed)
            accuracy = train_layerwise(model, train, test)
        else:
            import torch
            import torch_reference
            torch.set_num_threads(ARGS.threads)
            torch.manual_seed(ARGS.seed)
            model = torch_reference.copy_weights(initial, torch_reference.get_model(ARGS.model))
            accuracy = train_torch(model, train, test)
        results[framework] = (accuracy, time.perf_counter() - start)
    command = "python bench/accuracy.py " + " ".join(sys.argv[1:])
    print(f"\n{ARGS.model} on {ARGS.dataset}: {len(train):,} training images, {ARGS.epochs} "
          f"epochs, batch {ARGS.batch_size}, Adam lr {ARGS.lr} ({ARGS.lr_schedule} schedule)"
          f"{', augmentation ' + ARGS.augment if ARGS.augment else ''}, seed {ARGS.seed}, "
          f"{ARGS.threads} threads\n")
    print("| framework | test accuracy | wall time |")
    print("|---|---|---|")
    for framework, (accuracy, wall) in results.items():
        print(f"| {framework} | {accuracy:.2%} | {wall / 60:.1f} min |")
    if len(results) == 2:
        (a, ta), (b, tb) = results["layerwise"], results["torch"]
        print(f"\ndifference {100 * (a - b):+.2f} points; wall-time ratio (torch/layerwise) "
              f"{tb / ta:.2f}")
    print(f"\ncommand: `{command}`")


if __name__ == "__main__":
    main()
