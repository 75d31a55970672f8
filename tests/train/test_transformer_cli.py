"""`layerwise train` for gpt-mini, seq2seq and text-classifier, and `layerwise generate`
with a gpt-mini checkpoint (cache or not, top-p), end to end on tiny data."""
import json
import math

import pytest

from layerwise.cli import main

TEXT = ("The cat sat on the mat. The dog sat on the log. A bird sang in the tree.\n" * 40)


def run(*argv):
    return main([str(a) for a in argv])


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _tiny_gpt(text_file, out_dir, *extra):
    return run("train", "--model", "gpt-mini", "--text", text_file, "--epochs", 2,
               "--block-size", 16, "--d-model", 16, "--num-layers", 1, "--nhead", 2,
               "--batch-size", 16, "--lr", "3e-3", "--no-progress", "--out", out_dir, *extra)


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_gpt_mini_trains_generates_and_resumes(text_file, tmp_path, capsys, tokenizer):
    out_dir = tmp_path / "gpt"
    extra = ("--tokenizer", tokenizer) + (("--vocab-size", 300) if tokenizer == "bpe" else ())
    assert _tiny_gpt(text_file, out_dir, *extra) == 0
    printed = capsys.readouterr().out
    assert "Best val loss" in printed and "Sample (temperature 0.8" in printed
    results = json.loads((out_dir / "results.json").read_text())
    vocab = results["config"]["model_kwargs"]["vocab_size"]
    assert results["epochs"] == 2 and results["best_val_loss"] < math.log(vocab)  # learned
    for name in ("best.safetensors", "last.safetensors", "tokenizer.json", "sample.txt"):
        assert (out_dir / name).is_file()

    assert run("generate", out_dir, "--prompt", "The ", "--length", 20, "--temperature", 0) == 0
    greedy = capsys.readouterr().out
    assert run("generate", out_dir / "best.safetensors", "--prompt", "The ", "--length", 20,
               "--temperature", 0, "--no-cache") == 0
    assert capsys.readouterr().out == greedy and greedy.startswith("The ")
    assert run("generate", out_dir, "--prompt", "The ", "--length", 20, "--top-p", 0.9,
               "--top-k", 5, "--seed", 1) == 0
    assert capsys.readouterr().out.startswith("The ")

    assert run("train", "--resume", out_dir / "last.safetensors", "--epochs", 3,
               "--no-progress") == 0
    assert "resuming" in capsys.readouterr().out
    assert json.loads((out_dir / "results.json").read_text())["epochs"] == 3


def test_seq2seq_reports_exact_match_by_length(tmp_path, capsys):
    out_dir = tmp_path / "s2s"
    assert run("train", "--model", "seq2seq", "--arch", "gru-attention", "--task", "reverse",
               "--min-length", 2, "--max-length", 6, "--train-samples", 600, "--test-samples",
               100, "--epochs", 2, "--hidden-size", 24, "--no-progress", "--out", out_dir) == 0
    printed = capsys.readouterr().out
    assert "| input length | exact match | pairs |" in printed
    results = json.loads((out_dir / "results.json").read_text())
    assert 0 <= results["exact_match"] <= 1 and results["by_length"]


def test_text_classifier_on_fortune_files(tmp_path, monkeypatch, capsys):
    fortunes = tmp_path / "fortunes"
    fortunes.mkdir()
    topics = {"cats": "cat whiskers purr mouse", "code": "bug compiler kernel program"}
    for name, words in topics.items():
        cookies = [f"the {w} and the {words.split()[(i + 1) % 4]} today" for i, w in
                   enumerate(words.split() * 15)]
        (fortunes / name).write_text("\n%\n".join(cookies) + "\n%\n")
    monkeypatch.setenv("LAYERWISE_FORTUNES", str(fortunes))
    out_dir = tmp_path / "cls"
    assert run("train", "--model", "text-classifier", "--categories", "cats,code", "--epochs", 4,
               "--d-model", 16, "--nhead", 2, "--num-layers", 1, "--dim-feedforward", 32,
               "--min-count", 1, "--lr", "3e-3", "--batch-size", 16, "--no-progress",
               "--out", out_dir) == 0
    assert "Test accuracy:" in capsys.readouterr().out
    assert json.loads((out_dir / "results.json").read_text())["test_accuracy"] > 0.8


def test_transformer_options_have_help():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "layerwise", "train", "--help"],
                            capture_output=True, text=True)
    assert "transformers (gpt-mini, seq2seq, text-classifier)" in result.stdout
    assert "--top-p" in subprocess.run([sys.executable, "-m", "layerwise", "generate", "--help"],
                                       capture_output=True, text=True).stdout
