"""Training a language model with truncated backpropagation through time.

``LanguageModelTrainer`` is the ``Trainer`` (same step, callbacks, checkpoints, history,
gradient clipping) around a model that carries the recurrent state across batches of
a ``TextStream`` (``CarriedState``):

    logits, state = model(x_k, state)      # x_k continues x_{k-1} in every row
    loss = cross-entropy(logits, y_k);  backward;  clip;  step
    state = state.detach()                 # keep the memory, cut the gradient

so gradients flow back ``seq_len`` steps while the model conditions on everything
before. The state starts from zeros at every epoch (and every evaluation).
Losses are in nats per token; bits per character (bpc) = loss / ln 2.
"""
import math
import time

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.functional import cross_entropy
from .callbacks import Callback, ProgressBar
from .metrics import Mean
from .trainer import Trainer

LN2 = math.log(2.0)


def detach_state(state):
    """The recurrent state (a tensor or a tuple of tensors) cut from the graph."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


def sequence_loss(logits, targets):
    """Mean cross-entropy of (N, T, V) logits against (N, T) token ids."""
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class CarriedState:
    """A language model seen as ``model(ids) -> logits`` that carries its recurrent state
    from call to call, detached (truncated BPTT), so the Trainer's step runs unchanged.

    Everything else (parameters, state_dict, train/eval, ...) is the wrapped model's.
    """

    def __init__(self, module):
        self.module, self.state, self.tokens_per_row = module, None, 1

    def __call__(self, ids):
        logits, state = self.module(ids, self.state)
        self.state, self.tokens_per_row = detach_state(state), ids.shape[1]
        return logits

    def reset_state(self):
        self.state = None

    def __getattr__(self, name):
        return getattr(self.module, name)


class ResetStateEachEpoch(Callback):
    """Start every epoch of a language model from a zero state."""

    def on_epoch_begin(self, trainer, epoch):
        trainer.model.reset_state()


class LanguageModelTrainer(Trainer):
    """Trainer for ``model(ids, state) -> (logits, state)`` over a ``TextStream``.

    The state is carried across batches (``CarriedState``) and reset each epoch; the
    metric is bits per token (the batch's loss / ln 2); ``evaluate`` weights by tokens.
    """

    def __init__(self, model, optimizer, callbacks=(), scheduler=None, clip_grad_norm=None,
                 clip_grad_value=None, config=None):
        self.language_model, self.last_loss = model, 0.0
        super().__init__(CarriedState(model), optimizer, self.recorded_loss, metrics=(),
                         callbacks=list(callbacks) + [ResetStateEachEpoch()],
                         scheduler=scheduler, scheduler_monitor="val_loss",
                         clip_grad_norm=clip_grad_norm, config=config,
                         clip_grad_value=clip_grad_value)
        self.metrics = {"bpc": lambda output, targets: self.last_loss / LN2}

    def recorded_loss(self, logits, targets):
        loss = sequence_loss(logits, targets)
        self.last_loss = float(loss.data)
        return loss

    @no_grad()
    def evaluate(self, loader):
        """Mean loss per token (and bpc) over a stream, the state carried along it."""
        model = self.language_model
        was_training = model.training
        model.eval()
        mean, state = Mean(), None
        for x, y in loader:
            logits, state = model(x, state)
            mean.update(sequence_loss(logits, y).item(), y.data.size)
        model.train(was_training)
        return {"loss": mean.value, "bpc": mean.value / LN2}


class TextProgressBar(ProgressBar):
    """The progress bar of language models: live loss, bits per character and tokens/s."""

    def on_epoch_begin(self, trainer, epoch):
        super().on_epoch_begin(trainer, epoch)
        self.tokens = 0

    def on_batch_end(self, trainer, batch, logs):
        self.tokens += logs.get("size", 0) * getattr(trainer.model, "tokens_per_row", 1)
        rate = self.tokens / max(time.perf_counter() - self.start, 1e-9)
        self.bar.update(1)
        if batch % 5 == 0 or batch + 1 == trainer.steps_per_epoch:
            self.bar.set_postfix({"loss": f"{logs['loss']:.4f}",
                                  "bpc": f"{logs['loss'] / LN2:.3f}",
                                  "tok/s": f"{rate:,.0f}"}, refresh=False)

    def on_epoch_end(self, trainer, epoch, logs):
        shown = {k: f"{v:.4f}" for k, v in logs.items()
                 if k in ("loss", "bpc", "val_loss", "val_bpc")}
        shown["lr"] = f"{logs.get('lr', float('nan')):.2g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.close()


def forecast_errors(predictions, targets):
    """{'rmse': ..., 'mae': ...} of forecasts against the true values (same shape)."""
    error = np.asarray(predictions, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
    return {"rmse": float(np.sqrt(np.mean(error ** 2))), "mae": float(np.mean(np.abs(error)))}


def naive_forecasts(series, starts, history, horizon, period):
    """Baselines for the windows starting at ``starts``: (last value, seasonal naive).

    Last value: every future value equals the window's last one. Seasonal naive
    (``period`` steps): the value at t + h is the value one season before,
    series[t + h - period] (several seasons back when h exceeds the period).
    """
    series = np.asarray(series, dtype=np.float64)
    last = series[starts + history - 1][:, None].repeat(horizon, axis=1)
    steps = np.arange(horizon)
    seasons_back = (steps // period + 1) * period
    seasonal = series[starts[:, None] + history + steps[None, :] - seasons_back[None, :]]
    return last, seasonal
