"""Transfer learning on Fashion-MNIST: learn classes 0-4, reuse the network for 5-9.

1. Source task: a small-input zoo model (CIFAR ResNet-20 by default) is trained on the
   30,000 training images of classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat).
2. Target task: classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) with only a few
   labelled images (``--shots`` per class, 60 by default: 300 images), tested on all
   5,000 test images of those classes. Four ways to learn it, same epochs and recipe:

   - from scratch: the same architecture, randomly initialized, all layers trained;
   - frozen features + new head (the notes' "freeze the convolutional part"): the
     pretrained network is a fixed feature extractor, only a new last layer learns;
   - fine-tune the top layers ("train some layers"): ``--trainable`` (default: the last
     stage, e.g. ``layer3`` of a CIFAR ResNet) and the new head learn, the rest is frozen;
   - fine-tune all layers ("train all"): everything learns, the pretrained layers at a
     tenth of the new head's learning rate.

   (``layerwise.models.prepare_transfer`` sets each of them up: docs/transfer_learning.md.)
   Frozen batch norms keep their pretrained running statistics: they run in eval mode.

With ``--frameworks layerwise,torch`` the whole protocol also runs in PyTorch from the same
initial weights, batches and augmentations (the architecture from
tests/models/torch_reference.py), as a check of the numbers.

    python bench/transfer.py                      # resnet20; about 30 min on 2 cores
    python bench/transfer.py --shots 20 --finetune-epochs 60
    python bench/transfer.py --pretrain-epochs 1 --limit 500 --shots 10 \
        --finetune-epochs 2 --test-limit 500      # smoke test

The results block (Markdown, with the command) goes to stdout, progress to stderr.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_fashion_mnist as zoo  # noqa: E402  (sets the thread variables first)

import numpy as np  # noqa: E402

import layerwise as lw  # noqa: E402
from layerwise.models import get_model, prepare_transfer  # noqa: E402

SOURCE, TARGET = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
STRATEGIES = [("scratch", "from scratch (random init, all layers)"),
              ("freeze_features", "frozen features + new head"),
              ("train_some", "fine-tune the top layers ({trainable}) + new head"),
              ("train_all", "fine-tune all layers (pretrained at lr/10)")]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet20")
    p.add_argument("--pretrain-epochs", type=int, default=5)
    p.add_argument("--pretrain-lr", type=float, default=0.1)
    p.add_argument("--shots", type=int, default=60, help="labelled images per target class")
    p.add_argument("--finetune-epochs", type=int, default=30)
    p.add_argument("--finetune-lr", type=float, default=0.05,
                   help="learning rate of the new head (and of the from-scratch model)")
    p.add_argument("--trainable", default="auto",
                   help="'train_some' strategy: comma-separated submodules (default: the last "
                        "stage, layer3/layer4, or the last third of the layers)")
    p.add_argument("--batch-size", type=int, default=128, help="pretraining batch size")
    p.add_argument("--finetune-batch-size", type=int, default=32)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--augment", default="hflip,crop=2")
    p.add_argument("--frameworks", default="layerwise")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=int(zoo.THREADS))
    p.add_argument("--limit", type=int, default=None, help="pretraining images (default all)")
    p.add_argument("--test-limit", type=int, default=None, help="test images per task")
    p.add_argument("--data-dir", default=None)
    return p.parse_args(argv)


def few_shot(data, shots, seed):
    """``shots`` images of each class, drawn at random."""
    rng = np.random.default_rng(seed)
    index = np.sort(np.concatenate([rng.choice(np.flatnonzero(data.labels == c), shots,
                                               replace=False)
                                    for c in np.unique(data.labels)]))
    return zoo.Data(data.images[index], data.labels[index], data.mean, data.std)


def trainable_default(model):
    stages = [name for name in ("layer4", "layer3") if hasattr(model, name)]
    if stages:
        return [stages[0]]
    weights = sum(1 for m in model.modules() if type(m).__name__ in ("Conv2d", "Linear"))
    return max(2, weights // 3)


def build(args, framework, weights, num_classes, strategy=None, trainable=None):
    """(model, parameter groups) of ``framework`` for one run, from layerwise weights."""
    model = get_model(args.model, num_classes=len(SOURCE), in_channels=1, image_size=28)
    model.load_state_dict(weights)
    if strategy is None:  # pretraining: every parameter at the pretraining lr
        groups = [{"params": list(model.parameters()), "lr": args.pretrain_lr}]
    elif strategy == "scratch":  # random weights, a new head, one lr for all layers
        groups = prepare_transfer(model, num_classes, "train_all", lr=args.finetune_lr,
                                  backbone_lr=args.finetune_lr)
    else:
        groups = prepare_transfer(model, num_classes, strategy, lr=args.finetune_lr,
                                  trainable=trainable)
    if framework == "layerwise":
        return model, groups
    twin = zoo.torch_twin(args.model, model, num_classes, 1)
    return twin, zoo.torch_groups(twin, model, groups)


def run(args, framework, initial, source, target, target_train):
    """Pretrain on the source task, then the four strategies; {key: (accuracy, s)}."""
    lw.manual_seed(args.seed)
    model, groups = build(args, framework, initial.state_dict(), len(SOURCE))
    results = {"source": zoo.train(framework, model, groups, source[0], source[1],
                                   args.pretrain_epochs, args.batch_size, args.weight_decay,
                                   args.augment, args.seed, "pretrain")}
    pretrained = {k: (v.detach().numpy().copy() if framework == "torch" else v.data.copy())
                  for k, v in model.state_dict().items()}
    trainable = args.trainable if args.trainable != "auto" else trainable_default(initial)
    if isinstance(trainable, str):
        trainable = trainable.split(",")
    for key, _ in STRATEGIES:
        weights = initial.state_dict() if key == "scratch" else pretrained
        model, groups = build(args, framework, weights, len(TARGET), key, trainable)
        results[key] = zoo.train(framework, model, groups, target_train, target[1],
                                 args.finetune_epochs, args.finetune_batch_size,
                                 args.weight_decay, args.augment, args.seed, key,
                                 eval_every=10)
        results[key] += (sum(p.numel() if framework == "torch" else p.data.size
                             for g in groups for p in g["params"]),)
    results["trainable"] = trainable
    return results


def main(argv=None):
    args = parse_args(argv)
    source = zoo.load(args.data_dir, SOURCE, args.limit, args.test_limit, args.seed)
    target = zoo.load(args.data_dir, TARGET, None, args.test_limit, args.seed)
    target_train = few_shot(target[0], args.shots, args.seed)
    lw.manual_seed(args.seed)
    initial = get_model(args.model, num_classes=len(SOURCE), in_channels=1, image_size=28)
    all_results = {}
    for framework in args.frameworks.split(","):
        if framework == "torch":
            import torch
            torch.set_num_threads(args.threads)
        all_results[framework] = run(args, framework, initial, source, target, target_train)

    names = ", ".join(zoo.FASHION_MNIST[c] for c in SOURCE), \
        ", ".join(zoo.FASHION_MNIST[c] for c in TARGET)
    first = next(iter(all_results.values()))
    trainable = first["trainable"]
    trainable = ", ".join(trainable) if isinstance(trainable, list) else f"last {trainable} layers"
    print(f"\n### Transfer learning on Fashion-MNIST: classes 0-4 -> 5-9 ({args.model})\n")
    print(f"Source task: classes 0-4 ({names[0]}), {len(source[0]):,} training images, "
          f"{args.pretrain_epochs} epochs (batch {args.batch_size}, lr {args.pretrain_lr}).")
    for framework, res in all_results.items():
        accuracy, wall = res["source"]
        print(f"  {framework}: source test accuracy {accuracy:.2%} on {len(source[1]):,} "
              f"images, {wall / 60:.1f} min.")
    print(f"\nTarget task: classes 5-9 ({names[1]}), {len(target_train)} labelled training "
          f"images ({args.shots} per class), tested on {len(target[1]):,} images; every "
          f"strategy trains {args.finetune_epochs} epochs, batch {args.finetune_batch_size}, "
          f"SGD Nesterov momentum 0.9, lr {args.finetune_lr} cosine, weight decay "
          f"{args.weight_decay}, augmentation {args.augment or 'none'}; seed {args.seed}; "
          f"{zoo.machine()}.\n")
    frameworks = list(all_results)
    print("| strategy | trainable parameters | " +
          " | ".join(f"test accuracy ({f})" for f in frameworks) + " | time (layerwise) |")
    print("|---|---|" + "---|" * len(frameworks) + "---|")
    for key, label in STRATEGIES:
        accuracy_cells = " | ".join(f"{all_results[f][key][0]:.2%}" for f in frameworks)
        _, wall, count = first[key]
        print(f"| {label.format(trainable=trainable)} | {count:,} | {accuracy_cells} | "
              f"{wall:.0f} s |")
    print(f"\nCommand: `{zoo.command_line()}`")


if __name__ == "__main__":
    main()
