"""The command line end to end on a tiny synthetic dataset (no network, seconds)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from layerwise.cli import build_parser, main


def run(*argv):
    return main(list(argv))


def test_train_evaluate_predict_summary_end_to_end(tiny_dataset, offline, capsys):
    out_dir = offline / "run"
    assert run("train", "--model", "mlp", "--dataset", "tiny", "--epochs", "10", "--batch-size",
               "16", "--lr", "0.01", "--no-progress", "--out", str(out_dir)) == 0
    printed = capsys.readouterr().out
    assert "Test accuracy:" in printed and str(out_dir) in printed
    for name in ("best.safetensors", "last.safetensors", "history.csv", "curves.png",
                 "confusion_matrix.png", "results.json"):
        assert (out_dir / name).is_file(), name
    results = json.loads((out_dir / "results.json").read_text())
    assert results["test_accuracy"] > 0.8 and results["epochs"] == 10

    assert run("evaluate", str(out_dir / "last.safetensors")) == 0
    text = capsys.readouterr().out
    assert f"accuracy {results['test_accuracy']:.2%}" in text

    bright = offline / "bright.png"
    Image.fromarray(np.full((8, 8), 230, np.uint8)).save(bright)
    assert run("predict", str(out_dir / "last.safetensors"), str(bright), "--invert", "no") == 0
    assert capsys.readouterr().out.startswith(f"{bright}: bright")

    assert run("summary", str(out_dir / "last.safetensors")) == 0
    assert "Total params: 49,923" in capsys.readouterr().out  # 64*256+256 + 256*128+128 + 128*3+3


def test_resume_continues_to_the_requested_epochs(tiny_dataset, offline, capsys):
    out_dir = offline / "run"
    run("train", "--model", "seed004-cnn", "--dataset", "tiny", "--epochs", "1", "--no-progress",
        "--out", str(out_dir))
    assert run("train", "--resume", str(out_dir / "last.safetensors"), "--epochs", "2",
               "--no-progress") == 0
    assert "resuming" in capsys.readouterr().out
    rows = (out_dir / "history.csv").read_text().strip().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]


def test_missing_dataset_is_one_clear_line(offline, capsys):
    assert run("train", "--dataset", "fashion-mnist", "--data-dir", str(offline / "none"),
               "--no-progress") == 1
    err = capsys.readouterr().err
    assert "layerwise train: error:" in err and "apt-get install dataset-fashion-mnist" in err
    assert "Traceback" not in err


def test_summary_of_a_named_model(capsys):
    assert run("summary", "seed003-cnn") == 0
    text = capsys.readouterr().out
    assert "Total params: 3,274,634" in text
    assert "(None, 64, 7, 7)" in text


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary"])
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "-m", "layerwise", command, "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "usage: layerwise" in result.stdout


def test_parser_defaults_are_the_main_job():
    args = build_parser().parse_args(["train"])
    assert (args.model, args.dataset, args.batch_size, args.optimizer) == \
        ("seed003-cnn", "fashion-mnist", 64, "adam")


def test_summary_of_a_language_model_traces_token_ids(capsys):
    assert run("summary", "char-lstm") == 0
    text = capsys.readouterr().out
    assert "rnn (LSTM)" in text and "(None, 16, 256)" in text and "Total params: 897,152" in text
