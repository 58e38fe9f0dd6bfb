"""One entry point for the datasets the demos use.

``load_dataset(name)`` returns a :class:`Dataset`: training and test images
flattened to vectors of grey levels in [0, 1] (float32), which is what a
VAE with a fully connected encoder and a Bernoulli decoder consumes, and
integer labels where the dataset has them (used by the semi-supervised
models and for plots).

Available datasets:

* ``"synthetic"`` (the default): digits rendered from fonts and randomly
  deformed by tinyvae itself (:mod:`tinyvae.synthetic_digits`). No network.
* ``"mnist"``: the real MNIST digits (:mod:`tinyvae.mnist`), read from
  ``data_dir`` or ``$TINYVAE_DATA`` or the cache, downloaded if missing.
* ``"frey"``: Frey Face (:mod:`tinyvae.frey`), 1965 faces of 28 x 20 grey
  levels, no labels; the AEVB paper's continuous dataset. Needs SciPy.
* ``"binarized_mnist"``: Larochelle & Murray's statically binarized MNIST
  (:mod:`tinyvae.binarized_mnist`), pixels exactly 0 or 1, with a
  validation set, no labels; the benchmark of NADE and IAF.

The data files are found the same way for every real dataset: ``data_dir``,
then ``$TINYVAE_DATA`` (directly or in the dataset's subfolder), then the
cache, then a checksummed download.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field

import numpy as np

from ..validation import check_bool, check_choice, check_int

__all__ = [
    "Dataset",
    "DATASET_NAMES",
    "FREY_TEST_FRACTION",
    "FREY_SPLIT_SEED",
    "split_frey",
    "load_dataset",
]

DATASET_NAMES = ("synthetic", "mnist", "frey", "binarized_mnist")

# Frey Face comes without a test set; load_dataset holds out this fraction
# of the images, chosen by a permutation from np.random.default_rng of this
# seed. Fixed on purpose: results on "the Frey test set" must mean the same
# images whatever seed the model was trained with.
FREY_TEST_FRACTION = 0.1
FREY_SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of flattened images, with labels where there are any.

    x_train, x_test : float32 (N, D), grey levels in [0, 1], one image per row,
        D = prod(image_shape). Reshape a row to ``image_shape`` to display it.
    y_train, y_test : int64 (N,), the class of each image (a digit 0..9), or
        None for unlabelled datasets ("frey", "binarized_mnist"). Code that
        needs labels (semi-supervised models, plots coloured by class) should
        check for None.
    image_shape : shape of one image, e.g. (28, 28), or (28, 20) for Frey Face.
    x_valid : float32 (N, D), a validation set for choosing hyperparameters
        and early stopping, or None if the dataset has no official one
        (only "binarized_mnist" has).
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray | None = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray | None = field(repr=False)
    image_shape: tuple[int, ...]
    x_valid: np.ndarray | None = field(default=None, repr=False)


def _as_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) grey levels 0..255 -> float32 (N, H * W) in [0, 1]."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x /= 255  # in place: a second 188 MB array for MNIST is not needed
    return x


def split_frey(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split Frey Face into ``(train, test)`` the same way every time.

    A permutation of the image indices is drawn from
    ``np.random.default_rng(FREY_SPLIT_SEED)``; its last
    ``int(FREY_TEST_FRACTION * N)`` entries are the test images, the rest the
    training images, each in permutation order. For the 1965 faces that is
    1769 for training and 196 for test.

    The faces are frames of one video, so many test faces have a near twin
    among the training faces: the test set measures fit to this person's
    expressions, not generalization to new faces.
    """
    order = np.random.default_rng(FREY_SPLIT_SEED).permutation(len(faces))
    n_test = int(FREY_TEST_FRACTION * len(faces))
    n_train = len(faces) - n_test
    return faces[order[:n_train]], faces[order[n_train:]]


def loader(module, function):
    """``function`` of ``tinyvae.data.<module>``, imported when a dataset is first loaded:
    the digit renderer needs matplotlib and the real datasets pooch, and ``import tinyvae``
    loads neither."""
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def load_dataset(
    name: str = "synthetic",
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    download: bool = True,
) -> Dataset:
    """Load a dataset by name (one of ``DATASET_NAMES``).

    ``seed`` chooses the synthetic digits and is ignored for the real
    datasets (in particular it does not change the Frey Face split, see
    :func:`split_frey`). ``data_dir`` and ``download`` say where to find the
    real datasets and whether they may be downloaded (ignored for the
    synthetic digits, which are generated and cached).

    What each dataset gives:

    ========================  =====================  ===========  ======  ===========
    name                      train / valid / test   image_shape  labels  pixels
    ========================  =====================  ===========  ======  ===========
    ``"synthetic"``           60000 / - / 10000      (28, 28)     yes     grey levels
    ``"mnist"``               60000 / - / 10000      (28, 28)     yes     grey levels
    ``"frey"``                1769 / - / 196         (28, 20)     no      grey levels
    ``"binarized_mnist"``     50000 / 10000 / 10000  (28, 28)     no      0 or 1
    ========================  =====================  ===========  ======  ===========

    Grey levels are the stored 0..255 divided by 255.
    """
    check_choice(name, "name", DATASET_NAMES)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir: expected a folder path or None, got {data_dir!r}")
    check_bool(download, "download")
    check_int(seed, "seed", minimum=0)
    y_train = y_test = x_valid = None  # unless the dataset has them
    if name in ("synthetic", "mnist"):
        if name == "synthetic":
            load_synthetic_digits = loader("synthetic_digits", "load_synthetic_digits")
            images_train, labels_train, images_test, labels_test = load_synthetic_digits(seed=seed)
        else:
            images_train, labels_train, images_test, labels_test = loader("mnist", "load_mnist")(
                data_dir=data_dir, download=download
            )
        x_train, x_test = _as_vectors(images_train), _as_vectors(images_test)
        y_train, y_test = labels_train.astype(np.int64), labels_test.astype(np.int64)
        image_shape = images_train.shape[1:]
    elif name == "frey":
        faces = loader("frey", "load_frey")(data_dir=data_dir, download=download)
        faces_train, faces_test = split_frey(faces)
        x_train, x_test = _as_vectors(faces_train), _as_vectors(faces_test)
        image_shape = faces_train.shape[1:]
    else:  # "binarized_mnist"
        load_binarized_mnist = loader("binarized_mnist", "load_binarized_mnist")
        train, valid, test = load_binarized_mnist(data_dir=data_dir, download=download)
        # Already flat and already 0 or 1: only the dtype changes, no / 255.
        x_train, x_valid, x_test = (part.astype(np.float32) for part in (train, valid, test))
        image_shape = (28, 28)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        image_shape=image_shape,
        x_valid=x_valid,
    )
