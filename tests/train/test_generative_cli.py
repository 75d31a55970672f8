"""`layerwise train --model vae|conv-autoencoder|gan|dcgan|rbm|dbn` and `layerwise sample`,
end to end on a tiny synthetic dataset (8x8 images, 3 classes): seconds, no network."""
import json

import pytest
from PIL import Image

from layerwise.cli import main
from layerwise.train.checkpoint import load_checkpoint


def run(*argv):
    return main(list(argv))


COMMON = ("--dataset", "tiny", "--batch-size", "32", "--no-progress")


@pytest.mark.parametrize("model,extra,pictures", [
    ("vae", ("--epochs", "2"), ("samples.png", "latent_lattice.png", "latent_map.png",
                                "reconstructions.png", "interpolation.png")),
    ("conv-autoencoder", ("--epochs", "1", "--latent-dim", "3"), ("reconstructions.png",)),
    ("denoising-autoencoder", ("--epochs", "1", "--noise", "saltpepper"), ("reconstructions.png",)),
    ("sparse-autoencoder", ("--epochs", "1", "--latent-dim", "8"), ("filters.png",)),
    ("gan", ("--epochs", "2", "--latent-dim", "4", "--hidden-units", "16,16"),
     ("training.gif", "samples.png", "samples/epoch_002.png")),
    ("rbm", ("--epochs", "2", "--hidden-units", "12", "--k", "2"), ("filters.png", "samples.png")),
])
def test_train_writes_checkpoints_pictures_and_report(tiny_dataset, offline, capsys, model, extra,
                                                      pictures):
    out_dir = offline / model
    assert run("train", "--model", model, *COMMON, *extra, "--out", str(out_dir)) == 0
    printed = capsys.readouterr().out
    assert f"Run directory: {out_dir}" in printed
    for name in ("best.safetensors", "last.safetensors", "history.csv", "results.json",
                 "report.html") + pictures:
        assert (out_dir / name).is_file(), name
    config = load_checkpoint(out_dir / "last.safetensors").config
    assert config["model"] == model and config["model_args"]["image_size"] == 8
    results = json.loads((out_dir / "results.json").read_text())
    assert results["config"]["model"] == model
    assert "data:image/png;base64" in (out_dir / "report.html").read_text()


def test_vae_results_and_sample_command(tiny_dataset, offline, capsys):
    out_dir = offline / "vae"
    run("train", "--model", "vae", *COMMON, "--epochs", "1", "--latent-dim", "3", "--out",
        str(out_dir))
    results = json.loads((out_dir / "results.json").read_text())
    assert results["test_elbo"] == pytest.approx(-(results["test_reconstruction"] +
                                                  results["test_kl"]))
    capsys.readouterr()
    png = offline / "grid.png"
    assert run("sample", str(out_dir / "last.safetensors"), "--n", "10", "-o", str(png),
               "--seed", "3") == 0
    assert "wrote 10 samples of vae" in capsys.readouterr().out
    with Image.open(png) as image:
        assert image.size[0] > 100
    assert run("sample", str(out_dir / "last.safetensors"), "--latent-dim", "2") == 1
    err = capsys.readouterr().err
    assert "--latent-dim 2 does not match the checkpoint's vae latent size 3" in err
    assert "Traceback" not in err


def test_dbn_pretrains_finetunes_and_samples(tiny_dataset, offline, capsys):
    out_dir = offline / "dbn"
    assert run("train", "--model", "dbn", *COMMON, "--epochs", "2", "--hidden-units", "16,8",
               "--labels", "200", "--out", str(out_dir)) == 0
    results = json.loads((out_dir / "results.json").read_text())
    assert results["labels_used"] == 200 and 0 <= results["test_accuracy_finetuned"] <= 1
    assert (out_dir / "finetuned_mlp.safetensors").is_file()
    assert run("sample", str(out_dir), "--n", "4", "--gibbs-steps", "10", "-o",
               str(offline / "dbn.png")) == 0


def test_dcgan_on_images_it_was_not_built_for_is_one_clear_line(tiny_dataset, offline, capsys):
    assert run("train", "--model", "dcgan", *COMMON, "--epochs", "1", "--out",
               str(offline / "dcgan")) == 1
    err = capsys.readouterr().err
    assert "dcgan: this DCGAN is built for 28x28 images, got (1, 8, 8)" in err


def test_sample_refuses_a_model_that_cannot_generate(tiny_dataset, offline, capsys):
    out_dir = offline / "ae"
    run("train", "--model", "autoencoder", *COMMON, "--epochs", "1", "--out", str(out_dir))
    capsys.readouterr()
    assert run("sample", str(out_dir / "last.safetensors")) == 1
    assert "cannot generate images" in capsys.readouterr().err
