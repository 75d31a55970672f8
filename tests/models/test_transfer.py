"""Transfer learning helpers: freezing, new heads, parameter groups, the three strategies."""
import numpy as np
import pytest

import layerwise as lw
import layerwise.nn.functional as F
from layerwise import models, optim
from layerwise.models import (freeze, head_name, parameter_groups, prepare_transfer,
                              replace_head, trainable_parameters, unfreeze)


def _snapshot(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _train_step(model, optimizer, classes, shape=(4, 1, 12, 12), seed=0):
    x = lw.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
    y = lw.tensor(np.arange(shape[0]) % classes)
    model.train()
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_freeze_and_unfreeze_by_prefix():
    model = models.resnet20(in_channels=1)
    frozen = freeze(model, ["conv1", "layer1"])
    assert "conv1.weight" in frozen and "layer1.2.bn2.bias" in frozen
    assert all(not p.requires_grad for n, p in model.named_parameters()
               if n.startswith(("conv1.", "layer1.")))
    assert all(p.requires_grad for n, p in model.named_parameters() if n.startswith("layer2."))
    unfreeze(model, "layer1.0")
    assert model.layer1[0].conv1.weight.requires_grad
    assert not model.layer1[1].conv1.weight.requires_grad
    freeze(model)
    assert trainable_parameters(model) == []
    with pytest.raises(KeyError, match=r"no submodule or parameter named 'layer9'.*conv1, bn1"):
        freeze(model, "layer9")


def test_frozen_batch_norm_keeps_its_statistics_while_the_rest_trains():
    model = models.resnet20(in_channels=1, num_classes=3)
    freeze(model, ["conv1", "bn1", "layer1", "layer2"])
    optimizer = optim.SGD(trainable_parameters(model), lr=0.1)
    before = _snapshot(model)
    _train_step(model, optimizer, 3)
    after = _snapshot(model)
    for key in before:
        same = np.array_equal(before[key], after[key])
        if key.startswith(("conv1", "bn1", "layer1", "layer2")):
            assert same, f"{key} changed although frozen"
        elif key.endswith(("weight", "running_mean")) and "layer3" in key or key == "fc.bias":
            assert not same, f"{key} did not change"
    assert model.bn1.training  # eval only during its own forward
    unfreeze(model)
    _train_step(model, optim.SGD(model.parameters(), lr=0.1), 3)
    assert not np.array_equal(model.bn1.running_mean.data, after["bn1.running_mean"])


@pytest.mark.parametrize("build, head", [
    (lambda: models.resnet18(num_classes=10), "fc"),
    (lambda: models.alexnet(num_classes=10, hidden_features=8), "classifier.6"),
    (lambda: models.densenet_bc(40, 12), "classifier"),
    (lambda: models.lenet5(), "11"),
    (lambda: models.googlenet(num_classes=10, aux_logits=True), "fc"),
])
def test_replace_head(build, head):
    model = build()
    keys = list(model.state_dict())
    assert head_name(model) == head
    old = model.get_submodule(head)
    new = replace_head(model, 4)
    assert model.get_submodule(head) is new and new is not old
    assert new.out_features == 4 and new.in_features == old.in_features
    assert list(model.state_dict()) == keys  # same keys, same order
    if getattr(model, "aux1", None) is not None:
        assert model.aux1.fc2.out_features == model.aux2.fc2.out_features == 4


def test_parameter_groups_with_their_own_learning_rates():
    model = models.alexnet(num_classes=5, hidden_features=8)
    freeze(model, "features.0")
    groups = parameter_groups(model, {"features": 1e-4, "classifier": 1e-2,
                                      "classifier.6": 1e-1})
    by_name = {g["name"]: g for g in groups}
    assert [g["lr"] for g in groups] == [1e-4, 1e-2, 1e-1]
    assert len(by_name["classifier.6"]["params"]) == 2 and len(by_name["classifier"]["params"]) == 4
    assert all(p is not model.features[0].weight for p in by_name["features"]["params"])
    optimizer = optim.SGD(groups, lr=0.5)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-4, 1e-2, 1e-1]
    with pytest.raises(ValueError, match="no learning rate for classifier.1.weight"):
        parameter_groups(model, {"features": 1e-4})
    assert parameter_groups(model, {"features": 1e-4}, default_lr=1e-3)[-1]["name"] == "default"


def test_the_three_strategies():
    model = models.resnet20(in_channels=1, num_classes=5)
    groups = prepare_transfer(model, 3, "freeze_features", lr=0.01)
    assert model.fc.out_features == 3
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert len(groups) == 1 and groups[0]["lr"] == 0.01

    prepare_transfer(model, 3, "train_some", trainable=["layer3"], new_head=False)
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"layer3", "fc"}
    prepare_transfer(model, 3, "train_some", trainable=2, new_head=False)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["layer3.2.conv2.weight", "layer3.2.bn2.weight", "layer3.2.bn2.bias",
                         "fc.weight", "fc.bias"]

    groups = prepare_transfer(model, 3, "train_all", lr=0.01, new_head=False)
    assert [(g["name"], g["lr"]) for g in groups] == [("fc", 0.01), ("default", 0.001)]
    assert all(p.requires_grad for p in model.parameters())

    alexnet = models.alexnet(num_classes=10, hidden_features=8)
    prepare_transfer(alexnet, 2, "freeze_features")
    assert {n.split(".")[0] for n, p in alexnet.named_parameters() if p.requires_grad} == \
        {"classifier"}
    with pytest.raises(ValueError, match="needs trainable="):
        prepare_transfer(alexnet, 2, "train_some")
    with pytest.raises(ValueError, match="strategy must be one of"):
        prepare_transfer(alexnet, 2, "train_everything")


def test_feature_extraction_trains_only_the_head():
    model = models.resnet20(in_channels=1, num_classes=5)
    groups = prepare_transfer(model, 2, "freeze_features", lr=0.1)
    before = _snapshot(model)
    _train_step(model, optim.SGD(groups), 2)
    changed = {k for k, v in _snapshot(model).items() if not np.array_equal(v, before[k])}
    assert changed == {"fc.weight", "fc.bias"}
