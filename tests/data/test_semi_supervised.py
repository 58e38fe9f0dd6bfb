"""tinyvae.data.semi_supervised: the 50,000 / 10,000 / 10,000 split and balanced labels."""

import os

import numpy as np
import pytest

from tinyvae.data.datasets import Dataset
from tinyvae.data.semi_supervised import (
    check_labelled_set,
    labelled_subset,
    mixed_batches,
    split_mnist,
)


def fake_mnist():
    rng = np.random.default_rng(0)
    return Dataset(
        name="mnist",
        x_train=rng.random((60_000, 4), dtype=np.float32),
        y_train=rng.integers(0, 10, 60_000),
        x_test=rng.random((10_000, 4), dtype=np.float32),
        y_test=rng.integers(0, 10, 10_000),
        image_shape=(2, 2),
    )


def test_the_last_10000_training_images_are_the_validation_set():
    data = fake_mnist()
    split, y_valid = split_mnist(data)
    assert len(split.x_train) == len(split.y_train) == 50_000
    np.testing.assert_array_equal(split.x_valid, data.x_train[50_000:])
    np.testing.assert_array_equal(y_valid, data.y_train[50_000:])
    assert split.x_test is data.x_test
    with pytest.raises(ValueError, match="expected MNIST"):
        split_mnist(Dataset("frey", data.x_test, None, data.x_test, None, (2, 2)))


@pytest.mark.parametrize("n", [100, 600, 1000, 3000])
def test_labels_are_balanced_distinct_and_fixed_by_the_seed(n):
    labels = fake_mnist().y_train[:50_000]
    chosen = labelled_subset(labels, n, seed=3)
    assert len(np.unique(chosen)) == n
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=10), [n // 10] * 10)
    np.testing.assert_array_equal(chosen, labelled_subset(labels, n, seed=3))
    assert not np.array_equal(chosen, labelled_subset(labels, n, seed=4))


@pytest.mark.parametrize(
    "labels, n, error, message",
    [
        (np.arange(100) % 10, 105, ValueError, "n_labelled: expected a multiple of 10"),
        (np.arange(100) % 10, 0, ValueError, "n_labelled: expected an integer >= 10"),
        (np.arange(100) % 9, 10, ValueError, r"classes 0..9 are needed; the counts are"),
        (np.arange(100) % 11, 10, ValueError, "classes 0..9"),
        (np.arange(100.0) % 10, 10, TypeError, "labels: expected a 1-D integer array"),
    ],
)
def test_impossible_subsets_are_refused(labels, n, error, message):
    with pytest.raises(error, match=message):
        labelled_subset(labels, n)


@pytest.mark.skipif(not os.environ.get("TINYVAE_DATA"), reason="set TINYVAE_DATA to MNIST")
def test_on_real_mnist():
    from tinyvae.data.datasets import load_dataset

    split, _ = split_mnist(load_dataset("mnist"))
    chosen = labelled_subset(split.y_train, 100)
    np.testing.assert_array_equal(np.bincount(split.y_train[chosen]), [10] * 10)


def toy_labels(n=53, labelled_per_class=2, seed=0):
    """-1 everywhere but ``labelled_per_class`` rows of each of the 10 classes."""
    rng = np.random.default_rng(seed)
    labels = np.full(n, -1)
    rows = rng.choice(n, 10 * labelled_per_class, replace=False)
    labels[rows] = np.repeat(np.arange(10), labelled_per_class)
    return labels


def test_mixed_batches_visit_every_unlabelled_row_once_with_labelled_rows_in_turn():
    labels = toy_labels()
    x = np.arange(len(labels))[:, None].astype(np.float32)  # each row holds its index
    epoch = list(mixed_batches(x, labels, 8, 5, np.random.default_rng(1)))
    unlabelled = np.flatnonzero(labels < 0)
    assert len(epoch) == -(-len(unlabelled) // 8)
    seen_unlabelled, seen_labelled = [], []
    for xb, yb in epoch:
        np.testing.assert_array_equal(yb, labels[xb[:, 0].astype(int)])  # rows keep their label
        assert (yb[:5] >= 0).all() and (yb[5:] == -1).all()  # 5 labelled rows first
        seen_labelled += xb[:5, 0].astype(int).tolist()
        seen_unlabelled += xb[5:, 0].astype(int).tolist()
    assert sorted(seen_unlabelled) == unlabelled.tolist()
    counts = np.bincount(seen_labelled, minlength=len(labels))[labels >= 0]
    assert counts.max() - counts.min() <= 1  # the labelled set is cycled evenly


def test_mixed_batches_are_fixed_by_the_rng_and_drop_last_drops():
    labels = toy_labels()
    x = np.arange(len(labels))[:, None].astype(np.float32)
    first = [b[0] for b in mixed_batches(x, labels, 8, 5, np.random.default_rng(3))]
    again = [b[0] for b in mixed_batches(x, labels, 8, 5, np.random.default_rng(3))]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    dropped = list(mixed_batches(x, labels, 8, 5, np.random.default_rng(3), drop_last=True))
    assert len(dropped) == (labels < 0).sum() // 8 and all(len(b[0]) == 13 for b in dropped)


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1]), ValueError, "no example of class 9"),
        (np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), ValueError, "every row is labelled"),
        (np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, -1]), ValueError, r"expected 0..9, or -1"),
        (np.arange(10.0), TypeError, "1-D integer array"),
    ],
)
def test_impossible_labelled_sets_are_refused(labels, error, message):
    with pytest.raises(error, match=message):
        check_labelled_set(labels)
