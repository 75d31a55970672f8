"""Sequence data: images as row sequences, text streams for truncated BPTT, time-series
windows (plain and anchored), the shipped series, and the naive forecast baselines."""
import numpy as np
import pytest

from layerwise.data.sequences import (SequentialImages, TextStream, WindowDataset,
                                      forecast_windows, images_as_sequences, load_series,
                                      sequence_windows)
from layerwise.train.sequence_trainer import forecast_errors, naive_forecasts


def test_images_read_row_by_row():
    images = np.arange(2 * 2 * 3 * 4).reshape(2, 2, 3, 4)      # N, C, H, W
    seqs = images_as_sequences(images)
    assert seqs.shape == (2, 3, 8)                              # 3 steps of C*W features
    np.testing.assert_array_equal(seqs[0, 1], np.concatenate([images[0, 0, 1], images[0, 1, 1]]))


def test_sequential_images_dataset(tiny_dataset):
    ds = SequentialImages(name="tiny", train=False)
    assert ds.sequences.shape == (60, 8, 8) and ds.name == "sequential-tiny"
    np.testing.assert_allclose(ds[3][0][2], tiny_dataset["test_images"][3, 2] / 255, atol=1e-6)
    assert ds.classes == ("dark", "medium", "bright")


def test_text_stream_rows_continue_across_chunks():
    stream = TextStream(np.arange(23), batch_size=2, seq_len=4, as_tensors=False)
    chunks = list(stream)
    assert len(stream) == len(chunks) == 3 and stream.tokens == 22
    x0, y0 = chunks[0]
    np.testing.assert_array_equal(x0, [[0, 1, 2, 3], [11, 12, 13, 14]])
    np.testing.assert_array_equal(y0, x0 + 1)                   # targets: the next token
    np.testing.assert_array_equal(chunks[1][0][:, 0], [4, 15])  # chunk 2 continues chunk 1
    assert chunks[2][0].shape == (2, 3)                         # shorter last chunk
    assert len(TextStream(np.arange(23), 2, 4, drop_last=True)) == 2
    x, y = next(iter(TextStream(np.arange(23), 2, 4)))
    assert x.dtype == np.int64 and tuple(x.shape) == (2, 4)
    with pytest.raises(ValueError, match="too few for 8 streams"):
        TextStream(np.arange(5), batch_size=8, seq_len=2)


def test_sequence_windows_and_dataset():
    inputs, targets = sequence_windows(np.arange(10.0), history=3, horizon=2, step=2)
    assert inputs.shape == (3, 3, 1) and targets.shape == (3, 2)
    np.testing.assert_array_equal(inputs[1, :, 0], [2, 3, 4])
    np.testing.assert_array_equal(targets[1], [5, 6])
    ds = WindowDataset(np.arange(10.0), history=4)
    assert len(ds) == 6 and ds[0][0].shape == (4, 1)
    with pytest.raises(ValueError, match="has no window of history 8 \\+ horizon 3"):
        sequence_windows(np.arange(10.0), 8, 3)


def test_forecast_windows_are_anchored_at_the_last_value():
    series = 100 + np.arange(8.0) * 2                          # a trend
    inputs, targets, anchors = forecast_windows(series, 3, 2, mean=104.0, std=4.0, delta_std=2.0)
    assert inputs.shape == (4, 3, 2) and targets.shape == (4, 2)
    np.testing.assert_allclose(anchors, [104, 106, 108, 110])
    np.testing.assert_allclose(inputs[0, :, 0], [-1, -0.5, 0])        # levels
    np.testing.assert_allclose(inputs[0, :, 1], [-2, -1, 0])          # changes since anchor
    np.testing.assert_allclose(targets, [[1, 2]] * 4)                 # the trend continues


def test_shipped_series_and_naive_baselines():
    years, sunspots, period = load_series("sunspots")
    assert (len(sunspots), years[0], years[-1], period) == (309, 1700, 2008, 11)
    months, co2, period = load_series("co2")
    assert (len(co2), months[0], months[-1], period) == (526, "1958-03", "2001-12", 12)
    assert not np.isnan(co2).any() and 310 < co2.min() < co2.max() < 375
    with pytest.raises(KeyError, match="unknown series 'nile'"):
        load_series("nile")
    series = np.arange(30.0)
    last, seasonal = naive_forecasts(series, np.array([0, 5]), history=12, horizon=3, period=4)
    np.testing.assert_array_equal(last, [[11, 11, 11], [16, 16, 16]])
    np.testing.assert_array_equal(seasonal, [[8, 9, 10], [13, 14, 15]])
    assert forecast_errors([[1.0, 3.0]], [[2.0, 2.0]]) == {"rmse": 1.0, "mae": 1.0}
