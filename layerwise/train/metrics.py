"""Classification metrics on plain arrays: accuracy, top-k accuracy, confusion matrix."""
import numpy as np


def _array(x):
    return x.data if hasattr(x, "grad") else np.asarray(x)


def accuracy(logits, targets):
    """Fraction of rows whose highest score is the target class."""
    logits, targets = _array(logits), _array(targets)
    return float(np.mean(logits.argmax(axis=1) == targets))


def top_k_accuracy(logits, targets, k=5):
    """Fraction of rows whose target is among the ``k`` highest scores."""
    logits, targets = _array(logits), _array(targets)
    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return float(np.mean((top == targets[:, None]).any(axis=1)))


def confusion_matrix(predictions, targets, num_classes):
    """Counts C[i, j] of samples of true class i predicted as class j."""
    predictions, targets = _array(predictions), _array(targets)
    return np.bincount(targets * num_classes + predictions,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class Mean:
    """A running mean weighted by batch size (for losses and metrics over an epoch)."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, value, n=1):
        self.total += float(value) * n
        self.count += n

    @property
    def value(self):
        return self.total / self.count if self.count else float("nan")


METRICS = {"accuracy": accuracy, "acc": accuracy,
           "top5": lambda lo, t: top_k_accuracy(lo, t, 5),
           "top3": lambda lo, t: top_k_accuracy(lo, t, 3)}


def get_metric(name):
    if callable(name):
        return name
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]
