"""One entry point for the datasets the demos use.

``load_dataset(name)`` returns a :class:`Dataset`: training and test images
flattened to vectors of grey levels in [0, 1] (float32), which is what a
VAE with a fully connected encoder and a Bernoulli decoder consumes, and
integer labels (used by the semi-supervised models and for plots).

Available datasets:

* ``"synthetic"`` (the default): digits rendered from fonts and randomly
  deformed by tinyvae itself (:mod:`tinyvae.synthetic_digits`). No network.
* ``"mnist"``: the real MNIST digits (:mod:`tinyvae.mnist`), read from
  ``data_dir`` or ``$TINYVAE_DATA`` or the cache, downloaded if missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .mnist import load_mnist
from .synthetic_digits import load_synthetic_digits

__all__ = ["Dataset", "DATASET_NAMES", "load_dataset"]

DATASET_NAMES = ("synthetic", "mnist")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of flattened images with labels.

    x_train, x_test : float32 (N, D), grey levels in [0, 1], one image per row,
        D = prod(image_shape). Reshape a row to ``image_shape`` to display it.
    y_train, y_test : int64 (N,), the class of each image (a digit 0..9).
    image_shape : shape of one image, e.g. (28, 28).
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    image_shape: tuple[int, ...]


def _as_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) grey levels 0..255 -> float32 (N, H * W) in [0, 1]."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x /= 255  # in place: a second 188 MB array for MNIST is not needed
    return x


def load_dataset(
    name: str = "synthetic",
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    download: bool = True,
) -> Dataset:
    """Load a dataset by name (one of ``DATASET_NAMES``).

    ``seed`` chooses the synthetic digits (ignored for MNIST); ``data_dir``
    and ``download`` say where to find MNIST and whether it may be downloaded
    (ignored for the synthetic digits, which are generated and cached).
    """
    if name == "synthetic":
        x_train, y_train, x_test, y_test = load_synthetic_digits(seed=seed)
    elif name == "mnist":
        x_train, y_train, x_test, y_test = load_mnist(data_dir=data_dir, download=download)
    else:
        valid = ", ".join(map(repr, DATASET_NAMES))
        raise ValueError(f"unknown dataset {name!r}; expected one of {valid}")
    return Dataset(
        name=name,
        x_train=_as_vectors(x_train),
        y_train=y_train.astype(np.int64),
        x_test=_as_vectors(x_test),
        y_test=y_test.astype(np.int64),
        image_shape=x_train.shape[1:],
    )
