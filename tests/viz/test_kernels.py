"""The classic kernels, computed with F.conv2d, do what their names say."""
import numpy as np
import pytest
from PIL import Image

from layerwise.cli import main
from layerwise.viz.kernels import (CLASSIC_KERNELS, apply_kernel, classic_kernel,
                                   load_grey_image, plot_kernel_grid)

rng = np.random.default_rng(0)
IMAGE = rng.random((9, 11)).astype(np.float32)
VERTICAL_EDGE = np.repeat([[0, 0, 0, 0, 1, 1, 1, 1]], 6, axis=0).astype(np.float32)


def test_the_nine_classic_kernels_are_there():
    assert set(CLASSIC_KERNELS) == {"identity", "edge-diagonal", "edge-all", "laplacian",
                                    "sharpen", "box-blur", "gaussian-blur", "sobel-x", "sobel-y"}
    assert classic_kernel("gaussian-blur").sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(classic_kernel("sharpen"),
                                  classic_kernel("identity") - classic_kernel("laplacian"))


def test_identity_returns_the_image():
    np.testing.assert_array_equal(apply_kernel(IMAGE, classic_kernel("identity")), IMAGE)
    np.testing.assert_array_equal(apply_kernel(IMAGE, classic_kernel("identity"), "valid"),
                                  IMAGE[1:-1, 1:-1])


def test_same_and_valid_sizes():
    assert apply_kernel(IMAGE, classic_kernel("box-blur")).shape == (9, 11)
    assert apply_kernel(IMAGE, classic_kernel("box-blur"), "valid").shape == (7, 9)


def test_sobel_finds_a_vertical_edge_only():
    sobel_x = apply_kernel(VERTICAL_EDGE, classic_kernel("sobel-x"), "valid")
    expected = np.zeros((4, 6))
    expected[:, 2:4] = 4          # the windows that straddle the edge: (1 + 2 + 1)·(1 - 0)
    np.testing.assert_array_equal(sobel_x, expected)
    np.testing.assert_array_equal(apply_kernel(VERTICAL_EDGE, classic_kernel("sobel-y"),
                                               "valid"), 0)


def test_flat_regions_vanish_under_edge_detectors_and_stay_under_blurs():
    flat = np.full((5, 5), 0.7, np.float32)
    for name in ("edge-diagonal", "edge-all", "laplacian"):
        np.testing.assert_allclose(apply_kernel(flat, classic_kernel(name), "valid"), 0, atol=1e-6)
    for name in ("box-blur", "gaussian-blur", "sharpen"):
        np.testing.assert_allclose(apply_kernel(flat, classic_kernel(name), "valid"), 0.7,
                                   rtol=1e-5)


def test_grid_and_cli(tmp_path, capsys):
    path = plot_kernel_grid(IMAGE, tmp_path / "grid.png")
    with Image.open(path) as picture:
        assert picture.width > 1000
    photo = tmp_path / "photo.png"
    Image.fromarray((VERTICAL_EDGE * 255).astype(np.uint8)).resize((40, 30)).save(photo)
    assert load_grey_image(photo).shape == (30, 40)
    out = tmp_path / "k.png"
    assert main(["kernels", str(photo), "-o", str(out)]) == 0
    assert out.is_file() and f"kernels: {out}" in capsys.readouterr().out
    assert main(["kernels", str(photo), "--kernels", "sobel-x,nope"]) == 1
    assert "unknown kernel 'nope'" in capsys.readouterr().err
    assert main(["kernels", str(tmp_path / "missing.png")]) == 1
    assert "no such image file" in capsys.readouterr().err
