"""The data, off the reading path: loaders, checksummed downloads, minibatches.

batching.py (minibatches, dynamic binarization) and datasets.py (load_dataset)
are what training uses; mnist.py, frey.py, binarized_mnist.py,
synthetic_digits.py and download.py are the file formats behind them.
"""

from .batching import Batches, batches, binarize
from .datasets import DATASET_NAMES, Dataset, load_dataset

__all__ = ["Batches", "DATASET_NAMES", "Dataset", "batches", "binarize", "load_dataset"]
