"""Training curves: loss and accuracy per epoch, training beside validation."""
from matplotlib.ticker import MaxNLocator

from .plotting import plt, save


def plot_history(history, path, title="Training curves"):
    """Two panels (loss, accuracy) from a ``{'loss': [...], 'val_loss': [...], ...}`` mapping."""
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "loss", "Loss (cross-entropy)"),
                           (axes[1], "accuracy", "Accuracy")):
        for prefix, style, name in (("", "-o", "training"), ("val_", "-s", "validation")):
            values = history.get(prefix + key)
            if values:
                ax.plot(epochs[:len(values)], values, style, label=name, markersize=4)
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.suptitle(title)
    return save(fig, path)
