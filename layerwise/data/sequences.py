"""Sequence data: sequential Fashion-MNIST, text streams for truncated BPTT, time series.

- ``SequentialFashionMNIST`` (``SequentialImages`` for any IDX image dataset): each
  28x28 image read as a sequence of 28 steps (its rows) of 28 features (the pixels
  of the row), shape (N, 28, 28), batch-first.
- ``TextStream``: a long token stream cut into ``batch_size`` parallel streams and
  served as consecutive (input, target) chunks of ``seq_len`` steps, the target being
  the input shifted by one token. Chunk k+1 of every row continues chunk k, so a
  language model carries its hidden state from one batch to the next (detached:
  *truncated* backpropagation through time, gradients flow ``seq_len`` steps back).
- ``sequence_windows`` / ``WindowDataset``: a time series cut into (history -> next
  ``horizon`` values) samples; ``forecast_windows`` anchors each window at its last
  value (changes instead of levels, so trends stay in range);
  ``load_series('sunspots' | 'co2')`` reads the real series that statsmodels ships
  (``pip install 'layerwise[timeseries]'``).
"""
import csv
from importlib import resources

import numpy as np

from ..autograd.tensor import Tensor
from .dataset import ArrayDataset
from .datasets import IDXClassification
from .sources import DatasetNotFoundError


class SequentialImages(ArrayDataset):
    """An image dataset read row by row: ``ds[i] = (rows (H, C·W) float32, label)``."""

    dataset_name = "fashion-mnist"

    def __init__(self, root=None, train=True, download=True, name=None):
        images = IDXClassification(root=root, train=train, download=download,
                                   name=name or self.dataset_name)
        self.classes, self.name = images.classes, f"sequential-{images.name}"
        super().__init__(images_as_sequences(images.images), images.labels)

    @property
    def sequences(self):
        return self.arrays[0]

    @property
    def labels(self):
        return self.arrays[1]


class SequentialFashionMNIST(SequentialImages):
    """Fashion-MNIST as sequences: 28 steps of 28 pixels, ``ds[i] = ((28, 28), label)``."""

    dataset_name = "fashion-mnist"


def images_as_sequences(images):
    """(N, C, H, W) images as (N, H, C·W) sequences: one step per row of pixels."""
    images = np.asarray(images)
    n, c, h, w = images.shape
    return np.ascontiguousarray(images.transpose(0, 2, 1, 3)).reshape(n, h, c * w)


class TextStream:
    """Consecutive (input, target) chunks of ``batch_size`` parallel token streams.

    The ids are trimmed to a multiple of ``batch_size`` and laid out as a
    (batch_size, L) array, row b holding the b-th contiguous part of the text. Chunk k
    is ``x = streams[:, k·seq_len : (k+1)·seq_len]`` and ``y`` the same shifted by one
    token; the last chunk may be shorter. Iterating yields int64 Tensors (or arrays
    with ``as_tensors=False``). ``set_epoch`` exists for the Trainer's sake: the order
    never changes, since the hidden state runs along the streams.
    """

    def __init__(self, ids, batch_size, seq_len, as_tensors=True, drop_last=False):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"TextStream: batch_size and seq_len must be at least 1, got "
                             f"{batch_size} and {seq_len}")
        per_row = (len(ids) - 1) // batch_size
        if per_row < 1:
            raise ValueError(f"TextStream: {len(ids)} tokens are too few for {batch_size} "
                             f"streams (need at least {batch_size + 1})")
        self.inputs = ids[:batch_size * per_row].reshape(batch_size, per_row)
        self.targets = ids[1:batch_size * per_row + 1].reshape(batch_size, per_row)
        self.batch_size, self.seq_len = batch_size, seq_len
        self.as_tensors, self.drop_last = as_tensors, drop_last

    @property
    def tokens(self):
        """Number of (input, target) pairs served per epoch."""
        return self.inputs.size if not self.drop_last else len(self) * self.batch_size * \
            self.seq_len

    def __len__(self):
        steps = self.inputs.shape[1]
        return steps // self.seq_len if self.drop_last else -(-steps // self.seq_len)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        for k in range(len(self)):
            chunk = slice(k * self.seq_len, (k + 1) * self.seq_len)
            x, y = self.inputs[:, chunk], self.targets[:, chunk]
            yield (Tensor(np.ascontiguousarray(x)), Tensor(np.ascontiguousarray(y))) \
                if self.as_tensors else (x, y)


def sequence_windows(series, history, horizon=1, step=1):
    """Inputs (N, history, features) and targets (N, horizon) of a series.

    ``series``: (T,) or (T, features); the target is the first feature's next
    ``horizon`` values after each window of ``history`` steps, windows ``step`` apart.
    """
    values = np.asarray(series, dtype=np.float32)
    values = values[:, None] if values.ndim == 1 else values
    count = (len(values) - history - horizon) // step + 1
    if history < 1 or horizon < 1 or count < 1:
        raise ValueError(f"sequence_windows: a series of {len(values)} values has no window "
                         f"of history {history} + horizon {horizon}")
    starts = np.arange(count) * step
    inputs = values[starts[:, None] + np.arange(history)]
    targets = values[starts[:, None] + history + np.arange(horizon), 0]
    return inputs, targets


def forecast_windows(series, history, horizon, mean, std, delta_std):
    """Windows that let a network follow a trend: (inputs, targets, anchors).

    Each window's last value is its *anchor* a. The inputs have two features per step,
    the standardized level (v - mean) / std and the change since the anchor
    (v - a) / delta_std; the targets are the next values' changes from the anchor,
    (y - a) / delta_std, so a forecast is a + delta_std · output. A series that
    drifts out of the training range (CO2) stays in range this way.
    """
    values = np.asarray(series, dtype=np.float64)
    windows, futures = sequence_windows(values, history, horizon)
    windows = windows[..., 0].astype(np.float64)
    anchors = windows[:, -1]
    inputs = np.stack([(windows - mean) / std, (windows - anchors[:, None]) / delta_std],
                      axis=-1).astype(np.float32)
    targets = ((futures - anchors[:, None]) / delta_std).astype(np.float32)
    return inputs, targets, anchors


class WindowDataset(ArrayDataset):
    """``ds[i] = (window (history, features) float32, next values (horizon,))``."""

    def __init__(self, series, history, horizon=1, step=1):
        super().__init__(*sequence_windows(series, history, horizon, step))
        self.history, self.horizon = history, horizon


#: name -> (statsmodels package with the CSV, file, seasonal period, description)
SERIES = {
    "sunspots": ("statsmodels.datasets.sunspots", "sunspots.csv", 11,
                 "yearly mean sunspot numbers 1700-2008 (309 values; solar cycle ~11 years)"),
    "co2": ("statsmodels.datasets.co2", "co2.csv", 12,
            "Mauna Loa atmospheric CO2 (ppm), monthly means of the weekly record, "
            "1958-03 to 2001-12 (526 values; season 12 months)"),
}


def _series_csv(name):
    if name not in SERIES:
        raise KeyError(f"unknown series {name!r}; available: {', '.join(SERIES)}")
    package, filename = SERIES[name][:2]
    try:
        return resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise DatasetNotFoundError(
            f"the {name} series comes with statsmodels, which is not installed: "
            f"pip install 'layerwise[timeseries]' (or pip install statsmodels)") from None


def load_series(name):
    """(time labels, values float64, seasonal period) of the named shipped series.

    'sunspots': years and yearly values. 'co2': 'YYYY-MM' months and monthly means of
    the weekly measurements; months without any measurement are filled by linear
    interpolation between their neighbours.
    """
    rows = list(csv.reader(_series_csv(name).splitlines()))[1:]
    period = SERIES[name][2]
    if name == "sunspots":
        return (np.array([int(float(r[0])) for r in rows]),
                np.array([float(r[1]) for r in rows]), period)
    sums = {}
    for date, value in rows:
        month = f"{date[:4]}-{date[4:6]}"
        total, count = sums.get(month, (0.0, 0))
        sums[month] = (total + float(value), count + 1) if value else (total, count)
    first, last = min(sums), max(sums)
    months = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    values = np.array([sums[m][0] / sums[m][1] if sums.get(m, (0, 0))[1] else np.nan
                       for m in months])
    missing = np.isnan(values)
    if missing.any():
        values[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing),
                                    values[~missing])
    return np.array(months), values, period
