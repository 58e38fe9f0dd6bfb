"""The data of the semi-supervised experiments: a validation split and a few labels.

Kingma, Rezende, Mohamed & Welling (2014), section 4.1, train on MNIST's
first 50,000 training images, keep the last 10,000 for validation and test
on the official 10,000; of the 50,000, only a small subset keeps its label
(100, 600, 1000 or 3000), balanced across the 10 classes. ``split_mnist``
makes that split, ``labelled_subset`` picks the labelled examples, the same
ones for the same seed.
"""

import numpy as np

from ..validation import check_int, check_rng
from .datasets import Dataset

N_TRAIN = 50_000  # the rest of MNIST's 60,000 training images is the validation set
N_CLASSES = 10


def split_mnist(data):
    """``Dataset`` with 50,000 training, 10,000 validation and 10,000 test images.

    The validation images are the last 10,000 training images, as in the
    paper; their labels are in ``y_valid`` of the returned tuple
    ``(dataset, y_valid)``.
    """
    if data.y_train is None or len(data.x_train) != 60_000:
        raise ValueError(
            f"data: expected MNIST (60,000 labelled training images), got {data.name} "
            f"with {len(data.x_train)}"
        )
    split = Dataset(
        name=data.name,
        x_train=data.x_train[:N_TRAIN],
        y_train=data.y_train[:N_TRAIN],
        x_test=data.x_test,
        y_test=data.y_test,
        image_shape=data.image_shape,
        x_valid=data.x_train[N_TRAIN:],
    )
    return split, data.y_train[N_TRAIN:]


def labelled_subset(labels, n_labelled, seed=0):
    """Indices of ``n_labelled`` examples, ``n_labelled / 10`` of each class, fixed by ``seed``.

    ``labels`` holds the class (0..9) of every training example. Each class
    contributes a random choice of its examples, drawn from
    ``np.random.default_rng(seed)``; the indices come back sorted.
    """
    n_labelled = check_int(n_labelled, "n_labelled", minimum=N_CLASSES)
    seed = check_int(seed, "seed", minimum=0)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise TypeError(f"labels: expected a 1-D integer array, got {labels.dtype} {labels.shape}")
    if n_labelled % N_CLASSES:
        raise ValueError(
            f"n_labelled: expected a multiple of {N_CLASSES} (as many of each class), "
            f"got {n_labelled}"
        )
    per_class = n_labelled // N_CLASSES
    counts = np.bincount(labels, minlength=N_CLASSES)
    if len(counts) > N_CLASSES or counts.min() < per_class:
        raise ValueError(
            f"labels: {per_class} examples of each of the classes 0..9 are needed; "
            f"the counts are {counts.tolist()}"
        )
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == k), per_class, replace=False) for k in range(10)]
    return np.sort(np.concatenate(chosen))


def check_labelled_set(labels, n_classes=N_CLASSES):
    """Training labels with -1 on unlabelled rows: every class labelled at least once,
    and at least one row unlabelled. Returns ``(labelled rows, unlabelled rows)``."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise TypeError(f"labels: expected a 1-D integer array, got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < -1 or labels.max() >= n_classes):
        raise ValueError(
            f"labels: expected 0..{n_classes - 1}, or -1 for unlabelled rows, got values from "
            f"{labels.min()} to {labels.max()}"
        )
    labelled, unlabelled = np.flatnonzero(labels >= 0), np.flatnonzero(labels < 0)
    missing = sorted(set(range(n_classes)) - set(labels[labelled].tolist()))
    if missing:
        raise ValueError(
            f"labels: the labelled set has no example of class {', '.join(map(str, missing))}; "
            "every class needs at least one (see labelled_subset)"
        )
    if len(unlabelled) == 0:
        raise ValueError("labels: every row is labelled; mark the unlabelled rows with -1")
    return labelled, unlabelled


def mixed_batches(
    x, labels, batch_size, labelled_batch_size, rng, drop_last=False, n_classes=N_CLASSES
):
    """One epoch of batches, each ``labelled_batch_size`` labelled rows then unlabelled ones.

    ``labels`` gives each row of ``x`` its class, or -1 if it is unlabelled.
    An epoch is one pass over the unlabelled rows in a random order, in
    batches of ``batch_size``; every batch also gets the next
    ``labelled_batch_size`` labelled rows from a sequence of random
    permutations of the labelled set, so the few labelled examples are seen
    in every batch. Yields ``(x_batch, labels_batch)``. All the epoch's
    random order is drawn from ``rng`` when this is called. ``n_classes`` is
    the number of classes the labels range over.
    """
    labelled, unlabelled = check_labelled_set(labels, n_classes)
    batch_size = check_int(batch_size, "batch_size")
    labelled_batch_size = check_int(labelled_batch_size, "labelled_batch_size")
    check_rng(rng, "mixed_batches")
    n_u = len(unlabelled)
    stop = n_u - n_u % batch_size if drop_last else n_u
    steps = -(-stop // batch_size)
    order = rng.permutation(unlabelled)
    repeats = -(-(steps * labelled_batch_size) // len(labelled))
    labelled_order = np.concatenate([rng.permutation(labelled) for _ in range(repeats)])

    def epoch():
        for step in range(steps):
            rows = np.concatenate(
                [
                    labelled_order[step * labelled_batch_size : (step + 1) * labelled_batch_size],
                    order[step * batch_size : min((step + 1) * batch_size, stop)],
                ]
            )
            yield x[rows], labels[rows]

    return epoch()
