"""Matplotlib set-up shared by the pictures: a file backend, no screen needed."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save(fig, path, dpi=120):
    """Save ``fig`` to ``path`` (PNG) and free it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
