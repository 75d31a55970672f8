"""Training scenarios run on N ranks (api_worker.py) and, as the reference, in one process.

Each trains a tiny network for 2 epochs of 3 steps on 48 images with global batch
B = 16 and SGD with momentum: on N ranks through DistributedDataParallel with a
DistributedSampler (B/N per rank), in the reference with a plain DataLoader
(shuffle, same seed) and batch B. The final state_dicts must agree to float32
rounding — except ``per_rank_bn``, which shows that unsynchronized batch norm
does not give the single-process result.
"""
import numpy as np

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import nn, optim
from layerwise.data import ArrayDataset, DataLoader

GLOBAL_BATCH, EPOCHS, SEED = 16, 2, 0


class TwiceLinear(nn.Module):
    """The same Linear applied twice (its weight receives two gradient contributions)
    and one layer never used (it must not block the synchronization)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(16, 16)
        self.unused = nn.Linear(16, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv(x)), 4).flatten(1)
        h = F.relu(self.fc(h))
        return self.head(F.relu(self.fc(h)))


def make_model(name, init_seed=SEED):
    lw.manual_seed(init_seed)
    if name == "shared_weights":
        return TwiceLinear()
    bn = name in ("syncbn", "syncbn_blocking", "per_rank_bn")
    layers = [nn.Conv2d(1, 4, 3, padding=1)] + ([nn.BatchNorm2d(4)] if bn else []) + \
        [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 16)] + \
        ([nn.BatchNorm1d(16)] if bn else []) + [nn.ReLU(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


#: scenario -> DDP keyword arguments
SCENARIOS = {
    "syncbn": dict(bucket_cap_mb=0.002, first_bucket_cap_mb=0.0005),   # several buckets
    "syncbn_blocking": dict(overlap=False),
    "per_rank_bn": dict(),
    "no_sync": dict(bucket_cap_mb=0.002),
    "shared_weights": dict(bucket_cap_mb=0.002, first_bucket_cap_mb=0.0005,
                           gradient_as_bucket_view=True),
}


def dataset():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=48)
    return ArrayDataset(x, y)


def train(model, loader, accumulate=1, no_sync=None):
    """Train ``EPOCHS`` epochs; with ``accumulate`` > 1 each batch is split in micro-batches
    whose gradients are accumulated (all but the last under ``no_sync()``)."""
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(EPOCHS):
        loader.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            parts = np.array_split(np.arange(len(y)), accumulate)
            for k, part in enumerate(parts):
                xs, ys = lw.tensor(x.numpy()[part]), lw.tensor(y.numpy()[part])
                if k < len(parts) - 1 and no_sync is not None:
                    with no_sync():
                        (F.cross_entropy(model(xs), ys) / accumulate).backward()
                else:
                    (F.cross_entropy(model(xs), ys) / accumulate).backward()
            optimizer.step()
    return model


def reference(name):
    """The single-process result: batch B, plain BatchNorm, no DDP."""
    model = make_model(name)
    loader = DataLoader(dataset(), GLOBAL_BATCH, shuffle=True, seed=SEED)
    train(model, loader)
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}
