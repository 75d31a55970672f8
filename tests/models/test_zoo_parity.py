"""Every architecture family against its PyTorch reference holding the same weights:
logits, gradients and running statistics (small inputs, small classifier widths)."""
import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import models
from layerwise.models.vgg import VGG, make_layers
from tests.models import torch_reference as ref
from tests.models.parity import check_parity


def test_lenet5():
    check_parity(models.lenet5(), ref.lenet5(), (2, 1, 28, 28))


@pytest.mark.parametrize("local_response_norm", [False, True])
def test_alexnet(local_response_norm):
    ours = models.alexnet(num_classes=10, hidden_features=32, dropout=0.0,
                          local_response_norm=local_response_norm)
    reference = ref.AlexNet(10, dropout=0.0, hidden=32)
    if local_response_norm:  # the 2012 paper's variant: LRN after the first two ReLUs
        layers = list(reference.features)
        lrn = lambda: torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)  # noqa: E731
        reference.features = torch.nn.Sequential(*layers[:2], lrn(), *layers[2:5], lrn(),
                                                  *layers[5:])
    check_parity(ours, reference, (2, 3, 64, 64))


def test_zfnet_follows_the_paper_and_matches_torch():
    ours = models.zfnet(num_classes=10, in_channels=1, hidden_features=32, dropout=0.0)
    check_parity(ours, ref.AlexNet(10, 0.0, in_channels=1, hidden=32, zf=True), (2, 1, 64, 64))
    # the paper's feature-map sizes at 224x224: 110, 55, 26, 13, 6
    sizes, x = [], torch.zeros(1, 1, 224, 224)
    for layer in ref.AlexNet(10, in_channels=1, hidden=8, zf=True).features:
        x = layer(x)
        sizes.append(x.shape[-1])
    assert sizes[:3] == [110, 110, 55] and sizes[4] == 26 and sizes[6] == 13 and sizes[-1] == 6


@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg11_features(batch_norm):
    ours = (models.vgg11_bn if batch_norm else models.vgg11)(num_classes=10, hidden_features=16,
                                                             dropout=0.0)
    reference = ref.VGG(ref.make_layers(ref.VGG_CFGS[11], batch_norm), 10, 0.0, hidden=16)
    check_parity(ours, reference, (3, 3, 32, 32))


def test_vgg_class_with_a_small_configuration():
    cfg = [8, "M", 16, "M", 16, 16, "M", 32, "M"]
    ours = VGG(make_layers(cfg, batch_norm=True), num_classes=5, dropout=0.0, hidden_features=8)
    reference = ref.VGG(ref.make_layers(cfg, True), 5, 0.0, hidden=8, channels=32)
    check_parity(ours, reference, (2, 3, 32, 32))


def test_vgg11_cifar_on_28x28_grey_images():
    check_parity(models.vgg11_cifar(in_channels=1), ref.CifarVGG(11, 10, 1), (3, 1, 28, 28))


@pytest.mark.parametrize("depth", [18, 50])
def test_resnet(depth):
    builder = getattr(models, f"resnet{depth}")
    block, layers = ref.RESNETS[depth]
    ours, reference = builder(num_classes=10), ref.ResNet(block, layers, 10)
    check_parity(ours, reference, (2, 3, 32, 32), dtype=np.float64)
    check_parity(ours, reference, (1, 3, 32, 32), train=False)


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_cifar_resnet20(shortcut):
    ours = models.resnet20(in_channels=1, shortcut=shortcut)
    check_parity(ours, ref.CifarResNet(20, 10, 1, shortcut), (2, 1, 28, 28))


def test_googlenet_with_aux_classifiers_and_transform_input():
    ours = models.googlenet(num_classes=10, aux_logits=True, transform_input=True, dropout=0.0,
                            dropout_aux=0.0)
    reference = ref.GoogLeNet(10, aux_logits=True, transform_input=True, dropout=0.0,
                              dropout_aux=0.0)
    check_parity(ours, reference, (2, 3, 32, 32), dtype=np.float64)
    check_parity(ours, reference, (1, 3, 32, 32), train=False)


def test_googlenet_returns_named_outputs_in_training_only():
    model = models.googlenet(num_classes=4, aux_logits=True)
    x = np.zeros((2, 3, 32, 32), np.float32)
    out = model(lw.tensor(x))
    assert isinstance(out, models.GoogLeNetOutputs) and out.logits.shape == (2, 4)
    assert out.aux_logits1.shape == out.aux_logits2.shape == (2, 4)
    model.eval()
    assert model(lw.tensor(x)).shape == (2, 4)


def test_densenet121_in_eval_mode():
    growth, blocks, init = ref.DENSENETS[121]
    check_parity(models.densenet121(num_classes=10),
                 ref.DenseNet(growth, blocks, init, num_classes=10), (1, 3, 32, 32), train=False)


def test_small_densenet_in_training_mode():
    ours = models.DenseNet(8, (2, 3, 2, 2), 16, bn_size=2, num_classes=3)
    reference = ref.DenseNet(8, (2, 3, 2, 2), 16, bn_size=2, num_classes=3)
    check_parity(ours, reference, (2, 3, 64, 64), dtype=np.float64)
    check_parity(ours, reference, (2, 3, 64, 64))


def test_densenet_with_dropout_in_eval_mode():
    ours = models.DenseNet(8, (2, 2, 2), 16, bn_size=2, drop_rate=0.5, num_classes=3)
    check_parity(ours, ref.DenseNet(8, (2, 2, 2), 16, bn_size=2, drop_rate=0.5, num_classes=3),
                 (2, 3, 32, 32), train=False)


def test_densenet_bc_cifar():
    check_parity(models.densenet_bc(40, 12, in_channels=1),
                 ref.DenseNet(12, (6, 6, 6), 24, num_classes=10, in_channels=1, cifar=True),
                 (2, 1, 16, 16))
