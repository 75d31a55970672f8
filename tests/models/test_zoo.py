"""The zoo's builders: exact parameter counts, torchvision's state_dict keys and shapes,
the registry, ``summary`` at 224x224, and clear errors for unsuitable inputs."""
import io
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

import layerwise as lw
from layerwise import models
from layerwise.cli import main
from tests.models import torch_reference as ref


def count(model):
    return sum(p.data.size for p in model.parameters())


# torchvision's counts for 1000 classes (the figures, and torchvision's docs), and
# the PyTorch references whose keys and shapes the models must have
TORCHVISION_COUNTS = {
    "alexnet": (61_100_840, lambda: ref.AlexNet()),
    "vgg16": (138_357_544, lambda: ref.VGG(ref.make_layers(ref.VGG_CFGS[16]))),
    "googlenet": (6_624_904, lambda: ref.GoogLeNet(aux_logits=False)),
    "resnet18": (11_689_512, lambda: ref.ResNet(*ref.RESNETS[18])),
    "resnet50": (25_557_032, lambda: ref.ResNet(*ref.RESNETS[50])),
    "densenet121": (7_978_856, lambda: ref.DenseNet(*ref.DENSENETS[121])),
    "resnet34": (21_797_672, lambda: ref.ResNet(*ref.RESNETS[34])),
    "resnet101": (44_549_160, lambda: ref.ResNet(*ref.RESNETS[101])),
    "resnet152": (60_192_808, lambda: ref.ResNet(*ref.RESNETS[152])),
    "densenet161": (28_681_000, lambda: ref.DenseNet(*ref.DENSENETS[161])),
    "densenet169": (14_149_480, lambda: ref.DenseNet(*ref.DENSENETS[169])),
    "densenet201": (20_013_928, lambda: ref.DenseNet(*ref.DENSENETS[201])),
}


@pytest.mark.parametrize("name", list(TORCHVISION_COUNTS))
def test_parameter_counts_keys_and_shapes_equal_torchvision(name):
    expected, build = TORCHVISION_COUNTS[name]
    ours, theirs = models.get_model(name, num_classes=1000, in_channels=3), _meta(build)
    assert count(ours) == expected == sum(p.numel() for p in theirs.parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())


def test_more_parameter_counts():
    assert count(models.googlenet(aux_logits=True)) == 13_004_888
    zf_features, zf_classifier = 3_726_464, 9216 * 4096 + 4096 + 4096 * 4097 + 4097 * 1000
    assert zf_features + zf_classifier == 62_357_608  # the count in the docs
    assert count(models.zfnet(hidden_features=8)) == zf_features + 9216 * 8 + 8 + 8 * 9 + 9 * 1000
    assert count(models.lenet5()) == 61_706
    assert count(models.resnet20()) == 269_722
    assert count(models.resnet110()) == 1_727_962
    assert count(models.densenet_bc(100, 12)) == 769_162
    assert count(models.densenet_bc(190, 40)) == 25_624_430


def _meta(build):
    with torch.device("meta"):
        return build()


def _shapes(state):
    return {k: tuple(v.shape) for k, v in state.items()}


@pytest.mark.parametrize("depth", [11, 13, 16, 19])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_keys_and_counts(depth, batch_norm):
    """Every VGG: torchvision's keys and feature shapes (built with a narrow classifier,
    the standard one adds 25088*4096 + 4096*4096 + 4096*1000 weights and their biases)."""
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    ours = models.get_model(name, hidden_features=8)
    theirs = _meta(lambda: ref.VGG(ref.make_layers(ref.VGG_CFGS[depth], batch_norm)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours_shapes, their_shapes = _shapes(ours.state_dict()), _shapes(theirs.state_dict())
    assert all(ours_shapes[k] == their_shapes[k] for k in their_shapes if "classifier" not in k)
    features = [k for k, _ in theirs.named_parameters() if k.startswith("features.")]
    classifier = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    full = sum(int(np.prod(their_shapes[k])) for k in features) + classifier
    assert full == sum(p.numel() for p in theirs.parameters())
    expected = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
                "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
                "vgg19": 143_667_240, "vgg19_bn": 143_678_248}[name]
    assert full == expected


def test_googlenet_with_aux_has_torchvision_keys():
    ours = models.googlenet(aux_logits=True)
    theirs = _meta(lambda: ref.GoogLeNet(aux_logits=True))
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())


def test_registry_names():
    names = models.list_models()
    for name in ["alexnet", "zfnet", "vgg16", "vgg16-bn", "googlenet", "resnet18", "resnet152",
                 "resnet20", "densenet121", "densenet-bc", "vgg11-cifar", "lenet5"]:
        assert name in names
    model = models.get_model("VGG11_BN", num_classes=7, hidden_features=8)
    assert model.name == "vgg11-bn" and model.classifier[6].out_features == 7
    assert models.get_model("densenet_bc", depth=40, growth_rate=12).classifier.in_features == 132
    with pytest.raises(KeyError, match="unknown model 'vgg17'"):
        models.get_model("vgg17")


def test_summary_prints_the_resnet18_count_at_224():
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["summary", "resnet18", "--input-size", "3,224,224",
                     "--num-classes", "1000"]) == 0
    text = out.getvalue()
    assert "Total params: 11,689,512" in text
    assert "layer4.1.bn2 (BatchNorm2d)" in text and "(None, 512, 7, 7)" in text


def test_small_input_models_take_fashion_mnist_images():
    for name in ["resnet20", "vgg11_cifar", "densenet_bc", "resnet18", "lenet5"]:
        model = models.get_model(name, num_classes=10, in_channels=1, image_size=28)
        model.eval()
        with lw.no_grad():
            assert model(lw.zeros(2, 1, 28, 28)).shape == (2, 10), name


def test_too_small_input_is_a_clear_error():
    model = models.alexnet(num_classes=10, hidden_features=8)
    with pytest.raises(RuntimeError, match=r"alexnet: input of 28x28 pixels is too small.*"
                                           r"at least 63x63"):
        model(lw.zeros(1, 3, 28, 28))
    with pytest.raises(ValueError, match=r"googlenet: image_size 28 is too small.*31x31"):
        models.get_model("googlenet", num_classes=10, in_channels=1, image_size=28)
    with pytest.raises(ValueError, match=r"vgg16: image_size 28 .*32x32"):
        models.get_model("vgg16", num_classes=10, in_channels=1, image_size=28)


def test_wrong_channels_and_shapes_are_clear_errors():
    model = models.resnet18(num_classes=10)
    with pytest.raises(RuntimeError, match=r"resnet18: expected 3 input channels "
                                           r"\(in_channels=3\), got input of shape "
                                           r"\(2, 1, 32, 32\)"):
        model(lw.zeros(2, 1, 32, 32))
    with pytest.raises(RuntimeError, match=r"resnet18: expected a 4-D input.*\(3, 32, 32\).*"
                                           r"unsqueeze"):
        model(lw.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="transform_input needs 3 input channels"):
        models.googlenet(in_channels=1, transform_input=True)
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 4"):
        models.densenet_bc(depth=50)
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2"):
        models.CifarResNet(depth=21)
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        models.alexnet(in_channels=0)
