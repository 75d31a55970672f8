"""`layerwise train` for char-lstm, rnn-classifier and lstm-forecaster, and `layerwise
generate`, end to end on tiny data (seconds, no network)."""
import json
import subprocess
import sys

import pytest

from layerwise.cli import main

TEXT = ("The quick brown fox jumps over the lazy dog. " * 40 +
        "Pack my box with five dozen liquor jugs.\n" * 40)


def run(*argv):
    return main(list(argv))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_char_lstm_trains_generates_and_resumes(text_file, tmp_path, capsys):
    out_dir = tmp_path / "lm"
    assert run("train", "--model", "char-lstm", "--text", str(text_file), "--epochs", "2",
               "--seq-len", "20", "--batch-size", "8", "--hidden-size", "32", "--num-layers",
               "1", "--embedding-dim", "8", "--clip-grad-value", "1.0", "--lr", "0.01",
               "--no-progress", "--out", str(out_dir)) == 0
    printed = capsys.readouterr().out
    assert "Best val bpc:" in printed and "Sample (temperature 0.8)" in printed
    results = json.loads((out_dir / "results.json").read_text())
    assert results["best_val_bpc"] < 3.5                          # log2(27 chars) = 4.75
    vocab = json.loads((out_dir / "vocab.json").read_text())
    assert vocab["kind"] == "char" and "q" in vocab["tokens"]
    for name in ("best.safetensors", "last.safetensors", "history.csv", "curves.png",
                 "sample.txt"):
        assert (out_dir / name).is_file(), name
    header = (out_dir / "history.csv").read_text().splitlines()[0]
    assert "bpc" in header and "val_bpc" in header

    assert run("generate", str(out_dir / "best.safetensors"), "--prompt", "The ", "--length",
               "30", "--seed", "1", "--top-k", "5") == 0
    first = capsys.readouterr().out
    assert first.startswith("The ") and len(first.rstrip("\n")) == 34
    run("generate", str(out_dir), "--prompt", "The ", "--length", "30", "--seed", "1",
        "--top-k", "5")
    assert capsys.readouterr().out == first                       # a seed repeats the sample

    assert run("train", "--resume", str(out_dir / "last.safetensors"), "--epochs", "3",
               "--no-progress") == 0
    assert "resuming" in capsys.readouterr().out
    rows = (out_dir / "history.csv").read_text().strip().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]


def test_word_level_language_model(text_file, tmp_path, capsys):
    out_dir = tmp_path / "words"
    assert run("train", "--model", "char-lstm", "--vocab", "word", "--min-count", "2", "--text",
               str(text_file), "--epochs", "1", "--seq-len", "8", "--batch-size", "4",
               "--hidden-size", "16", "--num-layers", "1", "--no-progress",
               "--out", str(out_dir)) == 0
    assert json.loads((out_dir / "vocab.json").read_text())["kind"] == "word"
    assert "bits per word" in capsys.readouterr().out


def test_rnn_classifier_on_a_tiny_image_dataset(tiny_dataset, offline, capsys):
    out_dir = offline / "rnn"
    assert run("train", "--model", "rnn-classifier", "--cell", "gru", "--dataset", "tiny",
               "--epochs", "6", "--hidden-size", "16", "--batch-size", "16", "--lr", "0.01",
               "--no-progress", "--out", str(out_dir)) == 0
    printed = capsys.readouterr().out
    assert "8 steps of 8 pixels" in printed and "Test accuracy:" in printed
    results = json.loads((out_dir / "results.json").read_text())
    assert results["test_accuracy"] > 0.8
    assert results["config"]["model_kwargs"]["cell"] == "gru"


def test_lstm_forecaster_beats_the_naive_baselines(tmp_path, capsys):
    out_dir = tmp_path / "forecast"
    assert run("train", "--model", "lstm-forecaster", "--series", "sunspots", "--epochs", "40",
               "--hidden-size", "32", "--no-progress", "--out", str(out_dir)) == 0
    printed = capsys.readouterr().out
    assert "| naive: last value |" in printed and "seasonal naive (period 11)" in printed
    results = json.loads((out_dir / "results.json").read_text())
    assert results["model"]["rmse"] < results["last_value"]["rmse"]
    assert results["model"]["rmse"] < results["seasonal_naive"]["rmse"]


def test_clear_errors(tmp_path, capsys):
    assert run("train", "--model", "char-lstm", "--text", str(tmp_path / "missing.txt"),
               "--no-progress") == 1
    err = capsys.readouterr().err
    assert "layerwise train: error:" in err and "missing.txt not found" in err
    assert "Traceback" not in err
    assert run("generate", str(tmp_path / "nope.safetensors")) == 1
    assert "no such checkpoint" in capsys.readouterr().err


def test_generate_refuses_a_checkpoint_that_is_not_a_language_model(tiny_dataset, offline,
                                                                    capsys):
    run("train", "--model", "mlp", "--dataset", "tiny", "--epochs", "1", "--no-progress",
        "--out", str(offline / "mlp"))
    capsys.readouterr()
    assert run("generate", str(offline / "mlp" / "last.safetensors")) == 1
    assert "does not generate text" in capsys.readouterr().err


def test_generate_has_help():
    result = subprocess.run([sys.executable, "-m", "layerwise", "generate", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "--temperature" in result.stdout
