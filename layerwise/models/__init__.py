"""The model zoo: the seeds' networks and the classic architectures.

LeNet-5, AlexNet, ZF Net, VGG, GoogLeNet, ResNet and DenseNet with torchvision's module
names and state_dict keys (``docs/models.md`` has the table of parameter counts), their
small-input variants (CIFAR ResNets, VGG and DenseNet-BC for 28x28 / 32x32 images), and
the transfer-learning helpers (``freeze``, ``replace_head``, ``parameter_groups``...).
"""
from .autoencoder import (Autoencoder, ConvAutoencoder, DenoisingAutoencoder,  # noqa: F401
                          SparseAutoencoder)
from .alexnet import AlexNet, ZFNet, alexnet, zfnet  # noqa: F401
from .densenet import (DenseNet, densenet121, densenet161, densenet169,  # noqa: F401
                       densenet201, densenet_bc)
from .dbm import DBM  # noqa: F401
from .dbn import DBN  # noqa: F401
from .fid import ClassifierFID, frechet_distance  # noqa: F401
from .gan import GAN, dcgan, mlp_gan  # noqa: F401
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet  # noqa: F401
from .lenet import lenet5  # noqa: F401
from .registry import MODELS, get_model, list_models, register_model  # noqa: F401
from .rbm import RBM  # noqa: F401
from .rbm_sklearn import BernoulliRBM  # noqa: F401
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50  # noqa: F401
from .resnet import resnet101, resnet152  # noqa: F401
from .resnet_cifar import (CifarResNet, resnet20, resnet32, resnet44, resnet56,  # noqa: F401
                           resnet110)
from .seeds import mlp, seed003_cnn, seed003_cnn_bn, seed004_cnn  # noqa: F401
from .summary import summary  # noqa: F401
from .transfer import (freeze, head_name, parameter_groups, prepare_transfer,  # noqa: F401
                       replace_head, set_batchnorm_eval, trainable_parameters, unfreeze)
from .vae import VAE  # noqa: F401
from .vgg import (VGG, CifarVGG, vgg11, vgg11_bn, vgg11_cifar, vgg13, vgg13_bn,  # noqa: F401
                  vgg13_cifar, vgg16, vgg16_bn, vgg16_cifar, vgg19, vgg19_bn, vgg19_cifar)
