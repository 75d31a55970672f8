"""The MNIST family: MNIST, Fashion-MNIST and Kuzushiji-MNIST, as array datasets.

Each has 60,000 training and 10,000 test images of 28x28 grey pixels and 10
classes, in four IDX files with official names and checksums (below). The files
are found or fetched by ``sources.locate``; images come out as float32 in [0, 1]
with shape (N, 1, 28, 28) (the course's first normalization, rescaling), labels
as int64.
"""
import numpy as np

from .dataset import ArrayDataset
from .idx import parse_idx
from .sources import DatasetSpec, FileSpec, locate, verified_content

_IDX_NAMES = {"train_images": "train-images-idx3-ubyte.gz",
              "train_labels": "train-labels-idx1-ubyte.gz",
              "test_images": "t10k-images-idx3-ubyte.gz",
              "test_labels": "t10k-labels-idx1-ubyte.gz"}


def _files(archive_md5, content_md5=None):
    content_md5 = content_md5 or {}
    return {role: FileSpec(name, archive_md5[role], content_md5.get(role))
            for role, name in _IDX_NAMES.items()}


SPECS = {
    "mnist": DatasetSpec(
        name="mnist",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        files=_files(
            {"train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
             "test_images": "9fb629c4189551a2d022fa330f9573f3",
             "test_labels": "ec29112dd5afa0611ce80d1b7f02629c"},
            {"train_images": "6bbc9ace898e44ae57da46a324031adb",
             "train_labels": "a25bea736e30d166cdddb491f175f624",
             "test_images": "2646ac647ad5339dbf082846283269ea",
             "test_labels": "27ae3e4e09519cfbb04c329615203637"}),
        classes=tuple(str(d) for d in range(10))),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        files=_files(
            {"train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
             "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
             "test_images": "bef4ecab320f06d8554ea6380940ec79",
             "test_labels": "bb300cfdad3c16e7a12a480ee83cd310"},
            {"train_images": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
             "train_labels": "9018921c3c673c538a1fc5bad174d6f9",
             "test_images": "8181f5470baa50b63fa0f6fddb340f0a",
             "test_labels": "15d484375f8d13e6eb1aabb0c3f46965"}),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
        install_hint="On Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist "
                     "(installs the files in /usr/share/datasets/fashion-mnist/).",
        aliases=("fashion_mnist", "fashionmnist")),
    "kmnist": DatasetSpec(
        name="kmnist",
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        files=_files(
            {"train_images": "bdb82020997e1d708af4cf47b453dcf7",
             "train_labels": "e144d726b3acfaa3e44228e80efcd344",
             "test_images": "5c965bf0a639b31b8f53240b1b52f4d7",
             "test_labels": "7320c461ea6c1c855c0b718fb2a4b134"}),
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


def spec_for(name):
    key = name.lower()
    for spec in SPECS.values():
        if key == spec.name or key in spec.aliases:
            return spec
    raise KeyError(f"unknown dataset {name!r}; known: {', '.join(SPECS)}")


def load_idx_pair(name, train=True, root=None, download=True):
    """(images uint8 (N, H, W), labels int64 (N,)) of a split, verified."""
    spec = spec_for(name)
    split = "train" if train else "test"
    arrays = []
    for role in (f"{split}_images", f"{split}_labels"):
        path = locate(spec, role, root, download)
        arrays.append(parse_idx(verified_content(path, spec.files[role]), str(path)))
    images, labels = arrays
    if len(images) != len(labels):
        raise ValueError(f"{spec.name} {split}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def register_dataset(spec):
    """Make an IDX dataset (a :class:`DatasetSpec`) available by name."""
    SPECS[spec.name] = spec
    return spec


class IDXClassification(ArrayDataset):
    """A split of an IDX image-classification dataset (the MNIST family by default).

    ``ds[i] = (image (1, H, W) float32 in [0, 1], label int64)``; ``ds.images``,
    ``ds.labels``, ``ds.classes``; ``ds.raw_images`` keeps the original bytes.
    """

    dataset_name = "mnist"

    def __init__(self, root=None, train=True, download=True, name=None):
        name = name or self.dataset_name
        images, labels = load_idx_pair(name, train, root, download)
        self.name = spec_for(name).name
        self.classes = spec_for(name).classes
        self.raw_images = images
        scaled = images.astype(np.float32)
        scaled *= np.float32(1 / 255)
        super().__init__(scaled[:, None, :, :], labels)
        bad = (labels < 0) | (labels >= len(self.classes))
        if bad.any():
            raise ValueError(f"{self.name}: label {labels[bad][0]} is outside the "
                             f"{len(self.classes)} classes")

    @property
    def images(self):
        return self.arrays[0]

    @property
    def labels(self):
        return self.arrays[1]


class MNIST(IDXClassification):
    dataset_name = "mnist"


class FashionMNIST(IDXClassification):
    dataset_name = "fashion-mnist"


class KMNIST(IDXClassification):
    dataset_name = "kmnist"


def get_dataset(name, train=True, root=None, download=True):
    """The named dataset's split (``'fashion-mnist'``, ``'mnist'``, ``'kmnist'``, ...)."""
    return IDXClassification(root=root, train=train, download=download, name=name)
