"""``layerwise export``: checkpoints and named models to ONNX, safetensors and .npz."""
import numpy as np
import pytest

import layerwise as lw
from layerwise import optim
from layerwise.cli import main
from layerwise.io import load_state_dict, run_onnx
from layerwise.models import get_model
from layerwise.train.checkpoint import save_checkpoint

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def test_export_a_training_checkpoint(tmp_path, capsys):
    """A checkpoint as ``layerwise train`` writes it (model, optimizer, run config)."""
    offline = tmp_path
    model = get_model("seed003-cnn-bn", num_classes=3, in_channels=1, image_size=8)
    optimizer = optim.Adam(model.parameters())
    model(lw.randn(4, 1, 8, 8)).sum().backward()
    optimizer.step()
    checkpoint = str(tmp_path / "last.safetensors")
    save_checkpoint(checkpoint, model, optimizer, epoch=1, config=dict(
        model="seed003-cnn-bn", num_classes=3, in_channels=1, image_size=8))
    assert main(["export", checkpoint, "-o", str(offline / "m.onnx"), "--check"]) == 0
    text = capsys.readouterr().out
    assert "as ONNX (opset 17" in text and "input 'input' (batch, 1, 8, 8)" in text
    assert "onnxruntime agrees with layerwise" in text

    assert main(["export", checkpoint, "-o", str(offline / "w.npz")]) == 0
    weights = load_state_dict(offline / "w.npz")
    assert weights["1.num_batches_tracked"].shape == ()
    model = get_model("seed003-cnn-bn", num_classes=3, in_channels=1, image_size=8)
    model.load_state_dict(weights, strict=True)
    model.eval()
    x = np.random.default_rng(0).random((2, 1, 8, 8), np.float32)
    with lw.no_grad():
        np.testing.assert_allclose(run_onnx(offline / "m.onnx", x)[0], model(lw.tensor(x)).data,
                                   rtol=1e-4, atol=1e-5)


def test_export_a_named_model_with_weights(tmp_path, capsys):
    assert main(["export", "resnet20", "--input-size", "1,16,16", "-o",
                 str(tmp_path / "r20.npz"), "--seed", "3"]) == 0
    assert main(["export", str(tmp_path / "r20.npz"), "--model", "resnet20", "--input-size",
                 "1,16,16", "-o", str(tmp_path / "r20.safetensors")]) == 0
    assert main(["export", "resnet20", "--weights", str(tmp_path / "r20.safetensors"),
                 "--input-size", "1,16,16", "--format", "onnx", "-o",
                 str(tmp_path / "r20.model")]) == 0
    text = capsys.readouterr().out
    assert "resnet20 weights (269,434 parameters" in text and "as ONNX" in text
    a, b = load_state_dict(tmp_path / "r20.npz"), load_state_dict(tmp_path / "r20.safetensors")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "alexnet", "-o", str(tmp_path / "a.onnx")]) == 1
    assert "alexnet: image_size 28 is too small" in capsys.readouterr().err
    np.savez(tmp_path / "w.npz", x=np.zeros(2))
    assert main(["export", str(tmp_path / "w.npz"), "-o", str(tmp_path / "a.onnx")]) == 1
    assert "give --model NAME" in capsys.readouterr().err
    assert main(["export", "resnet20", "-o", str(tmp_path / "a.bin")]) == 1
    assert "give --format" in capsys.readouterr().err
    assert main(["export", "resnet20", "--weights", str(tmp_path / "w.npz"), "-o",
                 str(tmp_path / "a.npz")]) == 1
    assert "Missing key(s)" in capsys.readouterr().err
