"""Pictures: training curves, confusion matrices (and, later, filters and feature maps)."""
from .confusion import plot_confusion_matrix  # noqa: F401
from .curves import plot_history  # noqa: F401
