"""Training: the fit/evaluate/predict loop, callbacks, metrics, checkpoints."""
from .callbacks import (Callback, CSVLogger, EarlyStopping, History,  # noqa: F401
                        LRSchedulerCallback, ModelCheckpoint, ProgressBar, TerminateOnNaN,
                        TrainingDiverged)
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint  # noqa: F401
from .metrics import accuracy, confusion_matrix, top_k_accuracy  # noqa: F401
from .trainer import Trainer, evaluate, fit, predict  # noqa: F401
