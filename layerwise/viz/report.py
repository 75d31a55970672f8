"""One self-contained HTML page per training run: ``report.html`` in the run directory.

The page holds the results, the configuration, the model summary, the training
curves, the confusion matrix and per-class accuracy, the first-layer filters, the
feature maps, saliency and Grad-CAM of one test image, the receptive fields and the
most confidently wrong test images. Every picture is a PNG embedded as a base64
``data:`` URI and the style is inline CSS: no scripts, no network, one file that
opens offline and can be mailed or archived as is.
"""
import base64
import html
import io
import json
import time
from pathlib import Path

import numpy as np

from ..models import summary
from ..train.metrics import confusion_matrix
from ..train.trainer import predict
from .confusion import plot_confusion_matrix
from .curves import plot_history
from .feature_maps import feature_maps, plot_feature_map_layer
from .filters import plot_filters
from .mistakes import plot_mistakes, softmax
from .model_parts import class_name, conv_layers
from .receptive_field import format_receptive_fields, receptive_fields
from .run_files import input_size, load_run, load_test_set
from .saliency import grad_cam, plot_saliency, saliency_map

__all__ = ["write_report", "render_report", "png_data_uri"]

MAX_MAP_LAYERS = 8  # feature-map figures in a report (deep models have dozens of conv layers)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f4f5f7; color: #1d2330; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { margin-bottom: 4px; } .sub { color: #5c6370; margin-top: 0; }
section { background: white; border-radius: 8px; padding: 16px 20px; margin: 18px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { margin-top: 0; border-bottom: 1px solid #e3e5e8; padding-bottom: 6px; }
figure { margin: 12px 0; } figure img { max-width: 100%; height: auto;
          border: 1px solid #e3e5e8; }
figcaption { color: #5c6370; font-size: 0.9em; margin-top: 4px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #e3e5e8; padding: 4px 10px; text-align: left; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #eef3ff; border-radius: 8px; padding: 10px 16px; min-width: 130px; }
.card b { display: block; font-size: 1.5em; } .note { color: #8a5a00; }
nav a { margin-right: 12px; }
"""


def png_data_uri(draw):
    """Run ``draw(file)`` (a plotting function writing a PNG) into memory; the PNG as a
    ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    draw(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _file_uri(path):
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _figure(uri, alt, caption):
    return (f'<figure><img src="{uri}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _table(rows, header=None):
    head = "" if header is None else \
        "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}{body}</table>"


def _note(text):
    return f'<p class="note">{html.escape(text)}</p>'


class _Page:
    """Sections in order, each with an anchor for the table of contents."""

    def __init__(self):
        self.sections = []

    def add(self, title, body):
        self.sections.append((title, body))

    def html(self, title, subtitle, cards):
        anchors = [f"s{i}" for i in range(len(self.sections))]
        nav = " ".join(f'<a href="#{a}">{html.escape(t)}</a>'
                       for a, (t, _) in zip(anchors, self.sections))
        card_html = "".join(f'<div class="card">{html.escape(label)}<b>{html.escape(value)}</b>'
                            f"</div>" for label, value in cards)
        body = "".join(f'<section id="{a}"><h2>{html.escape(t)}</h2>{content}</section>'
                       for a, (t, content) in zip(anchors, self.sections))
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body><main>"
                f"<h1>{html.escape(title)}</h1><p class=\"sub\">{html.escape(subtitle)}</p>"
                f'<div class="cards">{card_html}</div><nav>{nav}</nav>{body}'
                f"</main></body></html>\n")


def _results_section(page, config, matrix, results):
    classes = config.get("classes") or [str(i) for i in range(config.get("num_classes", 0))]
    if matrix is not None:
        per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
        rows = [(name, f"{acc:.1%}", int(matrix[i].sum())) for i, (name, acc) in
                enumerate(zip(classes, per_class))]
        page.add("Per-class accuracy", _table(rows, ("class", "accuracy", "test images")))
    shown = {k: v for k, v in config.items() if k not in ("classes",)}
    rows = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in shown.items()]
    page.add("Configuration", _table(rows, ("setting", "value")))


def _conv_sections(page, model, config, image, label, display):
    classes = config.get("classes")
    size = input_size(config)
    if not conv_layers(model):
        page.add("Filters and feature maps", _note(
            "This model has no convolutional layers: no filters, feature maps or Grad-CAM."))
    else:
        page.add("First-layer filters", _figure(
            png_data_uri(lambda f: plot_filters(model, f)), "first-layer filters",
            "Each small square is one filter of the first conv layer; red weights are "
            "positive, blue negative. The layer's output map k is large where the input "
            "looks like filter k."))
        if image is not None:
            figures, all_maps = [], feature_maps(model, image)
            if len(all_maps) > MAX_MAP_LAYERS:
                figures.append(_note(f"The first {MAX_MAP_LAYERS} of {len(all_maps)} conv layers; "
                                     f"`layerwise feature-maps` draws them all."))
            for i, (name, maps) in enumerate(all_maps[:MAX_MAP_LAYERS], 1):
                figures.append(_figure(png_data_uri(
                    lambda f, name=name, maps=maps, i=i: plot_feature_map_layer(
                        name, maps, f, display, 32, f"Feature maps of conv layer {i} ('{name}')")),
                    f"feature maps of layer {name}",
                    f"Conv layer {i} ('{name}'): {maps.shape[0]} maps of "
                    f"{maps.shape[1]}x{maps.shape[2]} for the test image "
                    f"(true class {class_name(classes, label)})."))
            page.add("Feature maps", "".join(figures))
        try:
            table = f"<pre>{html.escape(format_receptive_fields(receptive_fields(model, size)))}"\
                    f"</pre>"
        except ValueError as err:
            table = _note(str(err))
        page.add("Receptive fields", table + "<p>How many input pixels each layer's units see; "
                 "the jump is the distance, in input pixels, between neighbouring units.</p>")
    if image is not None:
        attributions = [saliency_map(model, image)]
        if conv_layers(model):
            attributions.append(grad_cam(model, image))
        page.add("Saliency and Grad-CAM", _figure(
            png_data_uri(lambda f: plot_saliency(image, attributions, f, classes, label,
                                                 display)),
            "saliency and Grad-CAM",
            "Saliency: |∂ class score / ∂ pixel|. Grad-CAM: ReLU(Σ_k α_k A^k) on the last "
            "conv layer, α_k the mean gradient of the class score over map A^k."))


def _display_images(test_set):
    """The test images as stored (grey bytes (N, H, W)) when available, else the inputs."""
    raw = getattr(test_set, "raw_images", None)
    return raw if raw is not None and raw.ndim == 3 else test_set.images


def render_report(run_dir, model, config, history=None, test_set=None, logits=None,
                  results=None, example_index=0, source=""):
    """The report's HTML text (see :func:`write_report`)."""
    run_dir = Path(run_dir)
    page = _Page()
    size = input_size(config)
    classes = config.get("classes")
    matrix = None
    if test_set is not None and logits is None:
        logits = predict(model, test_set.images, batch_size=512)
    if test_set is not None:
        labels = np.asarray(test_set.labels)
        matrix = confusion_matrix(logits.argmax(axis=1), labels, config["num_classes"])
    page.add("Model", f"<pre>{html.escape(summary(model, size))}</pre>")
    if (run_dir / "curves.png").is_file():
        page.add("Training curves", _figure(_file_uri(run_dir / "curves.png"), "training curves",
                                            "Loss and accuracy per epoch (curves.png)."))
    elif history:
        page.add("Training curves", _figure(png_data_uri(lambda f: plot_history(history, f)),
                                            "training curves", "Loss and accuracy per epoch."))
    else:
        page.add("Training curves", _note("No training history in this run."))
    if matrix is not None:
        page.add("Confusion matrix", _figure(
            png_data_uri(lambda f: plot_confusion_matrix(matrix, classes, f)),
            "confusion matrix", "Rows: true class; columns: predicted class; colour: share "
                                "of the true class."))
    _results_section(page, config, matrix, results)
    image = label = display = None
    if test_set is not None and len(test_set):
        index = min(max(example_index, 0), len(test_set) - 1)
        image, label = test_set.images[index], int(test_set.labels[index])
        display = _display_images(test_set)[index]
    _conv_sections(page, model, config, image, label, display)
    if test_set is not None:
        probabilities = softmax(logits)
        images = _display_images(test_set)
        page.add("Most confidently wrong test images", _figure(
            png_data_uri(lambda f: plot_mistakes(images, labels, probabilities, f, classes)),
            "most confidently wrong test images",
            "Wrong predictions sorted by the probability the model gave its (wrong) answer."))
    else:
        page.add("Test set", _note("The dataset's files were not found, so the confusion "
                                   "matrix, feature maps and mistakes are left out."))
    accuracy = (results or {}).get("test_accuracy")
    if accuracy is None and matrix is not None:
        accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
    params = sum(p.data.size for p in model.parameters())
    epochs = len((history or {}).get("loss", [])) or config.get("epochs")
    cards = [("test accuracy", "n/a" if accuracy is None else f"{accuracy:.2%}"),
             ("epochs", str(epochs)), ("parameters", f"{params:,}")]
    if results and results.get("wall_seconds") is not None:
        cards.append(("training time", f"{results['wall_seconds']:.0f} s"))
    title = f"{config.get('model', 'model')} on {config.get('dataset', '?')}"
    subtitle = (f"Run directory {run_dir}{' — ' + source if source else ''}; report written "
                f"{time.strftime('%Y-%m-%d %H:%M')} by layerwise")
    return page.html(title, subtitle, cards)


def write_report(run_dir, model=None, config=None, test_set=None, logits=None, history=None,
                 checkpoint=None, data_dir=None, example_index=0, out=None):
    """Write ``report.html`` (or ``out``) for the run in ``run_dir``; returns its path.

    Given a model and config (as ``layerwise train`` does at the end of a run), uses them
    with ``test_set`` and its ``logits``; otherwise loads the run's checkpoint
    (``checkpoint``, else last.safetensors, else best.safetensors) and its dataset's
    test set (sections that need it are left out, with a note, if it cannot be found).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"no such run directory: {str(run_dir)!r}")
    source = ""
    if model is None or config is None:
        run = load_run(checkpoint or run_dir)
        model, config, history = run.model, run.config, history or run.history
        source = f"model from {run.path.name}"
        if test_set is None:
            test_set = load_test_set(config, data_dir, required=False)
    results_path = run_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else None
    text = render_report(run_dir, model, config, history, test_set, logits, results,
                         example_index, source)
    path = Path(out) if out else run_dir / "report.html"
    path.write_text(text, encoding="utf-8")
    return path
