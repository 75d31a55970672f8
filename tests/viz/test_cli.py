"""The visualization verbs end to end on a checkpoint trained on the tiny dataset (seconds)."""
import numpy as np
import pytest
from PIL import Image

from layerwise.cli import build_parser, main

VERBS = ["explain", "kernels", "filters", "feature-maps", "saliency", "receptive-field",
         "mistakes", "curves", "confusion", "report"]


def run(*argv):
    return main([str(a) for a in argv])


def test_train_writes_the_report_then_every_verb_works(tiny_dataset, offline, capsys):
    run_dir = offline / "run"
    assert run("train", "--model", "seed004-cnn", "--dataset", "tiny", "--epochs", "2",
               "--batch-size", "32", "--no-progress", "--out", run_dir) == 0
    printed = capsys.readouterr().out
    assert f"report:      {run_dir / 'report.html'}" in printed
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "seed004-cnn on tiny" in html and html.count("<img") == 6
    checkpoint = run_dir / "last.safetensors"
    viz = run_dir / "viz"

    assert run("filters", checkpoint) == 0
    assert f"filters (10): {viz / 'filters.png'}" in capsys.readouterr().out

    assert run("feature-maps", checkpoint, "test:3") == 0
    assert f"feature maps (10): {viz / 'feature_maps_test3_1_0.png'}" in capsys.readouterr().out
    picture = offline / "bright.png"
    Image.fromarray(np.full((20, 20), 230, np.uint8)).save(picture)
    assert run("feature-maps", checkpoint, picture, "--invert", "no", "-o", offline / "maps") == 0
    assert (offline / "maps" / "feature_maps_bright_1_0.png").is_file()

    assert run("saliency", checkpoint, "test:0", "--gradcam", "--target", "bright") == 0
    text = capsys.readouterr().out
    assert "explained class bright" in text and (viz / "saliency_test0.png").is_file()
    assert run("saliency", checkpoint, picture, "-o", offline / "s.png") == 0
    assert (offline / "s.png").is_file()

    assert run("receptive-field", checkpoint) == 0
    text = capsys.readouterr().out
    assert "8x8 inputs" in text and "5x5 px" in text and "6x6 px" in text
    assert run("receptive-field", "lenet5", "-o", offline / "rf.txt") == 0
    assert "16x16 px" in (offline / "rf.txt").read_text()

    for verb, name in (("mistakes", "mistakes.png"), ("curves", "curves.png"),
                       ("confusion", "confusion_matrix.png")):
        assert run(verb, checkpoint) == 0, verb
        assert str(viz / name) in capsys.readouterr().out and (viz / name).is_file()

    assert run("report", run_dir, "-o", offline / "again.html", "--example", "5") == 0
    assert f"report: {offline / 'again.html'}" in capsys.readouterr().out
    assert (offline / "again.html").read_text(encoding="utf-8").count("<img") == 6


def test_clear_errors(tiny_dataset, offline, capsys):
    run_dir = offline / "mlp"
    assert run("train", "--model", "mlp", "--dataset", "tiny", "--epochs", "1",
               "--no-progress", "--out", run_dir) == 0
    capsys.readouterr()
    checks = [(("filters", run_dir / "last.safetensors"), "has no Conv2d layer"),
              (("saliency", run_dir / "last.safetensors", "missing.png"), "no such image file"),
              (("saliency", run_dir / "last.safetensors", "test:x"), "test:N"),
              (("report", offline / "nowhere"), "no such run directory"),
              (("filters", offline / "none.safetensors"), "no such checkpoint")]
    for argv, message in checks:
        assert run(*argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([verb, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: layerwise {verb}" in capsys.readouterr().out
