"""Headless Chromium for the tests: render a page offline, dump its DOM, take a screenshot.

Chromium comes from Debian (`apt-get install chromium`; `make test` installs it when
missing). The tests fail, rather than skip, without it: CI must render the report.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Marks, once the page has loaded, how many <img> it has and how many failed to decode.
IMAGE_PROBE = """<script>window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  document.body.setAttribute("data-images", images.length);
  document.body.setAttribute("data-broken-images", broken);
});</script>"""


def chromium():
    """The browser's path, or a test failure that says how to install it."""
    for name in CANDIDATES:
        path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin"]))
        if path:
            return path
    pytest.fail("Chromium is needed to render the HTML report: `apt-get install -y chromium` "
                "(`make test` does it)")


def _run(browser, profile, *args):
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
               "--host-resolver-rules=MAP * ~NOTFOUND",   # offline: no host resolves
               f"--user-data-dir={profile}", *args]
    home = Path(profile) / "home"          # chromium writes caches under $HOME
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"))
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result.stdout


def render(html_path, work_dir, window=(1280, 2400)):
    """(DOM after load with the image probe's marks, screenshot path) of ``html_path``."""
    browser = chromium()
    work_dir = Path(work_dir)
    probed = work_dir / "probed.html"
    text = Path(html_path).read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    dom = _run(browser, work_dir / "profile-dom", "--dump-dom", probed.as_uri())
    shot = work_dir / "screenshot.png"
    _run(browser, work_dir / "profile-shot", f"--screenshot={shot}",
         f"--window-size={window[0]},{window[1]}", Path(html_path).resolve().as_uri())
    return dom, shot


def not_blank(screenshot):
    """Share of the pixels that differ from the most common colour, and the colour count."""
    with Image.open(screenshot) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return 1 - counts.max() / len(pixels), len(colours)
