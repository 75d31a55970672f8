"""The HTML report: every picture embedded, and it renders in a real headless browser."""
import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

import layerwise as lw
from layerwise.models import get_model
from layerwise.train.checkpoint import save_checkpoint
from layerwise.viz.report import write_report
from tests.viz import browser

CLASSES = ["dark", "medium", "bright"]
SIZE = 16


class ArrayTestSet:
    """What the report needs of a test set: images, labels, raw bytes to display."""

    def __init__(self, n=48, seed=0):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 3, n)
        raw = rng.integers(0, 60, (n, SIZE, SIZE)) + self.labels[:, None, None] * 90
        self.raw_images = raw.astype(np.uint8)
        self.images = (self.raw_images[:, None] / 255).astype(np.float32)

    def __len__(self):
        return len(self.labels)


CONFIG = {"model": "seed004-cnn", "dataset": "tiny", "num_classes": 3, "in_channels": 1,
          "image_size": SIZE, "classes": CLASSES, "normalization": {"mean": None, "std": None},
          "epochs": 2, "lr": 0.001}
HISTORY = {"loss": [1.0, 0.7], "accuracy": [0.5, 0.7], "val_loss": [0.9, 0.8],
           "val_accuracy": [0.55, 0.6]}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    lw.manual_seed(0)
    model = get_model("seed004-cnn", num_classes=3, in_channels=1, image_size=SIZE)
    save_checkpoint(run_dir / "last.safetensors", model, config=CONFIG,
                    history={"epochs": [1, 2], "history": HISTORY})
    path = write_report(run_dir, model, CONFIG, ArrayTestSet(), history=HISTORY)
    return run_dir, path


def images_of(html):
    return re.findall(r'<img src="([^"]*)" alt="([^"]*)"', html)


def test_report_embeds_every_picture(report):
    run_dir, path = report
    assert path == run_dir / "report.html"
    html = path.read_text(encoding="utf-8")
    for title in ("Model", "Training curves", "Confusion matrix", "Per-class accuracy",
                  "First-layer filters", "Feature maps", "Receptive fields",
                  "Saliency and Grad-CAM", "Most confidently wrong test images"):
        assert f"<h2>{title}</h2>" in html, title
    assert "Total params:" in html                   # the model summary
    images = images_of(html)
    # curves, confusion matrix, filters, feature maps of the one conv layer, saliency, mistakes
    assert len(images) == html.count("<img") == 6
    for source, alt in images:
        assert source.startswith("data:image/png;base64,") and alt
        with Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))) as picture:
            assert picture.format == "PNG" and picture.width > 100
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_report_renders_in_headless_chromium(report, tmp_path):
    _, path = report
    dom, screenshot = browser.render(path, tmp_path)
    assert 'data-images="6"' in dom and 'data-broken-images="0"' in dom
    assert "seed004-cnn on tiny" in dom
    share, colours = browser.not_blank(screenshot)
    with Image.open(screenshot) as shot:
        assert shot.size == (1280, 2400)
    assert share > 0.05 and colours > 50            # text, cards and pictures, not a blank page


def test_report_from_the_run_directory_alone(report, tmp_path, offline):
    run_dir, _ = report
    out = write_report(run_dir, out=tmp_path / "again.html")   # loads last.safetensors
    html = out.read_text(encoding="utf-8")
    assert "model from last.safetensors" in html
    assert "dataset&#x27;s files were not found" in html        # 'tiny' is not registered here
    assert "<h2>First-layer filters</h2>" in html and len(images_of(html)) == 2


def test_report_of_a_model_without_convolutions(tmp_path):
    config = dict(CONFIG, model="mlp")
    model = get_model("mlp", num_classes=3, in_channels=1, image_size=SIZE)
    html = write_report(tmp_path, model, config, ArrayTestSet()).read_text(encoding="utf-8")
    assert "no convolutional layers" in html and "<h2>Saliency and Grad-CAM</h2>" in html
