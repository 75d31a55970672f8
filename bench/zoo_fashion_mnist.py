"""A small-input zoo model (CIFAR ResNet-20 by default) trained on Fashion-MNIST: test
accuracy and wall time, layerwise beside PyTorch.

Both frameworks train the same architecture (PyTorch's copy is the test suite's
reference, tests/models/torch_reference.py) from the same initial weights (PyTorch
receives layerwise's initialization), on the same mini-batches in the same order with
the same augmented images (augmentation runs once per batch, with layerwise's
transforms, and feeds both), with the same optimizer and schedule: SGD with Nesterov
momentum 0.9, weight decay 5e-4, cosine learning rate. Only float rounding differs.
Each framework trains alone, one after the other; the wall time covers training and
the test evaluations.

    python bench/zoo_fashion_mnist.py                            # resnet20, 30 epochs
        (on 2 cores: about 7 min per epoch for layerwise, 1.5 min for PyTorch)
    python bench/zoo_fashion_mnist.py --model vgg11_cifar --epochs 20 --lr 0.05
    python bench/zoo_fashion_mnist.py --frameworks layerwise --epochs 1 --limit 500 \
        --test-limit 500                                         # smoke test

The results block (Markdown, with the command) goes to stdout, progress to stderr.
Also the helpers of bench/transfer.py (data, training loop, PyTorch twin).
"""
import argparse
import math
import os
import sys
import time

THREADS = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--threads"),
               str(os.cpu_count()))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "LAYERWISE_NUM_THREADS"):
    os.environ[_var] = THREADS

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # for tests/models/torch_reference.py

import layerwise as lw  # noqa: E402
from layerwise import nn, optim  # noqa: E402
from layerwise.data import ArrayDataset, DataLoader, get_dataset, transforms  # noqa: E402
from layerwise.models import get_model  # noqa: E402

FASHION_MNIST = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet20", help="a small-input zoo model (resnet20, "
                   "resnet56, vgg11_cifar, densenet_bc, ...); default resnet20")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate (cosine schedule)")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--augment", default="hflip,crop=2",
                   help="layerwise augmentation spec (default hflip,crop=2)")
    p.add_argument("--frameworks", default="layerwise,torch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=int(THREADS))
    p.add_argument("--limit", type=int, default=None, help="use only this many training images")
    p.add_argument("--test-limit", type=int, default=None, help="and this many test images")
    p.add_argument("--data-dir", default=None)
    return p.parse_args(argv)


# ------------------------------------------------------------------ data
class Data:
    """Images in [0, 1] (N, 1, 28, 28) and labels 0..k-1, with the standardization of the
    training images (applied per batch, after augmentation)."""

    def __init__(self, images, labels, mean=None, std=None):
        self.images, self.labels = images, labels
        self.mean = float(images.mean()) if mean is None else mean
        self.std = float(images.std()) if std is None else std

    def __len__(self):
        return len(self.labels)

    def normalize(self, x):
        return ((x - np.float32(self.mean)) / np.float32(self.std)).astype(np.float32)


def load(data_dir=None, classes=None, limit=None, test_limit=None, seed=0):
    """(train, test) Fashion-MNIST restricted to ``classes`` (relabelled 0..k-1)."""
    splits = []
    for train in (True, False):
        ds = get_dataset("fashion-mnist", train=train, root=data_dir)
        images, labels = ds.images, ds.labels
        if classes is not None:
            keep = np.isin(labels, classes)
            images, labels = images[keep], np.searchsorted(classes, labels[keep])
        cap = limit if train else test_limit
        if cap:
            order = np.random.default_rng(seed).permutation(len(labels))[:cap]
            images, labels = images[np.sort(order)], labels[np.sort(order)]
        splits.append((images, labels.astype(np.int64)))
    train = Data(*splits[0])
    return train, Data(*splits[1], mean=train.mean, std=train.std)


def batches(data, batch_size, seed, epoch, augment):
    """The epoch's (x, y) ndarray batches: the same order and augmentation for both
    frameworks."""
    transform = transforms.from_spec(augment) if augment else None
    loader = DataLoader(ArrayDataset(data.images, data.labels), batch_size, shuffle=True,
                        seed=seed, transform=transform, as_tensors=False)
    loader.set_epoch(epoch)
    for x, y in loader:
        yield data.normalize(x), y


# ------------------------------------------------------------ two frameworks
def torch_twin(name, model, num_classes, in_channels, **kwargs):
    """PyTorch's copy of a layerwise zoo model, with its current weights."""
    import torch
    from tests.models import torch_reference
    twin = torch_reference.build(name, num_classes, in_channels, **kwargs)
    twin.load_state_dict({k: torch.from_numpy(v.data.copy())
                          for k, v in model.state_dict().items()})
    return twin


def torch_groups(twin, model, groups):
    """PyTorch parameter groups equal to layerwise's ``groups`` (same names, same lrs);
    the other parameters of the twin are frozen, as in layerwise."""
    names = {id(p): n for n, p in model.named_parameters()}
    torch_params = dict(twin.named_parameters())
    for p in twin.parameters():
        p.requires_grad_(False)
    out = []
    for group in groups:
        params = [torch_params[names[id(p)]] for p in group["params"]]
        for p in params:
            p.requires_grad_(True)
        out.append({"params": params, "lr": group["lr"]})
    return out


def evaluate(framework, model, data, batch_size=500):
    """Accuracy on ``data`` in eval mode."""
    import torch
    model.eval()
    correct = 0
    context = torch.no_grad() if framework == "torch" else lw.no_grad()
    with context:
        for start in range(0, len(data), batch_size):
            x = data.normalize(data.images[start:start + batch_size])
            if framework == "torch":
                scores = model(torch.from_numpy(x)).numpy()
            else:
                scores = model(lw.tensor(x)).data
            correct += int((scores.argmax(1) == data.labels[start:start + batch_size]).sum())
    return correct / len(data)


def train(framework, model, groups, data, test, epochs, batch_size, weight_decay, augment,
          seed, label="", eval_every=1):
    """SGD (Nesterov momentum 0.9) with a cosine schedule from each group's lr; frozen
    batch norms (parameters not in ``groups``) run in eval mode. Measures the test set
    every ``eval_every`` epochs and at the end. Returns (test accuracy, seconds)."""
    import torch
    start = time.perf_counter()
    if framework == "torch":
        opt = torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=0.9, nesterov=True,
                              weight_decay=weight_decay)
        loss_fn = torch.nn.CrossEntropyLoss()
        frozen_bn = [m for m in model.modules()
                     if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                     and not m.weight.requires_grad]
    else:
        opt = optim.SGD(groups, lr=groups[0]["lr"], momentum=0.9, nesterov=True,
                        weight_decay=weight_decay)
        loss_fn = nn.CrossEntropyLoss()  # frozen batch norms: layerwise.models.freeze's hooks
    base = [g["lr"] for g in opt.param_groups]
    for epoch in range(epochs):
        for group, lr in zip(opt.param_groups, base):
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        model.train()
        if framework == "torch":
            for m in frozen_bn:
                m.eval()
        for x, y in batches(data, batch_size, seed, epoch, augment):
            if framework == "torch":
                loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
            else:
                loss = loss_fn(model(lw.tensor(x)), lw.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch == epochs - 1 or (epoch + 1) % eval_every == 0:
            print(f"  {label} {framework} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, "
                  f"test accuracy {evaluate(framework, model, test):.4f} "
                  f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return evaluate(framework, model, test), time.perf_counter() - start


def command_line():
    return "python " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])


def machine():
    import platform
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {THREADS} threads"


# ---------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    train_data, test_data = load(args.data_dir, None, args.limit, args.test_limit, args.seed)
    lw.manual_seed(args.seed)
    initial = get_model(args.model, num_classes=10, in_channels=1, image_size=28)
    params = sum(p.data.size for p in initial.parameters())
    results = {}
    for framework in args.frameworks.split(","):
        if framework == "torch":
            import torch
            torch.set_num_threads(args.threads)
            torch.manual_seed(args.seed)
            model = torch_twin(args.model, initial, 10, 1)
            groups = [{"params": list(model.parameters()), "lr": args.lr}]
        else:
            model = get_model(args.model, num_classes=10, in_channels=1, image_size=28)
            model.load_state_dict(initial.state_dict())
            groups = [{"params": list(model.parameters()), "lr": args.lr}]
        lw.manual_seed(args.seed)
        results[framework] = train(framework, model, groups, train_data, test_data,
                                   args.epochs, args.batch_size, args.weight_decay, args.augment,
                                   args.seed, args.model)
    print(f"\n### {args.model} on Fashion-MNIST\n")
    print(f"{args.model} ({params:,} parameters) trained on {len(train_data):,} images, tested "
          f"on {len(test_data):,}; {args.epochs} epochs, batch {args.batch_size}, SGD Nesterov "
          f"momentum 0.9, lr {args.lr} cosine, weight decay {args.weight_decay}, augmentation "
          f"{args.augment or 'none'}, seed {args.seed}; {machine()}.\n")
    print("| framework | test accuracy | wall time | per epoch |")
    print("|---|---|---|---|")
    for framework, (accuracy, wall) in results.items():
        print(f"| {framework} | {accuracy:.2%} | {wall / 60:.1f} min | "
              f"{wall / max(args.epochs, 1):.0f} s |")
    if len(results) == 2:
        (a, ta), (b, tb) = results["layerwise"], results["torch"]
        print(f"\nDifference {100 * (a - b):+.2f} points; wall-time ratio layerwise/PyTorch "
              f"{ta / tb:.1f}.")
    print(f"\nCommand: `{command_line()}`")


if __name__ == "__main__":
    main()
