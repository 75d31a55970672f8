"""Datasets, batching, and image transforms."""
from . import transforms  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from .dataset import (ArrayDataset, Dataset, Subset, TensorDataset, default_collate,  # noqa: F401
                      random_split)
from .datasets import (KMNIST, MNIST, FashionMNIST, IDXClassification, get_dataset,  # noqa: F401
                       load_idx_pair, register_dataset)
from .idx import CorruptFileError, read_idx, write_idx  # noqa: F401
from .sources import DatasetNotFoundError, DatasetSpec, FileSpec  # noqa: F401
