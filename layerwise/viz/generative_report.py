"""The HTML page of an unsupervised training run (autoencoders, VAE, GANs, RBM, DBN):
``report.html`` in the run directory, self-contained like the classifiers' report
(PNGs embedded as data: URIs; GIFs too), built from the pieces of ``viz.report``."""
import base64
import html
import json
import time
from pathlib import Path

from .report import _figure, _note, _Page, _table

__all__ = ["write_generative_report"]


def _uri(path):
    kind = "gif" if str(path).endswith(".gif") else "png"
    return f"data:image/{kind};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def write_generative_report(run_dir, config, results, figures, model_text=""):
    """Write ``run_dir/report.html``; ``figures`` is a list of (section, file name, caption)."""
    run_dir = Path(run_dir)
    page = _Page()
    metrics = [(k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in results.items()
               if not isinstance(v, (dict, list))]
    page.add("Results", _table(metrics, ("measure", "value")))
    sections = {}
    for section, name, caption in figures:
        path = run_dir / name
        body = _figure(_uri(path), name, caption) if path.is_file() else \
            _note(f"{name} was not written.")
        sections.setdefault(section, []).append(body)
    for section, bodies in sections.items():
        page.add(section, "".join(bodies))
    if model_text:
        page.add("Model", f"<pre>{html.escape(model_text)}</pre>")
    rows = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in config.items()]
    page.add("Configuration", _table(rows, ("setting", "value")))
    cards = [(label, value) for label, value in results.get("cards", [])]
    title = f"{config.get('model', 'model')} on {config.get('dataset', '?')}"
    subtitle = f"Run directory {run_dir}; report written {time.strftime('%Y-%m-%d %H:%M')} by layerwise"
    path = run_dir / "report.html"
    path.write_text(page.html(title, subtitle, cards), encoding="utf-8")
    return path
