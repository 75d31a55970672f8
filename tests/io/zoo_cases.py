"""Small instances of every architecture family, as (layerwise model, PyTorch reference,
input shape), shared by the weights-exchange and ONNX tests."""
from layerwise import models
from tests.models import torch_reference as ref

CASES = {
    "lenet5": (lambda: models.lenet5(), lambda: ref.lenet5(), (1, 28, 28)),
    "alexnet": (lambda: models.alexnet(num_classes=10, hidden_features=16),
                lambda: ref.AlexNet(10, hidden=16), (3, 64, 64)),
    "zfnet": (lambda: models.zfnet(num_classes=10, in_channels=1, hidden_features=16),
              lambda: ref.AlexNet(10, in_channels=1, hidden=16, zf=True), (1, 67, 67)),
    "vgg11_bn": (lambda: models.vgg11_bn(num_classes=10, hidden_features=16),
                 lambda: ref.VGG(ref.make_layers(ref.VGG_CFGS[11], True), 10, hidden=16),
                 (3, 32, 32)),
    "vgg11_cifar": (lambda: models.vgg11_cifar(in_channels=1), lambda: ref.CifarVGG(11, 10, 1),
                    (1, 28, 28)),
    "googlenet": (lambda: models.googlenet(num_classes=10, transform_input=True),
                  lambda: ref.GoogLeNet(10, aux_logits=False, transform_input=True),
                  (3, 40, 40)),
    "resnet18": (lambda: models.resnet18(num_classes=10),
                 lambda: ref.ResNet(*ref.RESNETS[18], 10), (3, 48, 48)),
    "resnet50": (lambda: models.resnet50(num_classes=10),
                 lambda: ref.ResNet(*ref.RESNETS[50], 10), (3, 32, 32)),
    "resnet20": (lambda: models.resnet20(in_channels=1), lambda: ref.CifarResNet(20, 10, 1),
                 (1, 28, 28)),
    "densenet121": (lambda: models.densenet121(num_classes=10),
                    lambda: ref.DenseNet(*ref.DENSENETS[121], num_classes=10), (3, 32, 32)),
    "densenet_bc": (lambda: models.densenet_bc(40, 12, in_channels=1),
                    lambda: ref.DenseNet(12, (6, 6, 6), 24, num_classes=10, in_channels=1,
                                         cifar=True), (1, 20, 20)),
}
