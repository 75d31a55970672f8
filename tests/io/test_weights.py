"""Weights exchange with PyTorch: state_dicts saved by PyTorch (safetensors or .npz) load
into every zoo model and give the same logits; layerwise's files load in PyTorch."""
import numpy as np
import pytest
import torch
from safetensors.torch import load_file as torch_load_file
from safetensors.torch import save_file as torch_save_file

import layerwise as lw
from layerwise import optim
from layerwise.io import (CheckpointError, load_npz, load_state_dict, save_npz,
                          save_state_dict)
from layerwise.models import resnet20
from layerwise.train.checkpoint import save_checkpoint
from tests.io.zoo_cases import CASES
from tests.models import torch_reference as ref
from tests.models.parity import assert_close


def _trained_reference(build, shape, seed=0):
    """A PyTorch reference whose batch-norm statistics have moved off their start."""
    torch.manual_seed(seed)
    model = build()
    x = torch.randn(4, *shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        model.train()
        model(x)
        model(x * 2 + 1)
    return model.eval()


# one model per family (the parity tests load PyTorch's state_dicts into all the others)
FAMILIES = ["lenet5", "alexnet", "zfnet", "vgg11_cifar", "googlenet", "resnet18", "resnet20",
            "densenet_bc"]


@pytest.mark.parametrize("name", FAMILIES)
def test_pytorch_state_dict_files_load_and_give_the_same_logits(name, tmp_path):
    build_ours, build_reference, shape = CASES[name]
    reference = _trained_reference(build_reference, shape)
    state = reference.state_dict()
    torch_save_file({k: v.contiguous() for k, v in state.items()}, tmp_path / "w.safetensors")
    np.savez(tmp_path / "w.npz", **{k: v.numpy() for k, v in state.items()})
    x = np.random.default_rng(1).standard_normal((2,) + shape).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x))
    ours = build_ours().eval()
    for path in (tmp_path / "w.safetensors", tmp_path / "w.npz"):
        ours.load_state_dict(load_state_dict(path), strict=True)
        with lw.no_grad():
            assert_close(ours(lw.tensor(x)), expected, f"{name} logits from {path.suffix}")


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_layerwise_files_load_in_pytorch(suffix, tmp_path):
    ours = resnet20(in_channels=1)
    ours.train()
    ours(lw.randn(4, 1, 16, 16))  # move the running statistics
    ours.eval()
    path = save_state_dict(ours, tmp_path / f"r20{suffix}")
    state = torch_load_file(path) if suffix == ".safetensors" else \
        {k: torch.from_numpy(v) for k, v in np.load(path, allow_pickle=False).items()}
    reference = ref.CifarResNet(20, 10, 1)
    reference.load_state_dict(state, strict=True)
    reference.eval()
    x = np.random.default_rng(2).standard_normal((2, 1, 16, 16)).astype(np.float32)
    with lw.no_grad(), torch.no_grad():
        assert_close(ours(lw.tensor(x)), reference(torch.from_numpy(x)), "logits")
    assert state["bn1.num_batches_tracked"].shape == ()


def test_npz_refuses_pickles_and_reports_damage(tmp_path):
    np.savez(tmp_path / "evil.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled objects"):
        load_npz(tmp_path / "evil.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="not a valid .npz"):
        load_npz(tmp_path / "bad.npz")
    with pytest.raises(CheckpointError, match="no such file"):
        load_state_dict(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="no metadata"):
        save_state_dict({"a": np.zeros(2)}, tmp_path / "m.npz", metadata={"k": "v"})


def test_npz_round_trip_keeps_dtypes_and_shapes(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "count": np.array(7, np.int64)}
    back = load_npz(save_npz(arrays, tmp_path / "a.npz"))
    assert set(back) == set(arrays)
    for k in arrays:
        assert back[k].dtype == arrays[k].dtype and back[k].shape == arrays[k].shape
        np.testing.assert_array_equal(back[k], arrays[k])


def test_a_training_checkpoint_loads_as_weights(tmp_path):
    model = resnet20(in_channels=1)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(lw.randn(2, 1, 8, 8)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "last.safetensors", model, optimizer, epoch=1)
    weights = load_state_dict(tmp_path / "last.safetensors")
    assert list(weights) == list(model.state_dict()) or set(weights) == set(model.state_dict())
    resnet20(in_channels=1).load_state_dict(weights, strict=True)
