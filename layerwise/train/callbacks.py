"""Callbacks: code that runs at fixed points of training (Keras's protocol).

A callback overrides any of ``on_train_begin(trainer)``, ``on_epoch_begin(trainer,
epoch)``, ``on_batch_end(trainer, batch, logs)``, ``on_epoch_end(trainer, epoch,
logs)``, ``on_train_end(trainer)``. ``logs`` holds the numbers of the moment
(``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ...). A callback
stops training by setting ``trainer.stop_training = True``.
"""
import csv
import math
import time
from pathlib import Path


class Callback:
    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, batch, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


class History(Callback):
    """Records every epoch's logs: ``history.history['val_accuracy'][k]``."""

    def __init__(self):
        self.history, self.epochs = {}, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state(self):
        return {"epochs": self.epochs, "history": self.history}

    def load_state(self, state):
        self.epochs, self.history = list(state["epochs"]), {k: list(v) for k, v in
                                                            state["history"].items()}


class ProgressBar(Callback):
    """A tqdm bar per epoch with live loss, accuracy and images/s."""

    def __init__(self, file=None, leave=True):
        self.file, self.leave, self.bar = file, leave, None

    def on_epoch_begin(self, trainer, epoch):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {epoch + 1}/{trainer.epochs}",
                        unit="batch", file=self.file, leave=self.leave, dynamic_ncols=True,
                        mininterval=0.5)
        self.start, self.seen = time.perf_counter(), 0

    def on_batch_end(self, trainer, batch, logs):
        self.seen += logs.get("size", 0)
        rate = self.seen / max(time.perf_counter() - self.start, 1e-9)
        self.bar.update(1)
        if batch % 10 == 0 or batch + 1 == trainer.steps_per_epoch:
            post = {"loss": f"{logs['loss']:.4f}"}
            if "accuracy" in logs:
                post["acc"] = f"{logs['accuracy']:.4f}"
            post["img/s"] = f"{rate:,.0f}"
            self.bar.set_postfix(post, refresh=False)

    def on_epoch_end(self, trainer, epoch, logs):
        shown = {k: f"{v:.4f}" for k, v in logs.items()
                 if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        shown["lr"] = f"{logs.get('lr', float('nan')):.2g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.close()


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", patience=5, mode="auto", min_delta=0.0,
                 restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.best_weights, self.stopped_epoch = None, 0, None, None

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping: metric {self.monitor!r} is not in the logs "
                           f"({', '.join(logs)}); give validation data or monitor another")
        if self._improved(value):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.numpy().copy()
                                     for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training, self.stopped_epoch = True, epoch
            if self.restore_best_weights and self.best_weights is not None:
                trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save ``last.safetensors`` every epoch and ``best.safetensors`` when ``monitor`` improves.

    Each file is a full checkpoint (weights, optimizer state, epoch, RNG state,
    history), written atomically, so ``--resume`` can continue from it.
    """

    def __init__(self, directory, monitor="val_accuracy", mode="auto", save_last=True,
                 save_best=True):
        self.directory = Path(directory)
        self.monitor, self.save_last, self.save_best = monitor, save_last, save_best
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.best = None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_last:
            trainer.save_checkpoint(self.directory / "last.safetensors")
        value = logs.get(self.monitor)
        if self.save_best and value is not None and not math.isnan(value):
            better = self.best is None or (value > self.best if self.mode == "max"
                                           else value < self.best)
            if better:
                self.best = value
                trainer.save_checkpoint(self.directory / "best.safetensors")


class CSVLogger(Callback):
    """Append one row per epoch (epoch number and every log) to a CSV file."""

    def __init__(self, path, append=False):
        self.path, self.append, self.keys = Path(path), append, None

    def on_epoch_end(self, trainer, epoch, logs):
        new = not (self.path.exists() and (self.append or self.keys is not None))
        if self.keys is None:
            self.keys = sorted(logs)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w" if new else "a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["epoch"] + self.keys)
            writer.writerow([epoch + 1] + [logs.get(k, "") for k in self.keys])


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class TerminateOnNaN(Callback):
    """Stop at once, with a clear message, when the loss becomes NaN or infinite."""

    def on_batch_end(self, trainer, batch, logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            trainer.stop_training = True
            raise TrainingDiverged(
                f"loss became {loss} at epoch {trainer.epoch + 1}, batch {batch + 1}: training "
                f"stopped. Try a lower learning rate (now {trainer.current_lr():.3g}), gradient "
                f"clipping, or normalized inputs. Checkpoints written before this point are intact.")


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after each epoch (with ``monitor`` for ReduceLROnPlateau)."""

    def __init__(self, scheduler, monitor="val_loss"):
        self.scheduler, self.monitor = scheduler, monitor

    def on_epoch_end(self, trainer, epoch, logs):
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            value = logs.get(self.monitor, logs.get("loss"))
            self.scheduler.step(value)
        else:
            self.scheduler.step()
