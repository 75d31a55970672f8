"""The training loop: ``Trainer`` and the Keras-like ``fit`` / ``evaluate`` / ``predict``.

One step is the course's recipe for a mini-batch:

    output = model(x);  loss = L(output, y)          # forward
    optimizer.zero_grad();  loss.backward()          # backpropagation
    optimizer.step()                                 # update: W -= lr * dL/dW (or Adam, ...)

An epoch runs the steps over the shuffled training set, then measures the
validation set; the scheduler steps, the history grows, callbacks run (progress
bar, checkpoints, CSV log, early stopping). PyTorch-style manual loops work just
as well: the Trainer only packages them.
"""
import time

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.random import get_rng_state, set_rng_state
from ..autograd.tensor import Tensor
from ..data.dataloader import DataLoader
from ..data.dataset import ArrayDataset, Dataset
from .callbacks import History, TerminateOnNaN
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import Mean, get_metric


class Trainer:
    """Holds a model, its optimizer and loss, and runs epochs of training and evaluation."""

    def __init__(self, model, optimizer, loss_fn, metrics=("accuracy",), callbacks=(),
                 scheduler=None, scheduler_monitor="val_loss", clip_grad_norm=None,
                 config=None, clip_grad_value=None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.metrics = {(m if isinstance(m, str) else m.__name__): get_metric(m) for m in metrics}
        self.history = History()
        self.callbacks = [self.history] + list(callbacks)
        if not any(isinstance(c, TerminateOnNaN) for c in self.callbacks):
            self.callbacks.insert(1, TerminateOnNaN())
        self.scheduler, self.scheduler_monitor = scheduler, scheduler_monitor
        self.clip_grad_norm, self.clip_grad_value = clip_grad_norm, clip_grad_value
        self.config = dict(config or {})
        self.start_epoch, self.epoch, self.epochs = 0, 0, 0
        self.stop_training, self.steps_per_epoch = False, 0

    # ------------------------------------------------------------- running
    def current_lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def train_step(self, x, y):
        """Forward, loss, backward, update on one batch; returns (loss, output)."""
        output = self.model(x)
        loss = self.loss_fn(output, y)
        self.optimizer.zero_grad()
        loss.backward()
        sync = getattr(self.model, "finish_gradient_sync", None)  # distributed (issue 11):
        if sync is not None:                                      # DDP averages gradients
            sync()
        if self.clip_grad_norm:     # clipping: by norm, then by value
            from ..nn.utils import clip_grad_norm_
            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        if self.clip_grad_value:
            from ..nn.utils import clip_grad_value_
            clip_grad_value_(self.model.parameters(), self.clip_grad_value)
        self.optimizer.step()
        return loss.item(), output

    def fit(self, train_loader, epochs, val_loader=None):
        """Train until ``epochs`` epochs are done (counting those of a resumed run)."""
        self.epochs, self.stop_training = epochs, False
        self.steps_per_epoch = len(train_loader)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        for epoch in range(self.start_epoch, epochs):
            self.epoch = epoch
            logs = self._train_epoch(train_loader, epoch)
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
            logs["lr"] = self.current_lr()
            self.start_epoch = epoch + 1
            self._step_scheduler(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)
            if self.stop_training:
                break
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _train_epoch(self, loader, epoch):
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        self.model.train()
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        loss_mean = Mean()
        metric_means = {name: Mean() for name in self.metrics}
        start, seen = time.perf_counter(), 0
        for batch, (x, y) in enumerate(loader):
            loss, output = self.train_step(x, y)
            n = len(y)
            seen += n
            loss_mean.update(loss, n)
            logs = {"loss": loss, "size": n * getattr(self.model, "world_size", 1)}  # all ranks
            for name, fn in self.metrics.items():
                value = fn(output.data, y.data)
                metric_means[name].update(value, n)
                logs[name] = metric_means[name].value
            for cb in self.callbacks:
                cb.on_batch_end(self, batch, logs)
            if self.stop_training:
                break
        elapsed = time.perf_counter() - start
        seen, elapsed = self._reduce_over_ranks([loss_mean, *metric_means.values()], seen, elapsed)
        logs = {"loss": loss_mean.value}
        logs.update({name: m.value for name, m in metric_means.items()})
        logs["images_per_s"] = seen / max(elapsed, 1e-9)
        return logs

    def _step_scheduler(self, logs):
        if self.scheduler is None:
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(logs.get(self.scheduler_monitor, logs["loss"]))
        else:
            self.scheduler.step()

    @no_grad()
    def evaluate(self, loader):
        """Mean loss and metrics over ``loader`` in eval mode (no dropout, BN running stats)."""
        was_training = self.model.training
        self.model.eval()
        loss_mean = Mean()
        metric_means = {name: Mean() for name in self.metrics}
        for x, y in loader:
            output = self.model(x)
            n = len(y)
            loss_mean.update(self.loss_fn(output, y).item(), n)
            for name, fn in self.metrics.items():
                metric_means[name].update(fn(output.data, y.data), n)
        self.model.train(was_training)
        self._reduce_over_ranks([loss_mean, *metric_means.values()])
        out = {"loss": loss_mean.value}
        out.update({name: m.value for name, m in metric_means.items()})
        return out

    # ------------------------------------------- distributed (issue 11)
    def _reduce_over_ranks(self, means, seen=0, elapsed=0.0):
        """Sum the ``Mean``s' totals and counts and ``seen`` over the ranks of a
        DistributedDataParallel model (in place); ``elapsed`` becomes the slowest rank's."""
        group = getattr(self.model, "process_group", None)
        if group is None or group.world_size == 1:
            return seen, elapsed
        sums = group.all_reduce([v for m in means for v in (m.total, m.count)] + [seen])
        for i, m in enumerate(means):
            m.total, m.count = float(sums[2 * i]), int(sums[2 * i + 1])
        return int(sums[-1]), group.all_reduce(elapsed, op="max")

    def _plain_model(self):
        """The model itself, unwrapped from DDP: checkpoints keep the plain model's keys."""
        return self.model.module if hasattr(self.model, "finish_gradient_sync") else self.model

    # --------------------------------------------------------- checkpoints
    def save_checkpoint(self, path):
        """Write a full checkpoint of the current state (after ``self.start_epoch`` epochs)."""
        return save_checkpoint(path, self._plain_model(), self.optimizer, self.scheduler,
                               epoch=self.start_epoch, rng_state=_json_rng(get_rng_state()),
                               history=self.history.state(), config=self.config)

    def load_checkpoint(self, path):
        """Restore model, optimizer, scheduler, RNG and history; continue after its epoch."""
        ckpt = load_checkpoint(path)
        ckpt.restore(self._plain_model(), self.optimizer, self.scheduler)
        self.start_epoch = ckpt.epoch
        if ckpt.rng_state is not None:
            set_rng_state(ckpt.rng_state)
        if ckpt.history is not None:
            self.history.load_state(ckpt.history)
        return ckpt


def _json_rng(state):
    """NumPy's generator state with its integers as plain Python ints (JSON-able)."""
    if isinstance(state, dict):
        return {k: _json_rng(v) for k, v in state.items()}
    if isinstance(state, (np.integer,)):
        return int(state)
    return state


def as_loader(data, batch_size, shuffle, seed=None, transform=None):
    """A DataLoader from a DataLoader, a Dataset, or an ``(X, y)`` pair of arrays."""
    if isinstance(data, DataLoader) or data is None:
        return data
    if isinstance(data, (tuple, list)):
        data = ArrayDataset(*data)
    if not isinstance(data, Dataset):
        raise TypeError(f"expected a DataLoader, a Dataset or an (inputs, targets) pair, got "
                        f"{type(data).__name__}")
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=seed, transform=transform)


def fit(model, train_data, epochs=1, optimizer=None, loss=None, val_data=None, batch_size=32,
        metrics=("accuracy",), callbacks=(), scheduler=None, clip_grad_norm=None, seed=None,
        transform=None, progress=True, clip_grad_value=None):
    """Train ``model`` Keras-style; returns the :class:`History`.

    ``train_data``/``val_data``: DataLoaders, Datasets or (inputs, targets) arrays.
    ``optimizer`` defaults to Adam(lr=1e-3), ``loss`` to cross-entropy.
    """
    from .. import nn, optim
    from .callbacks import ProgressBar

    optimizer = optimizer or optim.Adam(model.parameters(), lr=1e-3)
    loss = loss or nn.CrossEntropyLoss()
    callbacks = list(callbacks) + ([ProgressBar()] if progress else [])
    trainer = Trainer(model, optimizer, loss, metrics, callbacks, scheduler,
                      clip_grad_norm=clip_grad_norm, clip_grad_value=clip_grad_value)
    train_loader = as_loader(train_data, batch_size, True, seed, transform)
    val_loader = as_loader(val_data, batch_size, False)
    return trainer.fit(train_loader, epochs, val_loader)


def evaluate(model, data, loss=None, batch_size=256, metrics=("accuracy",)):
    """Mean loss and metrics of ``model`` on ``data``."""
    from .. import nn
    trainer = Trainer(model, None, loss or nn.CrossEntropyLoss(), metrics)
    return trainer.evaluate(as_loader(data, batch_size, False))


@no_grad()
def predict(model, data, batch_size=256):
    """The model's outputs (an ndarray) for every input in ``data``, in eval mode."""
    was_training = model.training
    model.eval()
    if isinstance(data, np.ndarray) or isinstance(data, Tensor):
        data = ArrayDataset(data)
    loader = as_loader(data, batch_size, False)
    outputs = []
    for batch in loader:
        x = batch[0] if isinstance(batch, tuple) else batch
        outputs.append(model(x).data)
    model.train(was_training)
    return np.concatenate(outputs)
